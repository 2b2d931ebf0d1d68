import socket
import time

from celery import shared_task

from .models import Job, Run


@shared_task(bind=True)
def long_job(self, job_id):
    job = Job.objects.get(pk=job_id)
    job.worker = socket.gethostname()
    job.started = time.time()
    job.save()
    time.sleep(job.seconds)
    job.finished = time.time()
    job.save()


@shared_task(bind=True)
def tick(self):
    Run.objects.create(task_id=self.request.id, worker=socket.gethostname(), ran=time.time())
