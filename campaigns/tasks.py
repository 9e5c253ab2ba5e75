"""Campaign tasks: thin entry points over the services."""

from __future__ import annotations

from dataclasses import asdict

from celery import shared_task
from django.conf import settings

from .channels.dispatch import messages_dispatch
from .services.lifecycle import campaigns_advance_calendar


@shared_task(name="campaigns.advance_calendar", soft_time_limit=120, time_limit=150)
def advance_calendar() -> dict[str, int]:
    """Start campaigns whose start date has come, end those past their end date. Idempotent."""
    return campaigns_advance_calendar()


@shared_task(name="campaigns.dispatch_messages", acks_late=True, soft_time_limit=240, time_limit=270)
def dispatch_messages(message_ids: list[int] | None = None) -> dict[str, int]:
    """Send the due messages (only ``message_ids`` among them, when given) through their
    channels' adapters, for at most one beat period; what is left waits for the next
    run. Idempotent: a message is claimed under its row lock and, once sent, is no
    longer due; a run killed mid-send is recovered by the sending lease."""
    counts = messages_dispatch(ids=message_ids, budget_seconds=settings.WORKBENCH_CHANNEL_DISPATCH_SECONDS)
    return asdict(counts)
