"""Benchmark the trigger sweep on PostgreSQL: a maturity trigger and an outflow trigger
over the whole customer base, each against the raw SQL that finds the same events, in
one run.

    DATABASE_URL=postgres://root@127.0.0.1:5432/<db> .venv/bin/python bench/campaign_trigger_sweep.py [N]

The database is migrated and, when it holds fewer than N customers (default 1,000,000),
topped up with synthetic ones in SQL: one holding each (maturities spread over a year,
about 2 % within the trigger's 7 days) and three asset snapshots in the last 28 days
(one customer in 20 down 30 %). Reported, for each trigger:

1. the raw SQL statement returning the (customer, occurrence) events;
2. the finders alone (``trigger_events`` chunk by chunk), and that they find the same set;
3. the first sweep (finds, enters through ``enrol_customers``, advances the journey);
4. the steady state every few minutes: the same sweep again, entering nobody.

Issue 12's target: a trigger sweep over 1,000,000 customers under 30 s.
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

import datetime as dt  # noqa: E402
from decimal import Decimal  # noqa: E402

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max, Min  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaigns.models import (  # noqa: E402
    Campaign,
    CampaignStatus,
    CampaignStep,
    Enrolment,
    JourneyEvent,
    StepKind,
    Trigger,
    TriggerKind,
)
from campaigns.triggers.events import trigger_events  # noqa: E402
from campaigns.triggers.sweep import trigger_sweep  # noqa: E402
from customers.models import Customer  # noqa: E402

MATURITY_SQL = """
SELECT h.customer_id, 'maturity:' || h.id || ':' || to_char(h.maturity_date, 'YYYY-MM-DD')
FROM customers_holding h WHERE h.maturity_date BETWEEN %(today)s AND %(until)s
"""
OUTFLOW_SQL = """
SELECT customer_id FROM (
  SELECT customer_id, max(aum) AS peak, (array_agg(aum ORDER BY date DESC))[1] AS latest
  FROM customers_assetsnapshot WHERE date BETWEEN %(since)s AND %(today)s GROUP BY customer_id
) s WHERE s.peak >= s.latest + %(amount)s OR (s.peak > 0 AND s.latest <= s.peak * (1 - %(percent)s / 100.0))
"""


def seed(n: int) -> None:
    """Top the base up to ``n`` customers, each with one holding and three snapshots."""
    have = Customer.objects.count()
    if have >= n:
        print(f"reusing {have:,} customers")
        return
    started = time.perf_counter()
    first = (Customer.objects.aggregate(hi=Max("id"))["hi"] or 0) + 1
    last = first + (n - have) - 1
    today = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_product (code, name, type, risk_level, min_amount, on_shelf, is_private, issuer) "
            "VALUES ('BENCH-TRG', '触发器基准理财', 'wealth', 2, 10000, true, false, '') ON CONFLICT (code) DO NOTHING"
        )
        cursor.execute("SELECT id FROM customers_product WHERE code = 'BENCH-TRG'")
        product = cursor.fetchone()[0]
        params = {"first": first, "last": last, "today": today, "product": product}
        cursor.execute(
            """
            INSERT INTO customers_customer (id, customer_no, name, gender, mobile, mobile_last4, id_number, id_last4,
              city, occupation, education, marital_status, tier, aum, lifecycle_stage, attributes, created_at,
              updated_at, risk_level, risk_assessed_at, birth_date, last_contact_at)
            SELECT g, 'TB' || lpad(g::text, 12, '0'), '客户' || g, 'F', '139' || lpad((g %% 100000000)::text, 8, '0'),
              lpad((g %% 10000)::text, 4, '0'), '', '', '上海', '', '', '', 'base', 300000, 'mature', '{}',
              now() - interval '400 days', now(), 3, now() - (g %% 500) * interval '1 day',
              date '1960-01-01' + (g %% 15000)::int, now() - (g %% 200) * interval '1 day'
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) g
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO customers_holding (customer_id, product_id, amount, opened_on, maturity_date)
            SELECT g, %(product)s, 100000, %(today)s::date - 100, %(today)s::date + ((g * 7919) %% 365)::int
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) g
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO customers_assetsnapshot (customer_id, date, aum, deposits, wealth, funds, insurance, other)
            SELECT g, %(today)s::date - d,
              CASE WHEN d = 0 AND g %% 20 = 0 THEN 210000 ELSE 300000 END, 0, 0, 0, 0, 0
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) g, (VALUES (0), (14), (28)) AS days(d)
            """,
            params,
        )
        cursor.execute("ANALYZE customers_customer; ANALYZE customers_holding; ANALYZE customers_assetsnapshot")
    print(f"seeded {n - have:,} customers in {time.perf_counter() - started:.1f} s")


def bench_campaign(code: str, kind: str, **params) -> Trigger:
    defaults = {"name": f"基准 {kind}", "status": CampaignStatus.RUNNING, "salt": code, "control_percent": 0}
    campaign, _created = Campaign.objects.get_or_create(code=code, defaults=defaults)
    CampaignStep.objects.get_or_create(campaign=campaign, version=1, position=1, kind=StepKind.WAIT, wait_hours=24)
    Trigger.objects.filter(campaign=campaign).delete()
    JourneyEvent.objects.filter(campaign=campaign).delete()
    Enrolment.objects.filter(campaign=campaign).delete()
    return Trigger.objects.create(campaign=campaign, kind=kind, **params)


def timed(fn):
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def raw(sql: str, params: dict) -> set:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {tuple(row) for row in cursor.fetchall()}


def find_all(trigger: Trigger, now) -> set:
    bounds = Customer.objects.aggregate(lo=Min("id"), hi=Max("id"))
    size = settings.WORKBENCH_CAMPAIGN_TRIGGER_CHUNK
    found = set()
    for lo in range(bounds["lo"], bounds["hi"] + 1, size):
        found.update(trigger_events(trigger=trigger, lo=lo, hi=lo + size, now=now))
    return found


def report(name: str, trigger: Trigger, sql: str, params: dict, now, key) -> None:
    t_raw, expected = timed(lambda: raw(sql, params))
    t_find, found = timed(lambda: find_all(trigger, now))
    t_first, first = timed(lambda: trigger_sweep(trigger_id=trigger.pk, now=now))
    t_again, again = timed(lambda: trigger_sweep(trigger_id=trigger.pk, now=now + dt.timedelta(minutes=5)))
    same = {key(p) for p in found} == expected
    print(f"\n{name}: {len(expected):,} events (raw SQL), the finders agree: {'yes' if same else 'NO'}")
    print(f"  raw SQL                     {t_raw * 1000:9.0f} ms")
    print(f"  finders, chunk by chunk     {t_find * 1000:9.0f} ms   ratio {t_find / t_raw:6.1f}x")
    print(
        f"  first sweep (enters {first.entered:,})   {t_first * 1000:9.0f} ms   ratio {t_first / t_raw:6.1f}x"
        f"   ({first.chunks} chunks, {first.skipped:,} left out by the holdout;"
        f" journey_advance {first.advance_seconds * 1000:.0f} ms of it)"
    )
    print(
        f"  sweep again (enters {again.entered})        {t_again * 1000:9.0f} ms   ratio {t_again / t_raw:6.1f}x"
        f"   target < 30 s: {'met' if max(t_first, t_again) < 30 else 'MISSED'}"
    )


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    if connection.vendor != "postgresql":
        sys.exit("Run this against PostgreSQL (DATABASE_URL=postgres://…).")
    call_command("migrate", verbosity=0)
    seed(n)
    now = timezone.now()
    today = timezone.localdate(now)
    total = Customer.objects.count()
    print(f"{total:,} customers, chunks of {settings.WORKBENCH_CAMPAIGN_TRIGGER_CHUNK:,} ids")
    maturity = bench_campaign("BENCH-TRG-MAT", TriggerKind.MATURITY, days=7)
    report(
        "maturity within 7 days",
        maturity,
        MATURITY_SQL,
        {"today": today, "until": today + dt.timedelta(days=7)},
        now,
        key=lambda pair: pair,
    )
    outflow = bench_campaign(
        "BENCH-TRG-OUT", TriggerKind.OUTFLOW, percent=Decimal(20), amount=Decimal(100000), window_days=30
    )
    report(
        "outflow ≥ 20 % or ≥ 100,000 CNY within 30 days",
        outflow,
        OUTFLOW_SQL,
        {"today": today, "since": today - dt.timedelta(days=30), "amount": 100000, "percent": 20},
        now,
        key=lambda pair: (pair[0],),
    )


if __name__ == "__main__":
    main()
