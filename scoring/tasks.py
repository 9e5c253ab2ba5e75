"""Celery tasks of lead scoring: entry points that take ids and call a service.

Interactive queue (an advisor is waiting for the result):

- ``scoring.rescore_customer``: one customer, on events (AI-bot session, call outcome,
  large asset change). Retried with exponential backoff and jitter on transient
  database errors (a failover, a dropped connection, a serialization failure).

Bulk queue (``BULK_TASKS`` in ``workbench/settings.py``), so a full rescoring never
delays the customer an advisor just called:

- ``scoring.rescore_all``: plans a full rescoring as chunks of customer ids (one
  ``RescoreChunk`` row each) and fans them out; calling it again for the same job only
  re-sends the chunks that are not done, which is how a run resumes;
- ``scoring.rescore_chunk``: scores one chunk; acks late, so a chunk whose worker died
  is redelivered, and it is skipped once marked done (in the same transaction as its
  writes);
- ``scoring.train_model``: trains (weekly with beat, or from the model page);
- ``scoring.resurface_pool``: pooled leads whose grade rose go back to the queue.

All are safe to run twice. Time limits: a chunk of 100,000 ids takes about 9 s on a
million-customer PostgreSQL (features, inference, writes); the limits leave room for a
loaded machine and larger chunks (``WORKBENCH_SCORING_CHUNK_IDS``) without letting a
stuck chunk hold a worker for long.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from customers.models import Customer

from .services import scores as score_services
from .services import versions as version_services


@shared_task(
    name="scoring.rescore_customer",
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
    autoretry_for=(OperationalError,),
    retry_backoff=2,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=5,
)
def rescore_customer(customer_id: int) -> dict | None:
    """Recompute one customer's score (+ a lead when the grade crosses into high or mid).
    Idempotent: a second run writes the same score and no second lead."""
    if not Customer.objects.filter(pk=customer_id).exists():
        return None
    result = score_services.customer_rescore(customer_id=customer_id)
    return {"score": result["score"], "grade": result["grade"], "leads": result["leads"]}


@shared_task(name="scoring.rescore_all", acks_late=True, soft_time_limit=300, time_limit=360)
def rescore_all(job_id: int) -> int:
    """Plan (once) and dispatch the chunks of a rescoring job that are not done yet."""
    return score_services.rescore_dispatch(job_id=job_id)


@shared_task(name="scoring.rescore_chunk", acks_late=True, soft_time_limit=300, time_limit=360)
def rescore_chunk(job_id: int, lo: int) -> dict | None:
    """Score one chunk of a rescoring job (skipped when already done)."""
    return score_services.rescore_chunk_run(job_id=job_id, lo=lo)


@shared_task(name="scoring.train_model", acks_late=True, soft_time_limit=3600, time_limit=3700)
def train_model(job_id: int | None = None, rescore: bool = True) -> dict | None:
    """Train a new version; rescore everyone when the active model changed."""
    return version_services.train_run(job_id=job_id, rescore=rescore)


@shared_task(name="scoring.resurface_pool", acks_late=True, soft_time_limit=900, time_limit=960)
def resurface_pool(*, team_id: int | None = None, limit: int = 50_000) -> int:
    """Bring back pooled leads whose customer's current score grade rose above low."""
    return score_services.pool_resurface(team_id=team_id, limit=limit)
