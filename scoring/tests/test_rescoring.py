"""Full rescoring: set-based features agree with the per-customer ones, re-runs are
idempotent, a chunk whose worker died is redone on resume, leads are never duplicated."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from core import services as core_services
from core.models import Job, JobChunk
from customers.tests.factories import (
    AssetSnapshotFactory,
    CustomerFactory,
    CustomerTagFactory,
    HoldingFactory,
    InteractionFactory,
    RiskAssessmentFactory,
)
from leads.models import Lead, LeadStatus
from leads.tests.factories import LeadFactory
from scoring import rescoring, tasks
from scoring.features import features_for_customer
from scoring.models import CustomerScore, Outcome, ScoreDistribution
from scoring.reasons import reasons_json
from scoring.scorer import Scorer
from scoring.services import scores as score_services
from scoring.tests.test_views import _trained_versions
from scoring.training import contract_spec, encode

pytestmark = pytest.mark.django_db


def _book(world, n=12):
    today = timezone.localdate()
    now = timezone.now()
    customers = []
    for i in range(n):
        c = CustomerFactory(
            owner=world.advisor_a if i % 3 else None,
            aum=Decimal(100_000 * (i + 1)),
            risk_level=1 + i % 5,
            risk_assessed_at=now - dt.timedelta(days=100 * i),
            attributes={"salary_card": "yes" if i % 2 else "no"},
        )
        RiskAssessmentFactory(customer=c, level=1 + i % 5, assessed_at=now - dt.timedelta(days=100 * i))
        for k, days in enumerate((0, 30, 60, 90)):
            AssetSnapshotFactory(
                customer=c, date=today - dt.timedelta(days=days), aum=Decimal(100_000 * (i + 1) - 9_000 * k * (i % 4))
            )
        if i % 2:
            HoldingFactory(customer=c, maturity_date=today + dt.timedelta(days=3 + i), amount=Decimal("70000"))
        if i % 3 == 0:
            InteractionFactory(customer=c, occurred_at=now - dt.timedelta(days=i + 1))
            CustomerTagFactory(customer=c)
        if i % 4 == 1:
            InteractionFactory(
                customer=c,
                channel="ai_bot",
                direction="in",
                occurred_at=now - dt.timedelta(days=2),
                intents=["ask_pension"] if i % 8 == 1 else [],
                transcript=[
                    {"speaker": "bot", "text": "您好，理财产品推荐"},
                    {"speaker": "customer", "text": "到期以后有什么可以续的产品，我想找人工客服"},
                ],
            )
        if i == 5:
            Outcome.objects.create(
                customer=c, contacted_at=now - dt.timedelta(days=20), channel="phone", converted=True, features={}
            )
        customers.append(c)
    return customers


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the set-based path is PostgreSQL's")
def test_set_based_features_match_per_customer_features(world):
    customers = _book(world)
    spec = contract_spec()
    spec.append(("salary_card", "category", ["no", "yes"]))
    as_of = timezone.now()
    ids, X = rescoring.copy_features_pg(spec=spec, lo=customers[0].pk, hi=customers[-1].pk + 1, as_of=as_of)
    assert ids.tolist() == [c.pk for c in customers]
    expected = encode([features_for_customer(customer_id=c.pk, as_of=as_of) for c in customers], spec)
    names = [n for n, _k, _v in spec]
    for j, name in enumerate(names):
        np.testing.assert_allclose(X[:, j], expected[:, j], rtol=1e-6, atol=1e-6, equal_nan=True, err_msg=name)


def _run_job(chunk_ids=4):
    job = score_services.rescore_job_create(chunk_ids=chunk_ids)
    tasks.rescore_all.delay(job.pk)
    job.refresh_from_db()
    return job


def test_full_rescoring_is_idempotent_and_creates_leads_once(world):
    _book(world)
    job = _run_job()
    assert job.status == Job.Status.SUCCEEDED and job.done == 12 and job.percent == 100
    first = dict(CustomerScore.objects.values_list("customer_id", "score"))
    leads = Lead.objects.count()
    assert len(first) == 12 and leads == job.result["leads"] > 0
    assert Lead.objects.filter(owner__isnull=True, team__isnull=True).count() == 0  # unowned got a team
    _run_job()
    assert dict(CustomerScore.objects.values_list("customer_id", "score")) == first
    assert Lead.objects.count() == leads
    assert all(s.reasons and all("text" in r for r in s.reasons) for s in CustomerScore.objects.filter(grade="high"))


def _table_shape():
    """The score table's indexes and constraints, by name and definition."""
    with connection.cursor() as cur:
        cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'scoring_customerscore'")
        indexes = sorted(cur.fetchall())
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'scoring_customerscore'::regclass"
        )
        constraints = sorted(cur.fetchall())
        cur.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'scoring\\_score\\_next\\_%%'")
        leftovers = cur.fetchone()[0]
    return indexes, constraints, leftovers


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the next-table swap is PostgreSQL's")
def test_a_full_run_swaps_in_its_own_table_with_the_same_indexes_and_constraints(world, monkeypatch):
    customers = _book(world)
    before = _table_shape()
    assert before[0] and before[1] and before[2] == 0
    _run_job()
    assert _table_shape() == before  # same names and definitions, no next table left
    first = dict(CustomerScore.objects.values_list("customer_id", "score"))
    assert len(first) == 12
    # A run in parts: chunks append to the job's table while incremental rescoring writes
    # the current one; a customer is deleted meanwhile.
    sent = []
    monkeypatch.setattr(core_services, "send", lambda name, *args: sent.append(args))
    job = score_services.rescore_job_create(chunk_ids=4)
    score_services.rescore_dispatch(job_id=job.pk)
    chunks = [lo for _job, lo in sent]
    assert len(chunks) == 3
    for lo in chunks[:-1]:
        score_services.rescore_chunk_run(job_id=job.pk, lo=lo)
    assert dict(CustomerScore.objects.values_list("customer_id", "score")) == first  # not swapped yet
    touched, gone = customers[1], customers[2]  # both in the first chunk, already scored by the run
    CustomerScore.objects.filter(customer=touched).update(score=99.5, grade="high", scored_at=timezone.now())
    gone_id = gone.pk
    gone.delete()
    score_services.rescore_chunk_run(job_id=job.pk, lo=chunks[-1])
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED
    after = dict(CustomerScore.objects.values_list("customer_id", "score"))
    assert after[touched.pk] == 99.5  # the newer incremental score was carried over
    assert gone_id not in after and len(after) == 11
    assert _table_shape() == before


def test_full_rescoring_stores_the_score_distribution_as_it_finishes(world):
    _book(world)
    job = _run_job()
    distribution = ScoreDistribution.objects.get()
    assert distribution.job_id == job.pk and distribution.total == 12 == sum(distribution.counts)
    scores = list(CustomerScore.objects.values_list("score", flat=True))
    assert distribution.counts[int(min(scores) * 10)] >= 1 and len(distribution.counts) == 1001
    _run_job()  # a second run replaces it, one row
    assert ScoreDistribution.objects.count() == 1 and ScoreDistribution.objects.get().job_id != job.pk


def test_no_duplicate_open_lead_and_crossing_rule(world):
    customers = _book(world)
    target = customers[9]
    LeadFactory(customer=target, team=world.team_a, status=LeadStatus.CONTACTING)
    _run_job()
    assert Lead.objects.filter(customer=target).count() == 1
    # a lead that was closed does not come back while the grade stays where it was
    high = CustomerScore.objects.exclude(grade="low").exclude(customer=target).values_list("customer_id", flat=True)
    Lead.objects.filter(customer_id__in=high).update(status=LeadStatus.LOST)
    before = Lead.objects.count()
    _run_job()
    assert Lead.objects.count() == before


def test_resume_after_a_worker_dies_mid_run(world, monkeypatch):
    _book(world)
    real = rescoring.rescore_range
    calls = {"n": 0}

    def dying(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise SystemExit("worker killed")  # the process dies mid-chunk
        return real(**kwargs)

    monkeypatch.setattr(rescoring, "rescore_range", dying)
    job = score_services.rescore_job_create(chunk_ids=4)
    with pytest.raises(SystemExit):
        tasks.rescore_all.delay(job.pk)
    done = list(JobChunk.objects.filter(job=job, done_at__isnull=False).values_list("lo", flat=True))
    assert len(done) == 1
    scored_first = dict(CustomerScore.objects.values_list("customer_id", "scored_at"))
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and 0 < job.done < 12
    # the broker redelivers (acks_late): the run resumes and skips the finished chunk
    monkeypatch.setattr(rescoring, "rescore_range", real)
    tasks.rescore_all.delay(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.done == 12
    assert CustomerScore.objects.count() == 12
    for cid, at in scored_first.items():
        assert CustomerScore.objects.get(customer_id=cid).scored_at == at  # not redone
    assert tasks.rescore_chunk.acks_late and tasks.rescore_all.acks_late


def _random_features(spec, n, seed):
    """Rows of every kind a batch meets: missing values, category codes, zeros, ties."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, len(spec)))
    for j, (_name, kind, vocab) in enumerate(spec):
        if kind == "category":
            X[:, j] = rng.integers(0, max(len(vocab), 1), n)
        else:
            X[:, j] = rng.choice([0.0, 1.0, 3.0, 45.0, -0.2, 0.35, 250_000.0, 3e6], n)
        X[rng.random(n) < 0.15, j] = np.nan
    return X


@pytest.mark.parametrize("method", ["rules", "model"])
def test_batch_reasons_are_byte_for_byte_the_row_by_row_reasons(world, method):
    """Full rescoring writes reasons for the whole batch at once (``reasons_json_rows``);
    what it stores must be exactly what the per-customer path writes."""
    if method == "model":
        _trained_versions(1, world.lead_a)
    scorer = Scorer.current()
    assert scorer.method == method
    X = _random_features(scorer.spec, 600, seed=3)
    scores, grades, reasons = scorer.score_matrix(X)
    fast_scores, fast_grades, fast_json = scorer.score_matrix_json(X)
    assert (fast_scores == scores).all() and (fast_grades == grades).all()
    slow_json = [reasons_json(r) for r in reasons]
    assert fast_json == slow_json
    # the batch met rows with reasons, with none, and missing values phrased
    assert any(r != "[]" for r in fast_json) and "text_en" in "".join(fast_json)
