"""Jobs that finish whatever the workers do: claims, parts done once, the sweeper."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from core import services
from core.models import Job, JobChunk
from core.services import (
    chunk_process,
    chunks_finish_if_complete,
    chunks_plan,
    job_claim,
    job_create,
    jobs_sweep,
)

pytestmark = pytest.mark.django_db


def _job(**fields) -> Job:
    job = job_create(actor=None, kind="test.chunked")
    Job.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()
    return job


def test_a_part_is_done_once_and_the_job_finishes_once():
    job = _job(status=Job.Status.RUNNING)
    chunks_plan(job_id=job.pk, ranges=[(0, 10), (10, 20)])
    chunks_plan(job_id=job.pk, ranges=[(0, 10), (10, 20)])  # planning again adds nothing
    assert JobChunk.objects.filter(job=job).count() == 2
    runs = []

    def work(chunk):
        runs.append(chunk.lo)
        return {"rows": chunk.hi - chunk.lo}

    assert chunk_process(job_id=job.pk, lo=0, work=work, done_key="rows") == {"rows": 10}
    assert chunk_process(job_id=job.pk, lo=0, work=work, done_key="rows") is None  # a redelivery
    assert not chunks_finish_if_complete(job_id=job.pk, totals=("rows",))
    chunk_process(job_id=job.pk, lo=10, work=work, done_key="rows")
    assert chunks_finish_if_complete(job_id=job.pk, totals=("rows",))
    assert not chunks_finish_if_complete(job_id=job.pk, totals=("rows",))  # a racing last chunk
    job.refresh_from_db()
    assert runs == [0, 10] and job.status == Job.Status.SUCCEEDED and job.result == {"rows": 20} and job.done == 20


def test_a_part_that_kills_its_worker_every_time_ends_the_job_with_a_reason(settings):
    settings.WORKBENCH_JOB_MAX_ATTEMPTS = 2
    job = _job(status=Job.Status.RUNNING)
    chunks_plan(job_id=job.pk, ranges=[(0, 10)])

    def poison(chunk):
        raise SystemExit("killed")

    for _ in range(2):
        with pytest.raises(SystemExit):
            chunk_process(job_id=job.pk, lo=0, work=poison)
    assert chunk_process(job_id=job.pk, lo=0, work=poison) is None
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "2" in job.message
    assert JobChunk.objects.get(job=job).done_at is None


def test_a_job_is_claimed_once_until_it_goes_quiet(settings):
    settings.WORKBENCH_JOB_LEASE_SECONDS = 60
    job = _job()
    assert job_claim(job_id=job.pk)
    assert not job_claim(job_id=job.pk)  # a duplicate message while it runs
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=61))
    assert job_claim(job_id=job.pk)  # its worker is gone: the next message takes it
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, heartbeat_at=None)
    assert not job_claim(job_id=job.pk)
    assert Job.objects.get(pk=job.pk).attempts == 2


def test_the_sweeper_sends_again_only_quiet_open_jobs(settings, monkeypatch):
    settings.WORKBENCH_JOB_LEASE_SECONDS = 60
    sent = []
    monkeypatch.setattr(services, "send", lambda name, *args: sent.append((name, *args)))
    old = timezone.now() - dt.timedelta(minutes=5)
    quiet = _job(status=Job.Status.RUNNING, task="scoring.rescore_all", task_args=[1], heartbeat_at=old)
    lost = _job(task="customers.import_batch_run", task_args=[7, 8], created_at=old)  # never started
    _job(status=Job.Status.RUNNING, task="scoring.rescore_all", task_args=[2], heartbeat_at=timezone.now())
    _job(status=Job.Status.SUCCEEDED, task="scoring.rescore_all", task_args=[3], heartbeat_at=old)
    _job(status=Job.Status.RUNNING, heartbeat_at=old)  # no message known: nothing to send
    _job(task="customers.import_batch_run", task_args=[9, 9])  # just queued
    assert jobs_sweep() == 2
    assert sorted(sent) == sorted([("scoring.rescore_all", 1), ("customers.import_batch_run", 7, 8)])
    assert quiet.pk != lost.pk


@pytest.mark.django_db(transaction=True)
def test_a_part_is_taken_while_another_worker_holds_the_job_row():
    """The bug that stopped full rescorings with two worker processes: the claim locked
    the job row too (the chunk's ordering joined it), so every other chunk looked locked
    and was skipped. Another worker's transaction holds the job row here; the part must
    still be done (after a short wait), never skipped."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite locks the whole database)")
    job = _job(status=Job.Status.RUNNING)
    chunks_plan(job_id=job.pk, ranges=[(0, 10), (10, 20)])
    holding, release = threading.Event(), threading.Event()

    def other_worker():
        with transaction.atomic():
            JobChunk.objects.select_for_update(of=("self",)).filter(job_id=job.pk, lo=10).order_by().first()
            Job.objects.select_for_update().get(pk=job.pk)
            holding.set()
            release.wait(10)
        connection.close()

    t = threading.Thread(target=other_worker)
    t.start()
    try:
        assert holding.wait(10)
        threading.Timer(0.5, release.set).start()
        started = time.monotonic()
        result = chunk_process(job_id=job.pk, lo=0, work=lambda chunk: {"rows": 10}, done_key="rows")
        assert result == {"rows": 10}, "the part was skipped as if another worker held it"
        assert time.monotonic() - started < 5
    finally:
        release.set()
        t.join()
    # the part the other worker held while it lived is free again: the next delivery does it
    assert chunk_process(job_id=job.pk, lo=10, work=lambda chunk: {"rows": 10}, done_key="rows") == {"rows": 10}
    assert chunks_finish_if_complete(job_id=job.pk, totals=("rows",))
