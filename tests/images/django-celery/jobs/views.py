from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .models import Job, Run, Tick
from .tasks import long_job


@csrf_exempt
def enqueue(request):
    """POST: enqueues a job of ?seconds=N for a worker."""
    job = Job.objects.create(seconds=float(request.GET.get("seconds", "1")))
    long_job.delay(job.pk)
    return JsonResponse({"id": job.pk})


def report(request):
    return JsonResponse({
        "jobs": list(Job.objects.order_by("pk").values()),
        "ticks": list(Tick.objects.order_by("sent").values("task_id", "beat", "sent")),
        "runs": list(Run.objects.order_by("ran").values("task_id", "worker", "ran")),
    })
