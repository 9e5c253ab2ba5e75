"""Campaign tasks: thin entry points over the services."""

from __future__ import annotations

from celery import shared_task

from .services.lifecycle import campaigns_advance_calendar


@shared_task(name="campaigns.advance_calendar", soft_time_limit=120, time_limit=150)
def advance_calendar() -> dict[str, int]:
    """Start campaigns whose start date has come, end those past their end date. Idempotent."""
    return campaigns_advance_calendar()
