"""Celery tasks of the compliance feature. Thin: they take ids and call services; all are idempotent."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(
    name="compliance.scan_communication", autoretry_for=(ConnectionError,), retry_backoff=True, retry_jitter=True
)
def scan_communication(communication_id: int) -> int:
    """Flag the hits of a stored communication snapshot (none twice)."""
    return services.communication_flag(communication_id=communication_id)


@shared_task(
    name="compliance.scan_interaction", autoretry_for=(ConnectionError,), retry_backoff=True, retry_jitter=True
)
def scan_interaction(interaction_id: int) -> int:
    """Scan the text of an interaction the customers app has just recorded."""
    return services.interaction_scan(interaction_id=interaction_id)


@shared_task(name="compliance.rescan")
def rescan(job_id: int) -> None:
    """Rescan the communications of a date range with today's lexicon, reporting progress."""
    services.rescan_run(job_id=job_id)


@shared_task(name="compliance.qa_sample_week")
def qa_sample_week(week_start: str | None = None) -> int:
    """Sample a share of each advisor's calls of last week (or of ``week_start``) for QA."""
    return services.qa_sample_week(week_start=week_start)


@shared_task(name="compliance.check_script_version")
def check_script_version(version_id: int) -> None:
    """Re-run the automatic check of a submitted version (e.g. after a lexicon change)."""
    services.script_version_check(version_id=version_id)
