"""Wealth-report tasks: thin entry points over the services, each idempotent and taking ids."""

from __future__ import annotations

from celery import shared_task

from .services import report_batch_chunk, report_batch_dispatch


@shared_task(name="reports.batch_dispatch", acks_late=True, soft_time_limit=300, time_limit=360)
def batch_dispatch(job_id: int) -> int:
    return report_batch_dispatch(job_id=job_id)


@shared_task(name="reports.batch_chunk", acks_late=True, soft_time_limit=900, time_limit=960)
def batch_chunk(job_id: int, lo: int) -> dict | None:
    return report_batch_chunk(job_id=job_id, lo=lo)
