"""Benchmark a campaign launch on a seeded PostgreSQL database: entering a segment into a
journey whose first step is an SMS, against the raw SQL doing the same writes, in one run.

    DATABASE_URL=postgres://root@127.0.0.1:5432/<seeded db> .venv/bin/python bench/campaign_enrol_bench.py [N]

Seed first (``manage.py seed_demo --customers N``). The segment is every customer (up to
N, default 300,000, by id). The product path is the enrolment job's own: chunks of
``WORKBENCH_CAMPAIGN_ENROL_CHUNK`` ids, each in one transaction entering its members
(global holdout, hashed arms, the first step), then the runner taking them through the
SMS step (the contact ledger's checks and reservation, the template rendered per customer,
one message each). The floor does the same rows in three INSERT … SELECT statements
(enrolments, ledger entries, messages) with the consent rule only. Everything is rolled
back (product run) or deleted (floor) afterwards.

With ``--workers 2`` (or more) the same job also runs as Celery runs it on that many
worker processes: each process walks the job's chunks and takes those nobody holds (the
chunk lock, ``core.services.chunk_process``), so the chunks are shared out with no
coordinator. That run commits (a launch by several processes cannot share one
transaction) and deletes its campaign's rows afterwards.

Issue 12's target: enrolling a 300,000-customer segment in under 60 s.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaigns.journeys import enrol as enrol_module  # noqa: E402
from campaigns.models import (  # noqa: E402
    Campaign,
    CampaignStatus,
    CampaignStep,
    Enrolment,
    JourneyEvent,
    Message,
    Segment,
    StepKind,
)
from compliance.models import ScriptVersion, VersionStatus  # noqa: E402
from core import services as core_services  # noqa: E402
from core.models import JobChunk  # noqa: E402
from core.services import job_create  # noqa: E402
from customers.models import ContactLedgerEntry, Customer  # noqa: E402

FLOOR_SQL = [
    """
    INSERT INTO campaigns_enrolment (campaign_id, customer_id, occurrence, version, bucket, arm, state,
        step_id, step_entered_at, next_at, entered_at, exit_reason)
    SELECT %(campaign)s, c.id, '', 1, (c.id * 7919) %% 10000, 'treatment', 'active', %(step)s, now(), now(), now(), ''
    FROM customers_customer c WHERE c.id <= %(max_id)s AND (c.id * 2654435761) %% 100 >= %(holdout)s
    """,
    """
    INSERT INTO customers_contactledgerentry (customer_id, channel, status, source, source_id, automated,
        priority, slot_at, key, released_reason, created_at)
    SELECT e.customer_id, 'sms', 'reserved', 'campaign', %(campaign)s, true, 5, now(), 'floor:' || e.customer_id, '',
        now()
    FROM campaigns_enrolment e JOIN customers_contactpreference p
      ON p.customer_id = e.customer_id AND p.channel = 'sms' AND p.consent
    WHERE e.campaign_id = %(campaign)s
    """,
    """
    INSERT INTO campaigns_message (campaign_id, step_id, enrolment_id, customer_id, channel, script_version_id,
        recipient, subject, body, status, key, adapter, external_id, attempts, send_after, last_error, created_at)
    SELECT %(campaign)s, %(step)s, e.id, e.customer_id, 'sms', %(version)s, c.mobile, '', %(body)s, 'queued',
        'floor:' || e.id, '', '', 0, now(), '', now()
    FROM campaigns_enrolment e JOIN customers_customer c ON c.id = e.customer_id
    JOIN customers_contactpreference p ON p.customer_id = e.customer_id AND p.channel = 'sms' AND p.consent
    WHERE e.campaign_id = %(campaign)s
    """,
]


def make_campaign(max_id: int, version: ScriptVersion, tag: str) -> tuple[Campaign, CampaignStep]:
    segment = Segment.objects.create(name=f"bench {tag}", definition={"groups": [{"aum_min": "0"}]})
    campaign = Campaign.objects.create(
        code=f"BENCH-{tag}-{int(time.time())}",
        name="bench",
        status=CampaignStatus.RUNNING,
        audience=segment,
        salt=tag,
        control_percent=10,
        exit_rules=[],
    )
    step = CampaignStep.objects.create(
        campaign=campaign, position=1, kind=StepKind.SEND, channel="sms", script=version.script
    )
    return campaign, step


def product_run(max_id: int, version: ScriptVersion) -> tuple[float, int, int]:
    sent = []
    core_services.send = lambda name, *args: sent.append(args)
    with transaction.atomic():
        campaign, _step = make_campaign(max_id, version, "product")
        job = job_create(actor=None, kind=enrol_module.ENROL_JOB, params={"campaign_id": campaign.pk})
        started = time.perf_counter()
        enrol_module.enrolment_dispatch(job_id=job.pk)
        for job_id, lo in sent:
            if lo > max_id:
                continue
            enrol_module.enrolment_chunk_run(job_id=job_id, lo=lo)
        seconds = time.perf_counter() - started
        entered = Enrolment.objects.filter(campaign=campaign).count()
        messages = Message.objects.filter(campaign=campaign).count()
        transaction.set_rollback(True)
    return seconds, entered, messages


def remove(campaign: Campaign) -> None:
    """Delete a committed bench campaign and everything its run wrote (raw deletes: the
    ORM would collect hundreds of thousands of rows first)."""
    pk = campaign.pk
    for model in (Message, JourneyEvent, Enrolment):
        model.objects.filter(campaign_id=pk)._raw_delete(model.objects.db)
    ledger = ContactLedgerEntry.objects.filter(source_id=pk, key__startswith=f"cmp{pk}:")
    ledger._raw_delete(ledger.db)
    JobChunk.objects.filter(job__params__campaign_id=pk).delete()
    Campaign.objects.filter(pk=pk).delete()


def _worker(job_id: int, chunks: list[int], max_id: int) -> None:
    connection.close()  # a forked process opens its own connection
    for lo in chunks:
        if lo <= max_id:
            enrol_module.enrolment_chunk_run(job_id=job_id, lo=lo)
    connection.close()


def parallel_run(max_id: int, version: ScriptVersion, workers: int) -> tuple[float, int, int]:
    """The job on ``workers`` processes at once, committed, then deleted."""
    sent = []
    core_services.send = lambda name, *args: sent.append(args)
    campaign, _step = make_campaign(max_id, version, f"parallel{workers}")
    job = job_create(actor=None, kind=enrol_module.ENROL_JOB, params={"campaign_id": campaign.pk})
    try:
        started = time.perf_counter()
        enrol_module.enrolment_dispatch(job_id=job.pk)
        chunks = [lo for _job, lo in sent]
        connection.close()
        context = multiprocessing.get_context("fork")
        processes = [context.Process(target=_worker, args=(job.pk, chunks, max_id)) for _ in range(workers)]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        seconds = time.perf_counter() - started
        entered = Enrolment.objects.filter(campaign=campaign).count()
        messages = Message.objects.filter(campaign=campaign).count()
    finally:
        remove(campaign)
    return seconds, entered, messages


def floor_run(max_id: int, version: ScriptVersion) -> tuple[float, int]:
    with transaction.atomic():
        campaign, step = make_campaign(max_id, version, "floor")
        params = {
            "campaign": campaign.pk,
            "step": step.pk,
            "max_id": max_id,
            "holdout": 5,
            "version": version.pk,
            "body": version.body,
        }
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for sql in FLOOR_SQL:
                cursor.execute(sql, params)
        seconds = time.perf_counter() - started
        entered = Enrolment.objects.filter(campaign=campaign).count()
        transaction.set_rollback(True)
    return seconds, entered


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    workers = next((int(a.split("=", 1)[1]) for a in sys.argv[1:] if a.startswith("--workers=")), 1)
    n = int(args[0]) if args else 300_000
    ids = Customer.objects.order_by("pk").values_list("pk", flat=True)
    total = ids.count()
    max_id = ids[min(n, total) - 1]
    version = ScriptVersion.objects.filter(status=VersionStatus.APPROVED).first()
    size = min(n, total)
    print(f"{connection.vendor}, {total:,} customers; segment: the first {size:,} by id; at {timezone.now():%H:%M}")
    floor_seconds, floor_entered = floor_run(max_id, version)
    seconds, entered, messages = product_run(max_id, version)
    print(
        f"enrolment job: {seconds:,.1f} s for {entered:,} entrants and {messages:,} messages "
        f"({entered / max(seconds, 1e-9):,.0f} entrants/s) · raw SQL floor {floor_seconds:,.1f} s "
        f"({floor_entered:,} entrants) · ratio {seconds / max(floor_seconds, 1e-9):.2f}"
    )
    print(f"  target < 60 s for 300,000: {'met' if seconds < 60 * size / 300_000 else 'NOT met'} (scaled to {size:,})")
    if workers > 1:
        wall, entered, messages = parallel_run(max_id, version, workers)
        print(
            f"the same job on {workers} worker processes: {wall:,.1f} s for {entered:,} entrants and {messages:,} "
            f"messages ({entered / max(wall, 1e-9):,.0f} entrants/s) · {seconds / max(wall, 1e-9):.2f}× one process "
            f"· ratio to the floor {wall / max(floor_seconds, 1e-9):.2f}"
        )
        print(f"  target < 60 s for 300,000: {'met' if wall < 60 * size / 300_000 else 'NOT met'} (scaled to {size:,})")


if __name__ == "__main__":
    main()
