"""The dashboards' counting: entry points that call the service."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from core.queueing import RETRY_ON_DATABASE_ERRORS

from . import services


@shared_task(name="dashboards.refresh_day", soft_time_limit=600, time_limit=660, **RETRY_ON_DATABASE_ERRORS)
def refresh_day(day: str) -> int:
    """Count one day (ISO date) again; safe to run twice (the day's rows are replaced)."""
    return services.day_refresh(day=dt.date.fromisoformat(day))


@shared_task(name="dashboards.refresh_recent", soft_time_limit=900, time_limit=960)
def refresh_recent(days: int = 2) -> int:
    """Beat, every 15 minutes: today and yesterday (late call logs and referral updates
    land on yesterday until the night is over). Idempotent."""
    today = timezone.localdate()
    return sum(services.day_refresh(day=today - dt.timedelta(days=n)) for n in range(days))
