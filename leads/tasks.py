"""Lead tasks: thin entry points over the services."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from .capacity import call_tasks_rebalance, local_day


@shared_task(name="leads.rebalance_call_tasks", soft_time_limit=120, time_limit=150)
def rebalance_call_tasks() -> dict[str, int]:
    """Move today's campaign call tasks of absent advisors to colleagues with capacity left.
    Idempotent: a second run moves nothing more."""
    return call_tasks_rebalance(day=local_day(timezone.now()))
