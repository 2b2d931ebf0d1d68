"""Celery for the project, as its documentation sets it up with Django."""
import os
import socket
import time

from celery import Celery
from celery.signals import beat_init, before_task_publish

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")

app = Celery("mysite")
app.conf.broker_url = os.environ.get("REDIS_URL", "redis://localhost:6379/0")
app.conf.worker_hijack_root_logger = False
app.conf.beat_schedule = {
    "tick": {"task": "jobs.tasks.tick", "schedule": float(os.environ.get("TICK_SECONDS", "2"))},
}
app.autodiscover_tasks(["jobs"])

BEAT = None  # this beat process, once it runs


@beat_init.connect
def started(sender=None, **kwargs):
    global BEAT
    BEAT = f"{socket.gethostname()}-{os.getpid()}-{time.time():.3f}"


@before_task_publish.connect
def record_tick(sender=None, headers=None, **kwargs):
    """The beat records each periodic task it sends: which beat, when."""
    if BEAT is None or sender != "jobs.tasks.tick":
        return
    import django

    django.setup()
    from jobs.models import Tick

    Tick.objects.create(task_id=headers["id"], beat=BEAT, sent=time.time())
