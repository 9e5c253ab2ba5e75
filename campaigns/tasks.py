"""Celery tasks of the compliance feature. Thin: they take ids and call services; all are idempotent."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(
    name="campaigns.scan_communication", autoretry_for=(ConnectionError,), retry_backoff=True, retry_jitter=True
)
def scan_communication(
    *,
    source: str,
    object_id: int,
    text: str,
    advisor_id: int | None = None,
    customer_id: int | None = None,
    occurred_at: str | None = None,
) -> int:
    """Store the communication snapshot and create one flag per hit (none twice)."""
    _comm, created = services.communication_scan(
        source=source,
        object_id=object_id,
        text=text,
        advisor_id=advisor_id,
        customer_id=customer_id,
        occurred_at=occurred_at,
    )
    return created


@shared_task(name="campaigns.rescan")
def rescan(job_id: int) -> None:
    """Rescan the communications of a date range with today's lexicon, reporting progress."""
    services.rescan_run(job_id=job_id)


@shared_task(name="campaigns.qa_sample_week")
def qa_sample_week(week_start: str | None = None) -> int:
    """Sample a share of each advisor's calls of last week (or of ``week_start``) for QA."""
    return services.qa_sample_week(week_start=week_start)


@shared_task(name="campaigns.check_script_version")
def check_script_version(version_id: int) -> None:
    """Re-run the automatic check of a submitted version (e.g. after a lexicon change)."""
    services.script_version_check(version_id=version_id)
