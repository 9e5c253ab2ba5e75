"""Shell tasks."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from .models import Notification


@shared_task(name="workbench.purge_read_notifications")
def purge_read_notifications(days: int = 90) -> int:
    """Delete notifications read more than ``days`` ago. Idempotent."""
    cutoff = timezone.now() - dt.timedelta(days=days)
    deleted, _ = Notification.objects.filter(read_at__lt=cutoff).delete()
    return deleted
