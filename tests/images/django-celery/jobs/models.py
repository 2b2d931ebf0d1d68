from django.db import models


class Job(models.Model):
    """Work a view enqueued: which worker did it, and when it started and finished."""

    seconds = models.FloatField()
    worker = models.CharField(max_length=100, blank=True)
    started = models.FloatField(null=True)
    finished = models.FloatField(null=True)


class Tick(models.Model):
    """A periodic task the beat sent."""

    task_id = models.CharField(max_length=64, unique=True)
    beat = models.CharField(max_length=100)
    sent = models.FloatField()


class Run(models.Model):
    """A periodic task a worker ran."""

    task_id = models.CharField(max_length=64)
    worker = models.CharField(max_length=100)
    ran = models.FloatField()
