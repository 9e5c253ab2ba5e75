"""Core tasks: the job sweeper and housekeeping. ``enqueue`` and ``send`` (the one way a
service queues background work) live in ``core.queueing`` and are re-exported here."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from . import services
from .models import Notification
from .queueing import enqueue, send, task_by_name

__all__ = ["enqueue", "send", "task_by_name"]


@shared_task(name="core.purge_read_notifications", soft_time_limit=300, time_limit=360)
def purge_read_notifications(days: int = 90) -> int:
    """Delete notifications read more than ``days`` ago. Idempotent."""
    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted, _ = Notification.objects.filter(read_at__lt=cutoff).delete()
    return deleted


@shared_task(name="core.sweep_jobs", soft_time_limit=120, time_limit=150)
def sweep_jobs() -> int:
    """Send again the message of every open job that has gone quiet for longer than its
    lease (its worker was killed, or the message was lost). Idempotent: a job that is
    running elsewhere refuses the duplicate."""
    return services.jobs_sweep()
