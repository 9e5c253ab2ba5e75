"""Celery tasks of the compliance feature: entry points that load by id and call a service.

- ``compliance.scan_communication``: flag the hits of one stored communication, queued
  by ``request_scan`` once the caller's transaction commits; interactive;
- ``compliance.scan_interaction``: scan what the customers app has just recorded;
  interactive;
- ``compliance.rescan``: a date range with today's lexicon, as a ``core.Job`` with
  progress, in chunks; bulk;
- ``compliance.qa_sample_week``: the weekly QA sample (beat); bulk.

Every task is safe to run twice (flags are unique per hit, each week is sampled once, a
finished rescan job returns its result). Only transient errors (a dropped database
connection, a broker hiccup) are retried, with backoff and jitter. Queues:
``workbench/settings.py``.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from .services import qa, surveillance

TRANSIENT_ERRORS = (OperationalError, ConnectionError)
RETRY = {"autoretry_for": TRANSIENT_ERRORS, "retry_backoff": True, "retry_jitter": True, "max_retries": 5}


@shared_task(name="compliance.scan_communication", soft_time_limit=30, time_limit=60, **RETRY)
def scan_communication(communication_id: int) -> int:
    """Flag the hits of a stored communication snapshot (none twice)."""
    return surveillance.communication_flag(communication_id=communication_id)


@shared_task(name="compliance.scan_interaction", soft_time_limit=30, time_limit=60, **RETRY)
def scan_interaction(interaction_id: int) -> int:
    """Scan the text of an interaction the customers app has just recorded."""
    return surveillance.interaction_scan(interaction_id=interaction_id)


@shared_task(name="compliance.rescan", acks_late=True, soft_time_limit=3600, time_limit=3700, **RETRY)
def rescan(job_id: int) -> dict:
    """Rescan the communications of a date range with today's lexicon, reporting progress."""
    return surveillance.rescan_run(job_id=job_id)


@shared_task(name="compliance.qa_sample_week", soft_time_limit=300, time_limit=360, **RETRY)
def qa_sample_week(week_start: str | None = None) -> int:
    """Sample a share of each advisor's calls of last week (or of ``week_start``) for QA."""
    return qa.qa_sample_week(week_start=week_start)
