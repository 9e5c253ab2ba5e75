"""Celery tasks of the scoring app. They take ids and are safe to run twice.

- ``scoring.rescore_customer``: one customer, on events (AI-bot session, call outcome,
  large asset change);
- ``scoring.rescore_all``: plans a full rescoring as chunks of customer ids (one
  ``RescoreChunk`` row each) and fans them out; calling it again for the same job only
  re-sends the chunks that are not done, which is how a run resumes;
- ``scoring.rescore_chunk``: scores one chunk; acks late, so a chunk whose worker died
  is redelivered, and it is skipped once marked done (in the same transaction as its
  writes);
- ``scoring.train_model``: trains (weekly with beat, or from the model page).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from workbench.models import Job
from workbench.services import job_advance, job_create, job_finish, job_set_progress, job_start

from .models import RescoreChunk
from .scorer import Scorer

log = logging.getLogger(__name__)

RESCORE_KIND = "scoring.rescore_all"
TRAIN_KIND = "scoring.train_model"


@shared_task(name="scoring.rescore_customer", acks_late=True)
def rescore_customer(customer_id: int) -> dict | None:
    """Recompute one customer's CustomerScore (+ a lead when the grade crosses into
    high or mid). Idempotent: a second run writes the same score and no second lead."""
    from customers.models import Customer

    from .services import customer_rescore

    if not Customer.objects.filter(pk=customer_id).exists():
        return None
    result = customer_rescore(customer_id=customer_id)
    return {"score": result["score"], "grade": result["grade"], "leads": result["leads"]}


def rescore_job_create(*, actor=None, chunk_ids: int | None = None) -> Job:
    """A full-rescoring job, pinned to the scorer in force now."""
    scorer_version = None
    from .models import ModelVersion

    active = ModelVersion.objects.filter(is_active=True).values_list("pk", flat=True).first()
    scorer_version = active
    with transaction.atomic():
        job = job_create(
            actor=actor,
            kind=RESCORE_KIND,
            params={
                "model_version_id": scorer_version,
                "chunk_ids": chunk_ids or settings.WORKBENCH_SCORING_CHUNK_IDS,
                "as_of": timezone.now().isoformat(),
            },
        )
    return job


def rescore_start(*, actor=None, chunk_ids: int | None = None) -> Job:
    job = rescore_job_create(actor=actor, chunk_ids=chunk_ids)
    transaction.on_commit(lambda: rescore_all.delay(job.pk))
    return job


@shared_task(name="scoring.rescore_all", acks_late=True)
def rescore_all(job_id: int) -> int:
    """Plan (once) and dispatch the chunks of a rescoring job that are not done yet."""
    from customers.models import Customer

    job = Job.objects.get(pk=job_id)
    if job.status == Job.Status.SUCCEEDED:
        return 0
    chunk_ids = int(job.params.get("chunk_ids") or settings.WORKBENCH_SCORING_CHUNK_IDS)
    if not RescoreChunk.objects.filter(job_id=job_id).exists():
        bounds = Customer.objects.aggregate(lo=Min("id"), hi=Max("id"))
        total = Customer.objects.count()
        if bounds["lo"] is None:
            job_start(job_id=job_id, total=0)
            job_finish(job_id=job_id, result={"customers": 0, "leads": 0})
            return 0
        chunks = [
            RescoreChunk(job_id=job_id, lo=lo, hi=min(lo + chunk_ids, bounds["hi"] + 1))
            for lo in range(bounds["lo"], bounds["hi"] + 1, chunk_ids)
        ]
        RescoreChunk.objects.bulk_create(chunks, ignore_conflicts=True)
        job_start(job_id=job_id, total=total, message="")
    else:
        job_start(job_id=job_id)
    pending = list(RescoreChunk.objects.filter(job_id=job_id, done_at__isnull=True).values_list("lo", flat=True))
    for lo in pending:
        rescore_chunk.delay(job_id, lo)
    _finish_if_complete(job_id)
    return len(pending)


@shared_task(name="scoring.rescore_chunk", acks_late=True)
def rescore_chunk(job_id: int, lo: int) -> dict | None:
    from .rescoring import rescore_range

    job = Job.objects.get(pk=job_id)
    as_of = timezone.datetime.fromisoformat(job.params["as_of"]) if job.params.get("as_of") else timezone.now()
    scorer = Scorer.current(version_id=job.params.get("model_version_id"))
    with transaction.atomic():
        chunk = RescoreChunk.objects.select_for_update(skip_locked=True).filter(job_id=job_id, lo=lo).first()
        if chunk is None or chunk.done_at is not None:
            return None  # done already, or another worker holds it
        result = rescore_range(lo=chunk.lo, hi=chunk.hi, scorer=scorer, as_of=as_of, now=timezone.now())
        RescoreChunk.objects.filter(pk=chunk.pk).update(
            done_at=timezone.now(), customers=result["customers"], leads_created=result["leads"]
        )
        job_advance(job_id=job_id, by=result["customers"])
    _finish_if_complete(job_id)
    return result


def _finish_if_complete(job_id: int) -> None:
    if RescoreChunk.objects.filter(job_id=job_id, done_at__isnull=True).exists():
        return
    chunks = RescoreChunk.objects.filter(job_id=job_id)
    customers = sum(c.customers for c in chunks)
    leads = sum(c.leads_created for c in chunks)
    Job.objects.filter(pk=job_id).exclude(status=Job.Status.SUCCEEDED).update(done=customers)
    if Job.objects.filter(pk=job_id).exclude(status=Job.Status.SUCCEEDED).exists():
        job_finish(job_id=job_id, result={"customers": customers, "leads": leads})


def train_job_create(*, actor=None) -> Job:
    with transaction.atomic():
        job = job_create(actor=actor, kind=TRAIN_KIND, params={}, total=5)
        transaction.on_commit(lambda: train_model.delay(job.pk))
    return job


@shared_task(name="scoring.train_model", acks_late=True)
def train_model(job_id: int | None = None, rescore: bool = True) -> dict | None:
    """Train a new version (auto-activated only if not worse), then rescore everyone
    when the active model changed. Weekly from beat (no job), or from the model page."""
    from django.contrib.auth import get_user_model

    from .services import model_train
    from .training import NotEnoughOutcomes, class_counts

    actor = None
    if job_id is not None:
        job = Job.objects.get(pk=job_id)
        if job.is_finished:
            return job.result
        actor = get_user_model().objects.filter(pk=job.created_by_id).first()
        job_start(job_id=job_id, total=5)

    def progress(message: str, done: int) -> None:
        if job_id is not None:
            job_set_progress(job_id=job_id, done=done, message=message)

    try:
        mv, summary = model_train(actor=actor, progress=progress)
    except NotEnoughOutcomes:
        positives, negatives = class_counts()
        summary = {"error": "not_enough_outcomes", "positives": positives, "negatives": negatives}
        if job_id is not None:
            from django.utils.translation import gettext as _

            from .models import MIN_CLASS_ROWS

            job_finish(
                job_id=job_id,
                result=summary,
                error=_("Not enough outcomes to train: %(p)s positive and %(n)s negative (%(min)s of each needed).")
                % {"p": positives, "n": negatives, "min": MIN_CLASS_ROWS},
            )
        return summary
    summary.pop("features", None)
    if job_id is not None:
        job_finish(job_id=job_id, result=summary)
    if rescore and summary.get("activated"):
        rescore_start(actor=actor)
    return summary
