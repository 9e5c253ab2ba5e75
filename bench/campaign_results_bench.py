"""Benchmark a campaign's results (``campaigns.results.campaign_results``) against the raw
SQL aggregate of the same figures, in one run, on PostgreSQL.

    DATABASE_URL=postgres://root@127.0.0.1:5432/<db> .venv/bin/python bench/campaign_results_bench.py [N]

The database is migrated; inside one transaction (rolled back afterwards) it writes in SQL
N customers (default 20,000), N enrolments of one campaign entered over 100 days (10 %
control), three asset snapshots each (the day before entry, entry + 30 and entry + 90
days), a converted journey event for every fifth; then times the selector (best of three) and a hand-written SQL
floor computing the arms' counts and the AUM moments with one pass per table, and
prints the ratio. Then (issue 13, the stored aggregates) it splits the treated between two
A/B variants, refreshes the aggregates once (``results_refresh``, timed), and times the
stored selector and the whole results page (a logged-in test client, best of three)
against the same raw SQL floor grouped per arm and variant, in the same run.

    ... bench/campaign_results_bench.py 300000
"""

from __future__ import annotations

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

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaigns.models import Campaign, CampaignStatus, Variant  # noqa: E402
from campaigns.results import campaign_results, campaign_results_stored, results_refresh  # noqa: E402
from customers.models import Customer  # noqa: E402
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


SEED_SQL = [
    # customers, ids first..last
    """
    INSERT INTO customers_customer (id, customer_no, name, gender, mobile, mobile_last4, id_number, id_last4,
      city, occupation, education, marital_status, tier, aum, lifecycle_stage, attributes, created_at,
      updated_at, risk_level, risk_assessed_at, birth_date, last_contact_at)
    SELECT g, 'BR' || lpad(g::text, 12, '0'), '客户' || g, 'F', '139' || lpad((g %% 100000000)::text, 8, '0'),
      lpad((g %% 10000)::text, 4, '0'), '', '', '上海', '', '', '', 'base', 300000, 'mature', '{}',
      now() - interval '400 days', now(), 3, now() - (g %% 500) * interval '1 day',
      date '1960-01-01' + (g %% 15000)::int, now() - (g %% 200) * interval '1 day'
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) g
    """,
    # one enrolment each, entered over 100 days, every tenth in the control group
    """
    INSERT INTO campaigns_enrolment (campaign_id, customer_id, occurrence, version, bucket, arm, state,
      entered_at, exit_reason)
    SELECT %(campaign)s, g, '', 1, (g - %(first)s) %% 10000,
      CASE WHEN (g - %(first)s) %% 10 = 0 THEN 'control' ELSE 'treatment' END, 'completed',
      %(now)s::timestamptz - (200 - (g - %(first)s) %% 100) * interval '1 day', ''
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) g
    """,
    # three snapshots each: the day before entry, entry + 30 and + 90 days
    """
    INSERT INTO customers_assetsnapshot (customer_id, date, aum, deposits, wealth, funds, insurance, other)
    SELECT e.customer_id, (e.entered_at AT TIME ZONE 'Asia/Shanghai')::date + d.offset_days,
      (10000 + ((e.customer_id - %(first)s) * 7919) %% 990000) * d.factor, 0, 0, 0, 0, 0
    FROM campaigns_enrolment e,
      (VALUES (-1, 1.0), (30, 1.02), (90, 1.05)) AS d(offset_days, factor)
    WHERE e.campaign_id = %(campaign)s
    """,
    # a converted journey event for every fifth enrolment (in both arms), two days after entry
    """
    INSERT INTO campaigns_journeyevent (campaign_id, enrolment_id, kind, detail, at)
    SELECT %(campaign)s, e.id, 'converted', '', e.entered_at + interval '2 days'
    FROM campaigns_enrolment e WHERE e.campaign_id = %(campaign)s AND (e.customer_id::bigint * 2654435761) %% 1000 < 200
    """,
]


def main(n: int) -> None:
    assert connection.vendor == "postgresql", "run on PostgreSQL"
    call_command("migrate", verbosity=0)
    with transaction.atomic():
        now = timezone.now()
        started = time.perf_counter()
        campaign = Campaign.objects.create(code="BENCHRES", name="bench", status=CampaignStatus.ENDED)
        first = (Customer.objects.aggregate(hi=Max("id"))["hi"] or 0) + 1
        params = {"first": first, "last": first + n - 1, "campaign": campaign.pk, "now": now}
        with connection.cursor() as cursor:
            for sql in SEED_SQL:
                cursor.execute(sql, params)
            cursor.execute("ANALYZE")
        print(f"seeded {n:,} customers, enrolments and 3 snapshots each in {time.perf_counter() - started:.1f} s")

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
