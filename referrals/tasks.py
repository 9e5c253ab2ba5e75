"""Periodic work of the referral workflow: entry points that call the services."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services


@shared_task(
    name="referrals.sla_check",
    acks_late=True,
    # Beat runs it every 15 minutes on the bulk queue (settings.BULK_TASKS): a backlog of
    # 20,000 overdue referrals takes well under a minute, so ten minutes means it is stuck.
    soft_time_limit=600,
    time_limit=660,
    # A lost connection or a deadlock is worth another try soon; anything else waits for
    # the next beat. Safe to retry: every effect is recorded once (see the service).
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=3,
)
def referral_sla_check() -> dict:
    """Mark overdue referrals, notify the branch, escalate to team leads (beat, every 15 min).

    Idempotent: a breach is recorded once per referral and stage, escalation once per
    breach, notifications once per event; running it twice changes nothing more.
    """
    return services.referral_sla_check()
