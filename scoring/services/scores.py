"""Writes of scores: one customer's rescoring, full rescoring jobs in chunks, pooled leads coming back."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, FloatField, OuterRef, Subquery, Value
from django.db.models.functions import Floor, Greatest, Least
from django.utils import timezone

from core.models import Job
from core.services import (
    chunk_process,
    chunks_dispatch,
    chunks_finish_if_complete,
    job_create,
    job_enqueue,
)
from core.tasks import enqueue
from customers.models import Customer
from leads.models import Grade, Lead, LeadStatus
from leads.services import lead_resurface

from .. import rescoring
from ..access import require_manage_scoring
from ..features import features_for_customer
from ..models import SCORE_BINS, SCORE_BINS_PER_POINT, CustomerScore, ModelVersion, ScoreDistribution
from ..reasons import reasons_json
from ..scorer import Scorer


def customer_rescore(*, customer_id: int, scorer: Scorer | None = None, as_of: dt.datetime | None = None) -> dict:
    """Recompute one customer's score (incremental rescoring on events)."""
    scorer = scorer or Scorer.current()
    as_of = as_of or timezone.now()
    features = features_for_customer(customer_id=customer_id, as_of=as_of)
    score, grade, reasons = scorer.score_features(features)
    with transaction.atomic():
        result = rescoring.scores_write(
            [(customer_id, score, grade, reasons_json(reasons), scorer.version, scorer.method)]
        )
    return {"score": score, "grade": grade, "reasons": reasons, **result}


LARGE_ASSET_CHANGE = 0.10


def asset_change_rescore(*, customer_id: int, before: Decimal | float, after: Decimal | float) -> bool:
    """Queue an incremental rescoring (after commit) when a customer's AUM moved by 10%
    or more; for asset imports and balance feeds. Returns whether it was queued."""
    before, after = float(before or 0), float(after or 0)
    if before == after or (before and abs(after - before) / abs(before) < LARGE_ASSET_CHANGE):
        return False
    enqueue("scoring.rescore_customer", customer_id)
    return True


RESCORE_KIND = "scoring.rescore_all"


def rescore_job_create(*, actor=None, chunk_ids: int | None = None) -> Job:
    """A full-rescoring job, pinned to the scorer in force now (not yet queued)."""
    require_manage_scoring(actor)
    active = ModelVersion.objects.filter(is_active=True).values_list("pk", flat=True).first()
    with transaction.atomic():
        return job_create(
            actor=actor,
            kind=RESCORE_KIND,
            params={
                "model_version_id": active,
                "chunk_ids": chunk_ids or settings.WORKBENCH_SCORING_CHUNK_IDS,
                "as_of": timezone.now().isoformat(),
            },
        )


def rescore_start(*, actor=None, chunk_ids: int | None = None) -> Job:
    """Start a full rescoring of every customer: the job, queued after commit."""
    with transaction.atomic():
        job = rescore_job_create(actor=actor, chunk_ids=chunk_ids)
        job_enqueue(job, "scoring.rescore_all", job.pk)
    return job


RESCORE_TOTALS = ("customers", "leads")


def rescore_dispatch(*, job_id: int) -> int:
    """Plan (once) and queue the chunks of a rescoring job that are not done yet.

    Calling it again for the same job only re-sends the unfinished chunks: that is how
    a run resumes (the job sweeper calls it again for a job gone quiet). A chunk still
    being scored by a live worker is skipped by its row lock. Returns the number queued.
    """
    job = Job.objects.get(pk=job_id)
    if job.is_finished:
        return 0
    chunk_ids = int(job.params.get("chunk_ids") or settings.WORKBENCH_SCORING_CHUNK_IDS)
    running = Job.objects.filter(kind=RESCORE_KIND, status__in=(Job.Status.PENDING, Job.Status.RUNNING))
    with transaction.atomic():
        rescoring.next_table_create(job_id=job_id, keep=list(running.values_list("pk", flat=True)))
    return chunks_dispatch(
        job_id=job_id,
        task="scoring.rescore_chunk",
        totals=RESCORE_TOTALS,
        rows=Customer.objects.all,
        size=chunk_ids,
        total=Customer.objects.count,
        on_complete=lambda: _rescore_complete(job_id),
    )


def _rescore_complete(job_id: int) -> None:
    """The run's scores become the current ones (``rescoring.next_table_swap``), in the
    transaction that finishes the job."""
    started_at = Job.objects.values_list("started_at", flat=True).get(pk=job_id)
    rescoring.next_table_swap(job_id=job_id, started_at=started_at or timezone.now())


def rescore_chunk_run(*, job_id: int, lo: int) -> dict | None:
    """Score one chunk of a job, exactly once (``core.services.chunk_process``): the chunk
    is marked done in the transaction that writes its scores, so a redelivered chunk is
    skipped and a resumed job never redoes it. None when there was nothing to do."""
    job = Job.objects.get(pk=job_id)
    as_of = dt.datetime.fromisoformat(job.params["as_of"]) if job.params.get("as_of") else timezone.now()
    scorer = Scorer.current(version_id=job.params.get("model_version_id"))

    into = rescoring.next_table(job_id) if connection.vendor == "postgresql" else None

    def work(chunk) -> dict:
        return rescoring.rescore_range(
            lo=chunk.lo, hi=chunk.hi, scorer=scorer, as_of=as_of, now=timezone.now(), into=into
        )

    result = chunk_process(job_id=job_id, lo=lo, work=work, done_key="customers")
    if chunks_finish_if_complete(job_id=job_id, totals=RESCORE_TOTALS, on_complete=lambda: _rescore_complete(job_id)):
        score_distribution_store(job_id=job_id)
    return result


def score_distribution_store(*, job_id: int | None = None) -> ScoreDistribution:
    """Count the current scores per 0.1-wide bin (``SCORE_BINS``), once, into the one stored distribution
    the model page reads (a full rescoring calls it as it finishes). Safe to run again:
    it recounts and replaces."""
    per_bin = (
        CustomerScore.objects.annotate(
            b=Greatest(
                Value(0.0),
                Least(Floor(F("score") * Value(float(SCORE_BINS_PER_POINT))), Value(float(SCORE_BINS - 1))),
                output_field=FloatField(),
            )
        )
        .values_list("b")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = [0] * SCORE_BINS
    for b, n in per_bin:
        counts[int(b)] += n
    distribution, _created = ScoreDistribution.objects.update_or_create(
        pk=1, defaults={"counts": counts, "total": sum(counts), "computed_at": timezone.now(), "job_id": job_id}
    )
    return distribution


RESURFACE_BATCH = 1000


def pool_resurface(*, team_id: int | None = None, limit: int = 50_000) -> int:
    """Bring back pooled leads whose customer's current score grade rose above low.

    Runs on a beat schedule after rescoring; a lead already back in the queue is skipped
    by the lead service's status guard, so a second run does nothing.
    """
    current = CustomerScore.objects.filter(customer_id=OuterRef("customer_id"))
    qs = (
        Lead.objects.filter(status=LeadStatus.POOLED)
        .annotate(
            new_grade=Subquery(current.values("grade")[:1]),
            new_score=Subquery(current.values("score")[:1]),
            new_reasons=Subquery(current.values("reasons")[:1]),
        )
        .filter(new_grade__in=[Grade.MID, Grade.HIGH])
    )
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    done = 0
    for lead in qs.order_by("id")[:limit].iterator(chunk_size=RESURFACE_BATCH):
        if lead_resurface(actor=None, lead=lead, grade=lead.new_grade, score=lead.new_score, reasons=lead.new_reasons):
            done += 1
    return done
