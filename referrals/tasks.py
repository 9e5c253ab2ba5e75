"""Periodic work of the referral workflow: entry points that call the services."""

from __future__ import annotations

from celery import shared_task

from core.queueing import RETRY_ON_DATABASE_ERRORS

from . import services


@shared_task(
    name="referrals.sla_check",
    # Beat runs it every 15 minutes on the bulk queue (settings.BULK_TASKS): a backlog of
    # 20,000 overdue referrals takes well under a minute, so ten minutes means it is stuck.
    soft_time_limit=600,
    time_limit=660,
    # Safe to retry: every effect is recorded once (see the service).
    **RETRY_ON_DATABASE_ERRORS,
)
def referral_sla_check() -> dict:
    """Mark overdue referrals, notify the branch, escalate to team leads (beat, every 15 min).

    Idempotent: a breach is recorded once per referral and stage, escalation once per
    breach, notifications once per event; running it twice changes nothing more.
    """
    return services.referral_sla_check()
