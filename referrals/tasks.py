"""Periodic work of the referral workflow."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="referrals.sla_check", acks_late=True)
def referral_sla_check() -> dict:
    """Mark overdue referrals, notify the branch, escalate to team leads (beat, every 15 min).

    Idempotent: a breach is recorded once per referral and stage, escalation once per
    breach, notifications once per event; running it twice changes nothing more.
    """
    return services.referral_sla_check()
