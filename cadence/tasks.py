"""Cadence tasks: thin entry points over the services."""

from __future__ import annotations

from celery import shared_task

from .services import cadence_plan_calls


@shared_task(name="cadence.plan_calls", soft_time_limit=300, time_limit=360)
def plan_calls() -> dict[str, int]:
    """Plan the calls that keep customers on the 12-4-2-1 pace, within capacity.
    Idempotent: a second run plans nothing more."""
    return cadence_plan_calls()
