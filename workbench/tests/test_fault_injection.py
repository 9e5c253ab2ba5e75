"""Fault injection on real Redis and real Celery workers: `kill -9` a two-process worker in
the middle of a chunked job, start another one, and the job finishes on its own (the
sweeper on beat sends it again once it has been quiet for a lease), with every chunk done
exactly once.

PostgreSQL and Redis only (the worker must share the test's database and a broker);
`.ci/run` runs them. Each test uses a private Redis database, emptied first, so no other
worker or earlier run takes or leaves a message.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from campaigns.journeys.enrol import ENROL_JOB, in_global_holdout
from campaigns.models import Campaign, CampaignStatus, CampaignStep, Enrolment, Message, Segment, StepKind
from campaigns.tests.factories import approved_script
from core.models import Job, JobChunk
from core.services import job_create
from customers import models as cm
from customers.services import imports as import_services
from leads.models import OPEN_LEAD_STATUSES, Lead
from org.tests.factories import BranchFactory
from scoring.models import CustomerScore
from scoring.services import scores as score_services
from workbench.celery import app

ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 4
RECOVERY_BOUND_SECONDS = 90

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker_url():
    if connection.vendor != "postgresql" or not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs PostgreSQL and Redis (run by .ci/run)")
    base = settings.CELERY_BROKER_URL.rsplit("/", 1)[0]
    url = f"{base}/14"
    with app.connection_for_write(url) as conn:
        conn.default_channel.client.flushdb()
    yield url
    with app.connection_for_write(url) as conn:
        conn.default_channel.client.flushdb()


class Worker:
    """`celery worker -B` with two processes, in its own process group (so `kill -9`
    takes the whole of it: main process, pool children and embedded beat)."""

    def __init__(self, broker_url: str, tmp_path: Path, **env: str):
        db = connection.settings_dict
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "workbench.settings",
            "DJANGO_SECRET_KEY": "fault-injection-test",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "WORKBENCH_VAR_DIR": str(settings.VAR_DIR),  # the uploaded files
            "WORKBENCH_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
            "WORKBENCH_JOB_SWEEP_SECONDS": "1",
            **env,
        }
        self.tmp_path = tmp_path
        self.runs = 0
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.runs += 1
        self.log = open(self.tmp_path / f"worker-{self.runs}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "workbench",
                "worker",
                "-B",
                "--schedule",
                str(self.tmp_path / f"beat-{self.runs}"),
                "-Q",
                "interactive,bulk",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.log.close()

    def stop(self) -> str:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        if not self.log.closed:
            self.log.close()
        logs = [self.tmp_path / f"worker-{n}.log" for n in range(1, self.runs + 1)]
        return "\n".join(p.read_text(errors="replace") for p in logs)


def _send(broker_url: str, job: Job) -> None:
    """What ``job_enqueue`` does after commit, through the private broker."""
    with app.connection_for_write(broker_url) as conn:
        app.send_task(job.task, args=job.task_args, connection=conn)


def _wait(predicate, timeout: float, every: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def _customers(n: int) -> None:
    now = timezone.now()
    cm.Customer.objects.bulk_create(
        [
            cm.Customer(
                customer_no=f"FI{i:06d}",
                name=f"客户{i}",
                aum=Decimal(20_000 + 997 * (i % 1000)),
                risk_level=1 + i % 5,
                risk_assessed_at=now - dt.timedelta(days=i % 500),
                last_contact_at=now - dt.timedelta(days=i % 90) if i % 3 else None,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )


class _Blocker:
    """Another database session holding an uncommitted row with a key a chunk will write,
    so the worker doing that chunk waits in the middle of it (its INSERT ... ON CONFLICT
    waits for this transaction): the kill then lands inside a chunk for certain."""

    def __init__(self, sql: str, params: list | None = None):
        self.sql, self.params = sql, params or []
        self.conn = None

    def __enter__(self):
        db = connection.settings_dict
        self.conn = psycopg.connect(
            host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"]
        )
        self.conn.execute(self.sql, self.params)
        return self

    def release(self):
        if self.conn is not None:
            self.conn.rollback()
            self.conn.close()
            self.conn = None

    def __exit__(self, *exc):
        self.release()


def test_a_full_rescoring_finishes_after_its_worker_is_killed(world, broker_url, tmp_path):
    """A full run appends its chunks to the job's own next table and puts it in the
    current score table's place in the transaction that finishes the job (the swap,
    ``scoring.rescoring``). The blocker holds a row of the current table uncommitted, so
    every chunk is done and the swap waits for the table's lock: the kill lands in the
    swap for certain, the most delicate moment of the run."""
    n = 4000
    _customers(n)
    job = score_services.rescore_job_create(chunk_ids=200)  # 20 chunks
    Job.objects.filter(pk=job.pk).update(task="scoring.rescore_all", task_args=[job.pk])
    job.refresh_from_db()
    first = cm.Customer.objects.order_by("pk").values_list("pk", flat=True).first()
    stuck = first + 200 * 5
    worker = Worker(broker_url, tmp_path)
    blocker = _Blocker(
        "INSERT INTO scoring_customerscore (customer_id, score, grade, reasons, model_version, method, scored_at)"
        " VALUES (%s, 0, 'low', '[]', 'blocker', 'rules', now())",
        [stuck],
    )
    swap_waits = (
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'relation'"
        " AND relation = 'scoring_customerscore'::regclass"
    )

    def waiting_swap() -> bool:
        with connection.cursor() as cur:
            cur.execute(swap_waits)
            return cur.fetchone()[0] > 0

    with blocker:
        worker.start()
        try:
            _send(broker_url, job)
            assert _wait(lambda: JobChunk.objects.filter(job=job, done_at__isnull=False).count() == 20, 60)
            assert _wait(waiting_swap, 15), "the swap never waited for the current table"
            worker.kill9()
            open_at_kill = JobChunk.objects.filter(job=job, done_at__isnull=True).count()
            assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING
        except BaseException:
            worker.stop()
            raise
    # the blocker is gone; the killed worker's transaction is rolled back
    killed_at = time.monotonic()
    try:
        worker.start()
        finished = _wait(lambda: Job.objects.get(pk=job.pk).is_finished, RECOVERY_BOUND_SECONDS, every=0.5)
        output = worker.stop()
        assert finished, f"the job did not finish on its own\n{output[-4000:]}"
        recovered_in = time.monotonic() - killed_at
    finally:
        worker.stop()

    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    chunks = JobChunk.objects.filter(job=job)
    assert chunks.count() == 20 and not chunks.filter(done_at__isnull=True).exists()
    # every chunk's customers counted once: a chunk done twice would count its customers twice
    assert job.done == n and job.result["customers"] == n
    assert sum(c.result["customers"] for c in chunks) == n
    # one current score per customer (the score's key is the customer), no two open leads
    assert CustomerScore.objects.count() == n == cm.Customer.objects.count()
    assert (
        not Lead.objects.filter(status__in=OPEN_LEAD_STATUSES)
        .values("customer_id")
        .annotate(k=Count("id"))
        .filter(k__gt=1)
        .exists()
    )
    # no chunk was done twice: the killed swap was rolled back and done once, after it
    assert set(chunks.values_list("attempts", flat=True)) == {1}
    assert CustomerScore.objects.get(customer_id=stuck).model_version != "blocker"
    assert Job.objects.get(pk=job.pk).attempts == 0  # chunked: attempts are counted per chunk
    assert recovered_in < RECOVERY_BOUND_SECONDS
    print(f"rescoring: {open_at_kill} of 20 chunks open at the kill, finished {recovered_in:.1f} s after it")


def test_an_import_finishes_after_its_worker_is_killed(world, broker_url, tmp_path):
    n = 6000
    BranchFactory(code="SH01")
    rows = "".join(f"K{i:06d},客户{i},1380{i:07d},,{10_000 + i},SH01\n" for i in range(n))
    upload = SimpleUploadedFile("customers.csv", ("客户号,姓名,手机号,证件号,金融资产,归属网点\n" + rows).encode())
    batch = import_services.import_batch_create(actor=world.lead_a, kind="customers", uploaded_file=upload)
    cm.ImportBatch.objects.filter(pk=batch.pk).update(status=cm.ImportBatch.Status.CHECKED)
    batch.refresh_from_db()
    sent: list = []
    original = import_services.job_enqueue
    import_services.job_enqueue = lambda job, task, *args: sent.append((job, task, args))
    try:
        job = import_services.import_batch_start(actor=world.lead_a, batch=batch, dry_run=False)
    finally:
        import_services.job_enqueue = original
    Job.objects.filter(pk=job.pk).update(task="customers.import_batch_run", task_args=[batch.pk, job.pk])
    job.refresh_from_db()
    assert sent and sent[0][1] == "customers.import_batch_run"

    worker = Worker(broker_url, tmp_path, WORKBENCH_IMPORT_CHUNK_ROWS="100")  # 60 chunks
    # An uncommitted customer with a number of the 31st chunk: that chunk's write waits on
    # it, so the kill lands in the middle of the file for certain.
    blocker = _Blocker(
        "INSERT INTO customers_customer (customer_no, name, gender, mobile, mobile_last4, id_number, id_last4,"
        " city, occupation, education, marital_status, tier, aum, lifecycle_stage, attributes, created_at,"
        " updated_at) VALUES ('K003000', 'blocker', 'U', '', '', '', '', '', '', '', '', 'long_tail', 0, 'new',"
        " '{}', now(), now())"
    )
    with blocker:
        worker.start()
        try:
            _send(broker_url, job)
            assert _wait(lambda: JobChunk.objects.filter(job=job).count() >= 3, 60)
            time.sleep(1)  # the writers reach the blocked chunk
            worker.kill9()
            written_at_kill = JobChunk.objects.filter(job=job).count()
            assert written_at_kill <= 31, written_at_kill
            print(f"import: {written_at_kill} of 60 chunks written at the kill")
            assert cm.ImportBatch.objects.get(pk=batch.pk).status == cm.ImportBatch.Status.RUNNING
        except BaseException:
            worker.stop()
            raise
    try:
        worker.start()
        finished = _wait(lambda: Job.objects.get(pk=job.pk).is_finished, RECOVERY_BOUND_SECONDS, every=0.5)
        output = worker.stop()
        assert finished, f"the import did not finish on its own\n{output[-4000:]}"
    finally:
        worker.stop()

    batch.refresh_from_db()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert batch.status == cm.ImportBatch.Status.DONE
    # the same report as an uninterrupted run: every row created once, none rejected
    assert batch.report["rows"] == n and batch.report["created"] == n and batch.report["rejected"] == 0
    assert batch.report["updated"] == 0 and batch.report["unchanged"] == 0
    chunks = JobChunk.objects.filter(job=job)
    assert chunks.count() == 60 and sum(c.result["rows"] for c in chunks) == n
    assert cm.Customer.objects.filter(customer_no__startswith="K").count() == n
    assert job.attempts == 2  # the killed run and the one the sweeper sent
    assert cm.Customer.objects.get(customer_no="K003000").name == "客户3000"


def test_a_campaign_enrolment_finishes_after_its_worker_is_killed(world, broker_url, tmp_path):
    n = 3000
    _customers(n)
    cm.ContactPreference.objects.bulk_create(
        [
            cm.ContactPreference(customer_id=pk, channel="sms", consent=True)
            for pk in cm.Customer.objects.values_list("pk", flat=True)
        ]
    )
    segment = Segment.objects.create(name="全部客户", definition={"groups": [{"aum_min": "0"}]})
    script = approved_script(world, title="到期提醒短信")
    campaign = Campaign.objects.create(
        code="FI-ENROL", name="故障注入", status=CampaignStatus.RUNNING, audience=segment, salt="fi", exit_rules=[]
    )
    CampaignStep.objects.create(campaign=campaign, position=1, kind=StepKind.SEND, channel="sms", script=script)
    job = job_create(actor=None, kind=ENROL_JOB, params={"campaign_id": campaign.pk})
    Job.objects.filter(pk=job.pk).update(task="campaigns.enrol_dispatch", task_args=[job.pk])
    job.refresh_from_db()
    first = cm.Customer.objects.order_by("pk").values_list("pk", flat=True).first()
    stuck = first + 200 * 5  # in the sixth chunk of 200 ids
    worker = Worker(broker_url, tmp_path, WORKBENCH_CAMPAIGN_ENROL_CHUNK="200")  # 15 chunks
    blocker = _Blocker(
        "INSERT INTO campaigns_enrolment (campaign_id, customer_id, occurrence, version, bucket, arm, state,"
        " entered_at, exit_reason) VALUES (%s, %s, '', 1, 0, 'treatment', 'active', now(), '')",
        [campaign.pk, stuck],
    )
    with blocker:
        worker.start()
        try:
            _send(broker_url, job)
            in_stuck = JobChunk.objects.filter(job=job, lo=stuck, attempts__gte=1, done_at__isnull=True)
            assert _wait(in_stuck.exists, 60), "the worker never reached the blocked chunk"
            assert _wait(lambda: JobChunk.objects.filter(job=job, done_at__isnull=False).count() >= 2, 60)
            worker.kill9()
        except BaseException:
            worker.stop()
            raise
    try:
        worker.start()
        finished = _wait(lambda: Job.objects.get(pk=job.pk).is_finished, RECOVERY_BOUND_SECONDS, every=0.5)
        output = worker.stop()
        assert finished, f"the enrolment did not finish on its own\n{output[-4000:]}"
    finally:
        worker.stop()
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.message
    expected = sum(1 for pk in cm.Customer.objects.values_list("pk", flat=True) if not in_global_holdout(pk))
    enrolments = Enrolment.objects.filter(campaign=campaign)
    # every member entered once and got one message (or none, in the control group)
    assert enrolments.count() == expected == job.result["entered"]
    assert not enrolments.values("customer_id").annotate(k=Count("id")).filter(k__gt=1).exists()
    treated = enrolments.filter(arm="treatment").count()
    assert Message.objects.filter(campaign=campaign).count() == treated
    assert JobChunk.objects.get(job=job, lo=stuck).attempts == 2
