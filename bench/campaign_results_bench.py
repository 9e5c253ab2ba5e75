"""Benchmark a campaign's results (``campaigns.results.campaign_results``) against the raw
SQL aggregate of the same figures, in one run, on PostgreSQL.

    DATABASE_URL=postgres://root@127.0.0.1:5432/<db> .venv/bin/python bench/campaign_results_bench.py [N]

Inside one transaction (rolled back afterwards) it writes N customers (default 20,000),
three asset snapshots each (the day before entry, entry + 30 and entry + 90 days), N
enrolments of one campaign entered over 100 days (10 % control), a converted journey
event for every fifth; then times the selector (best of three) and a hand-written SQL
floor computing the arms' counts and the AUM moments with one pass per table, and
prints the ratio. Then (issue 13, the stored aggregates) it splits the treated between two
A/B variants, refreshes the aggregates once (``results_refresh``, timed), and times the
stored selector and the whole results page (a logged-in test client, best of three)
against the same raw SQL floor grouped per arm and variant, in the same run.

    ... bench/campaign_results_bench.py 300000
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaigns.models import (  # noqa: E402
    Arm,
    Campaign,
    CampaignStatus,
    Enrolment,
    JourneyEvent,
    JourneyEventKind,
    Variant,
)
from campaigns.results import campaign_results, campaign_results_stored, results_refresh  # noqa: E402
from customers.models import AssetSnapshot, Customer  # noqa: E402
from org.roles import Role  # noqa: E402
from org.tests.factories import make_staff  # noqa: E402

FLOOR = """
WITH e AS (
  SELECT e.id, e.arm, e.variant_id, e.customer_id, e.entered_at,
    (e.entered_at AT TIME ZONE 'Asia/Shanghai')::date AS day
  FROM campaigns_enrolment e WHERE e.campaign_id = %(c)s
), conv AS (
  SELECT DISTINCT j.enrolment_id FROM campaigns_journeyevent j JOIN e ON e.id = j.enrolment_id
  WHERE j.kind = 'converted' AND j.at >= e.entered_at AND j.at < e.entered_at + interval '30 days'
), snap AS (
  SELECT e.id, e.arm, e.variant_id,
    max(s.aum) FILTER (WHERE s.date = e.day - 1) AS x,
    max(s.aum) FILTER (WHERE s.date = e.day + 30) AS p30
  FROM e JOIN customers_assetsnapshot s ON s.customer_id = e.customer_id GROUP BY e.id, e.arm, e.variant_id
)
SELECT e.arm, e.variant_id, count(*), count(conv.enrolment_id),
  (SELECT sum(p30 - x) FROM snap WHERE snap.arm = e.arm AND snap.variant_id IS NOT DISTINCT FROM e.variant_id)
FROM e LEFT JOIN conv ON conv.enrolment_id = e.id GROUP BY e.arm, e.variant_id
"""


def _best(fn, runs: int = 3) -> float:
    best = float("inf")
    for _i in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(n: int) -> None:
    assert connection.vendor == "postgresql", "run on PostgreSQL"
    with transaction.atomic():
        now = timezone.now()
        campaign = Campaign.objects.create(code="BENCHRES", name="bench", status=CampaignStatus.ENDED)
        customers = Customer.objects.bulk_create(
            [Customer(customer_no=f"BR{i:08d}", name="bench") for i in range(n)], batch_size=5000
        )
        enrolments, snapshots = [], []
        for i, customer in enumerate(customers):
            entered = now - dt.timedelta(days=200 - i % 100)
            day = timezone.localdate(entered)
            enrolments.append(
                Enrolment(
                    campaign=campaign,
                    customer=customer,
                    bucket=i % 10_000,
                    arm=Arm.CONTROL if i % 10 == 0 else Arm.TREATMENT,
                    entered_at=entered,
                )
            )
            base = Decimal(10_000 + (i * 7919) % 990_000)
            for offset, factor in ((-1, 1), (30, Decimal("1.02")), (90, Decimal("1.05"))):
                snapshots.append(
                    AssetSnapshot(customer=customer, date=day + dt.timedelta(days=offset), aum=base * factor)
                )
        Enrolment.objects.bulk_create(enrolments, batch_size=5000)
        AssetSnapshot.objects.bulk_create(snapshots, batch_size=5000)
        JourneyEvent.objects.bulk_create(
            [
                JourneyEvent(
                    campaign=campaign,
                    enrolment=e,
                    kind=JourneyEventKind.CONVERTED,
                    at=e.entered_at + dt.timedelta(days=2),
                )
                for e in enrolments[::5]
            ],
            batch_size=5000,
        )
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        results = campaign_results(campaign=campaign)
        product = _best(lambda: campaign_results(campaign=campaign), runs=1 if n > 100_000 else 3)

        def floor():
            with connection.cursor() as cursor:
                cursor.execute(FLOOR, {"c": campaign.pk})
                return cursor.fetchall()

        rows = floor()
        floor_time = _best(floor)
        print(f"enrolments: {n:,}")
        print(
            f"selector: treated {results.treatment.entered:,} ({results.treatment.converted:,} converted), "
            f"control {results.control.entered:,}; AUM 30 d uplift {results.aum[0].result.estimate:,.2f}"
        )
        print(f"floor rows: {rows}")
        print(
            f"campaign_results: {product * 1000:.0f} ms; raw SQL floor: {floor_time * 1000:.0f} ms; "
            f"ratio {product / floor_time:.1f}x"
        )
        # PostgreSQL's JIT compiles the correlated snapshot lookups on every run (cost above
        # jit_above_cost): most of the time at this size. Measured without it too.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        no_jit = _best(lambda: campaign_results(campaign=campaign), runs=1 if n > 100_000 else 3)
        no_jit_floor = _best(floor)
        print(
            f"with jit off: campaign_results {no_jit * 1000:.0f} ms; floor {no_jit_floor * 1000:.0f} ms; "
            f"ratio {no_jit / no_jit_floor:.1f}x"
        )
        stored_vs_live(campaign, floor, floor_time)
        transaction.set_rollback(True)


def stored_vs_live(campaign, floor, floor_time: float) -> None:
    """Two variants, one refresh, then the stored selector and the page against the floor."""
    a = Variant.objects.create(campaign=campaign, label="A", position=1, weight=1)
    b = Variant.objects.create(campaign=campaign, label="B", position=2, weight=1)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE campaigns_enrolment SET variant_id = CASE WHEN id %% 2 = 0 THEN %s ELSE %s END "
            "WHERE campaign_id = %s AND arm = 'treatment'",
            [a.pk, b.pk, campaign.pk],
        )
        cursor.execute("ANALYZE campaigns_enrolment")
    floor_time = min(floor_time, _best(floor))  # the floor now groups per variant too
    start = time.perf_counter()
    live = campaign_results(campaign=campaign)
    live_time = time.perf_counter() - start
    start = time.perf_counter()
    rows = results_refresh(campaign_id=campaign.pk)
    refresh_time = time.perf_counter() - start
    stored = campaign_results_stored(campaign=campaign)
    assert [x.figures.converted for x in stored.arms] == [x.figures.converted for x in live.arms]
    stored_time = _best(lambda: campaign_results_stored(campaign=campaign), runs=5)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    client = Client()
    client.force_login(make_staff(Role.CAMPAIGN_MANAGER, username="bench_results"))
    url = reverse("campaigns:results", args=[campaign.pk])
    assert client.get(url, secure=True).status_code == 200

    def page():
        response = client.get(url, secure=True)
        assert response.status_code == 200, response.status_code

    page_time = _best(page, runs=5)
    arms = ", ".join(f"{x.figures.label} {x.figures.entered:,}/{x.figures.converted:,}" for x in stored.arms)
    print(f"variants: {arms}; control {stored.control.entered:,}/{stored.control.converted:,}")
    print(
        f"live campaign_results (one run) {live_time * 1000:.0f} ms; refresh of {rows} day rows "
        f"{refresh_time * 1000:.0f} ms; raw SQL floor per arm and variant {floor_time * 1000:.0f} ms"
    )
    print(
        f"stored selector {stored_time * 1000:.1f} ms (ratio to the floor {stored_time / floor_time:.3f}); "
        f"results page {page_time * 1000:.1f} ms (ratio {page_time / floor_time:.3f}); "
        f"live / floor {live_time / floor_time:.1f}x"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)
