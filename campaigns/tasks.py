"""Campaign tasks: thin entry points over the services, each idempotent and taking ids."""

from __future__ import annotations

import time
from dataclasses import asdict

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.queueing import send

from .channels.dispatch import messages_dispatch
from .holdout import holdout_report_refresh
from .journeys.enrol import enrolment_chunk_run, enrolment_dispatch, enrolments_start_running
from .journeys.runner import journey_advance, journeys_collect_conversions
from .results import results_refresh, results_refresh_all
from .services.lifecycle import campaigns_advance_calendar
from .triggers.sweep import triggers_sweep
from .uplift import uplift_retrain_scheduled, uplift_train_run

# One run of the journey beat moves enrolments for at most this long, then the next takes over.
ADVANCE_BUDGET_SECONDS = 45


@shared_task(name="campaigns.advance_calendar", soft_time_limit=120, time_limit=150)
def advance_calendar() -> dict[str, int]:
    """Start campaigns whose start date has come, end those past their end date. Idempotent."""
    return campaigns_advance_calendar()


@shared_task(name="campaigns.enrol_dispatch", acks_late=True, soft_time_limit=300, time_limit=360)
def enrol_dispatch(job_id: int) -> int:
    return enrolment_dispatch(job_id=job_id)


@shared_task(name="campaigns.enrol_chunk", acks_late=True, soft_time_limit=300, time_limit=360)
def enrol_chunk(job_id: int, lo: int) -> dict | None:
    return enrolment_chunk_run(job_id=job_id, lo=lo)


@shared_task(name="campaigns.enrol_running", soft_time_limit=120, time_limit=150)
def enrol_running() -> int:
    """Enter new members of running segment campaigns (and those the daily limit held back)."""
    return enrolments_start_running()


@shared_task(name="campaigns.advance_journeys", soft_time_limit=55, time_limit=60)
def advance_journeys() -> dict[str, int]:
    """Record won campaign calls as conversions, then move due enrolments on, in batches,
    for up to ``ADVANCE_BUDGET_SECONDS``. Safe to run on several workers at once."""
    totals = {"converted": journeys_collect_conversions(), "moved": 0, "completed": 0, "exited": 0, "sleeping": 0}
    started = time.monotonic()
    while time.monotonic() - started < ADVANCE_BUDGET_SECONDS:
        counts = journey_advance(now=timezone.now())
        for key, value in counts.items():
            totals[key] += value
        if counts["moved"] == 0:
            break
    if totals["converted"]:  # the results pages show the new conversions soon
        transaction.on_commit(lambda: send("campaigns.refresh_results"))
    return totals


@shared_task(name="campaigns.dispatch_messages", acks_late=True, soft_time_limit=240, time_limit=270)
def dispatch_messages(message_ids: list[int] | None = None) -> dict[str, int]:
    """Send the due messages (only ``message_ids`` among them, when given) through their
    channels' adapters, for at most one beat period; what is left waits for the next
    run. Idempotent: a message is claimed under its row lock and, once sent, is no
    longer due; a run killed mid-send is recovered by the sending lease."""
    counts = messages_dispatch(ids=message_ids, budget_seconds=settings.WORKBENCH_CHANNEL_DISPATCH_SECONDS)
    return asdict(counts)


@shared_task(name="campaigns.sweep_triggers", acks_late=True, soft_time_limit=280, time_limit=300)
def sweep_triggers() -> dict[str, int | float]:
    """Enter the customers whose events the active triggers of running campaigns find.
    Idempotent per (campaign, customer, event occurrence): a rerun enters nobody new."""
    return triggers_sweep(now=timezone.now())


@shared_task(name="campaigns.refresh_results", soft_time_limit=540, time_limit=600)
def refresh_results(campaign_id: int | None = None) -> int:
    """Recompute the stored results of one campaign, or of every campaign whose figures
    may still change (the beat, and after new conversions). Idempotent: each run replaces
    the aggregates with the same figures for the same data."""
    if campaign_id is not None:
        return results_refresh(campaign_id=campaign_id, now=timezone.now())
    return results_refresh_all(now=timezone.now())


@shared_task(name="campaigns.train_uplift", acks_late=True, soft_time_limit=3600, time_limit=3700)
def train_uplift(job_id: int) -> dict | None:
    """Train the uplift model for a job, then score customers. Safe to run twice; the job
    sweeper sends it again when its worker died (``uplift_train_run`` claims the job)."""
    return uplift_train_run(job_id=job_id)


@shared_task(name="campaigns.retrain_uplift", soft_time_limit=60, time_limit=90)
def retrain_uplift() -> int | None:
    """The schedule: queue a training of the uplift model when the last one is
    ``WORKBENCH_UPLIFT_RETRAIN_DAYS`` old (the job's id, or None when none is due).
    Idempotent: a second run finds the job it queued and queues nothing."""
    job = uplift_retrain_scheduled(now=timezone.now())
    return job.pk if job is not None else None


@shared_task(name="campaigns.refresh_holdout_report", acks_late=True, soft_time_limit=900, time_limit=960)
def refresh_holdout_report() -> int:
    """Store the global-holdout report's months (the two latest each run, all once a day),
    so its page reads 24 rows. Idempotent: each run replaces the months it computes."""
    return holdout_report_refresh(now=timezone.now())
