"""Benchmark the global-holdout report on PostgreSQL against hand-written SQL computing the
same figures, in one run; the ratio is the figure (the machine is shared).

    DATABASE_URL=postgres://root@127.0.0.1:5432/<db> .venv/bin/python bench/holdout_report_bench.py [N]

The database is migrated and, when it holds fewer than N customers (default 1,000,000),
topped up in SQL: customers, one holding each (opened over the last year: the
conversions), an asset snapshot every 90 days over 15 months, and 30 % of them entered into
one campaign's treatment arm on a day of the last year (the touched customers).
Reported: ``holdout_report`` (two queries) and the raw SQL (months by generate_series,
the hash inline, LATERAL snapshot look-ups), best of 3 each, and that they agree.
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

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaigns.holdout import holdout_current, holdout_report, report_months  # noqa: E402
from customers.models import Customer  # noqa: E402

RAW_SQL = """
WITH months AS (
  SELECT row_number() OVER (ORDER BY m) AS i, m::date AS start, (m + interval '1 month')::date AS stop
  FROM generate_series(%(first)s::date, %(last)s::date, interval '1 month') m
),
touched AS (
  SELECT DISTINCT e.customer_id, m.i FROM campaigns_enrolment e
  JOIN months m ON e.entered_at >= (m.start::timestamp AT TIME ZONE 'Asia/Shanghai')
               AND e.entered_at < (m.stop::timestamp AT TIME ZONE 'Asia/Shanghai')
  WHERE e.arm = 'treatment'
),
held AS MATERIALIZED (
  SELECT id FROM customers_customer WHERE ((id * %(salt)s::bigint) %% %(modulus)s::bigint) %% 100 < %(percent)s
),
members AS (
  SELECT customer_id, i, 'touched' AS grp FROM touched
  UNION ALL SELECT h.id, m.i, 'holdout' FROM held h CROSS JOIN months m
),
conv AS (
  SELECT x.customer_id, m.i, count(*) AS n FROM (
    SELECT customer_id, (started_at AT TIME ZONE 'Asia/Shanghai')::date AS day FROM calls_calllog
      WHERE next_action = 'won'
    UNION ALL SELECT customer_id, (closed_at AT TIME ZONE 'Asia/Shanghai')::date FROM referrals_referral
      WHERE status = 'converted'
    UNION ALL SELECT customer_id, opened_on FROM customers_holding
  ) x JOIN months m ON x.day >= m.start AND x.day < m.stop GROUP BY x.customer_id, m.i
),
per AS MATERIALIZED (
  SELECT mb.grp, mb.i, coalesce(c.n, 0) AS n, a.aum AS aum_end, b.aum AS aum_prev
  FROM members mb JOIN months m ON m.i = mb.i
  LEFT JOIN conv c ON c.customer_id = mb.customer_id AND c.i = mb.i
  LEFT JOIN LATERAL (SELECT aum FROM customers_assetsnapshot s WHERE s.customer_id = mb.customer_id
                     AND s.date < m.stop ORDER BY s.date DESC LIMIT 1) a ON true
  LEFT JOIN LATERAL (SELECT aum FROM customers_assetsnapshot s WHERE s.customer_id = mb.customer_id
                     AND s.date < m.start ORDER BY s.date DESC LIMIT 1) b ON true
)
SELECT grp, i, count(*), sum(CASE WHEN n > 0 THEN 1 ELSE 0 END), sum(n), count(aum_end), sum(aum_end),
  count(aum_end - aum_prev), sum(aum_end - aum_prev)
FROM per GROUP BY grp, i ORDER BY grp, i
"""


def seed(n: int) -> None:
    have = Customer.objects.count()
    if have >= n:
        print(f"reusing {have:,} customers")
        return
    started = time.perf_counter()
    first = (Customer.objects.aggregate(hi=Max("id"))["hi"] or 0) + 1
    last = first + (n - have) - 1
    params = {"first": first, "last": last, "today": timezone.localdate()}
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO customers_product (code, name, type, risk_level, min_amount, on_shelf, is_private, issuer) "
            "VALUES ('BENCH-HOLD', '对照组基准理财', 'wealth', 2, 10000, true, false, '') ON CONFLICT (code) DO NOTHING"
        )
        cursor.execute("SELECT id FROM customers_product WHERE code = 'BENCH-HOLD'")
        params["product"] = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO customers_customer (id, customer_no, name, gender, mobile, mobile_last4, id_number, id_last4,
              city, occupation, education, marital_status, tier, aum, lifecycle_stage, attributes, created_at,
              updated_at, risk_level, risk_assessed_at, birth_date, last_contact_at)
            SELECT g, 'HB' || lpad(g::text, 12, '0'), '客户' || g, 'F', '139' || lpad((g %% 100000000)::text, 8, '0'),
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
            SELECT g, %(product)s, 100000, %(today)s::date - ((g * 7919) %% 365)::int, %(today)s::date + 200
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) g
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO customers_assetsnapshot (customer_id, date, aum, deposits, wealth, funds, insurance, other)
            SELECT g, %(today)s::date - d - (g %% 30)::int, 200000 + (g %% 1000) * 300 + (450 - d) * 100, 0, 0, 0, 0, 0
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) g,
              (VALUES (0), (90), (180), (270), (360), (450)) AS days(d)
            """,
            params,
        )
        cursor.execute(
            "INSERT INTO campaigns_campaign (code, name, description, channel, segment, status, priority, "
            "created_at, journey_version, control_percent, salt, exit_rules, attribution_days) "
            "VALUES ('BENCH-HOLD', '对照组基准', '', 'sms', '{}', 'running', 5, now(), 1, 10, 'bench', '[]', 30) "
            "ON CONFLICT (code) DO NOTHING"
        )
        cursor.execute("SELECT id FROM campaigns_campaign WHERE code = 'BENCH-HOLD'")
        params["campaign"] = cursor.fetchone()[0]
        cursor.execute(
            """
            INSERT INTO campaigns_enrolment (campaign_id, customer_id, occurrence, version, bucket, arm, state,
              entered_at, exit_reason)
            SELECT %(campaign)s, g, '', 1, 5000, 'treatment', 'completed',
              now() - ((g * 31) %% 360) * interval '1 day', ''
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) g
            WHERE g %% 10 < 3
              AND NOT (((g * 2654435761) %% 4611686018427387904) %% 100 < 5)
            """,
            params,
        )
        cursor.execute(
            "ANALYZE customers_customer; ANALYZE customers_holding; ANALYZE customers_assetsnapshot; "
            "ANALYZE campaigns_enrolment"
        )
    print(f"seeded {n - have:,} customers in {time.perf_counter() - started:.1f} s")


def best_of(fn, runs: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _i in range(runs):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    call_command("migrate", verbosity=0)
    seed(n)
    draw = holdout_current()
    starts = report_months()
    ours_s, months = best_of(holdout_report)

    def raw():
        with connection.cursor() as cursor:
            cursor.execute(
                RAW_SQL,
                {
                    "first": starts[0],
                    "last": starts[-1],
                    "salt": draw.salt,
                    "modulus": draw.modulus,
                    "percent": draw.percent,
                },
            )
            return cursor.fetchall()

    raw_s, rows = best_of(raw)
    ours = {("touched", i): m.touched for i, m in enumerate(months, 1)} | {
        ("holdout", i): m.holdout for i, m in enumerate(months, 1)
    }
    agree = all(
        ours[(grp, i)].customers == customers and ours[(grp, i)].conversions == conversions
        for grp, i, customers, _converted, conversions, *_rest in rows
    )
    print(f"{Customer.objects.count():,} customers, {len(starts)} months, draw {draw.percent} %")
    print(f"holdout_report: {ours_s * 1000:,.0f} ms (two queries)")
    print(f"raw SQL:        {raw_s * 1000:,.0f} ms")
    print(f"ratio:          {ours_s / raw_s:.2f}x; same customers and conversions per group and month: {agree}")


if __name__ == "__main__":
    main()
