# ruff: noqa: E501  (the SQL reads best one statement a line)
"""Benchmark the dashboards against the raw SQL over the same records, in one run.

    DATABASE_URL=postgres://root@127.0.0.1:5432/<db> .venv/bin/python bench/dashboards_bench.py [CUSTOMERS] [DAYS]

Seeds (INSERT … SELECT generate_series) CUSTOMERS customers (default 100,000) owned by
100 advisors in 10 teams and 20 branches, DAYS days of calls (default 730: two years,
60 calls an advisor a working day), AI-bot sessions, leads, grade decisions and
referrals, a monthly AUM snapshot of each customer over the DAYS (at most 24) and a fund
flow per customer every 120 days; ANALYZE; counts the last 62 days with the task's service (``day_refresh``, timed per
day), then times each dashboard page (server side, Django test client, administrator
scope, the last month against the month before) and the raw SQL that counts the same
figures straight from the record tables. Prints each as ms and as a ratio to the SQL.
Everything it seeds is deleted at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
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
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from dashboards.models import DailyFact, DailyRefresh  # noqa: E402
from dashboards.services import day_refresh  # noqa: E402
from org.models import Branch, StaffProfile, Team  # noqa: E402
from org.roles import Role  # noqa: E402

_parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
_parser.add_argument("customers", nargs="?", type=int, default=100_000, help="customers to seed (default 100,000)")
_parser.add_argument("days", nargs="?", type=int, default=730, help="days of calls and history (default 730)")
_args = _parser.parse_args()
CUSTOMERS = _args.customers
DAYS = _args.days
ADVISORS, TEAMS, BRANCHES = 100, 10, 20
PREFIX = "bench-dash"


def seed() -> dict:
    User = get_user_model()
    teams = [Team.objects.create(code=f"BD{t:02d}", name=f"基准{t}组") for t in range(TEAMS)]
    branches = [Branch.objects.create(code=f"BDB{b:02d}", name=f"基准支行{b}", city="上海") for b in range(BRANCHES)]
    advisors = []
    for n in range(ADVISORS):
        u = User.objects.create_user(username=f"{PREFIX}-adv{n}")
        StaffProfile.objects.create(
            user=u, role=Role.ADVISOR, employee_no=f"BD{n:05d}", display_name=f"顾问{n}", team=teams[n % TEAMS]
        )
        advisors.append(u.pk)
    admin = User.objects.create_user(username=f"{PREFIX}-admin")
    StaffProfile.objects.create(user=admin, role=Role.ADMIN, employee_no="BDADMIN", display_name="管理员")
    ids = {
        "adv_min": min(advisors),
        "branch_min": branches[0].pk,
        "team_min": teams[0].pk,
        "n": CUSTOMERS,
        "days": DAYS,
        "disp": connection.cursor().execute("select min(id) from calls_disposition").fetchone()[0],
    }
    with connection.cursor() as c:
        c.execute(
            """INSERT INTO customers_customer (customer_no, name, gender, mobile, mobile_last4, id_number, id_last4,
                 city, occupation, education, marital_status, tier, aum, lifecycle_stage, attributes, created_at,
                 updated_at, home_branch_id, owner_id)
               SELECT 'BD' || g, '客户' || g, 'F', '', '', '', '', '上海', '', '', '', 'base', 50000 + (g %% 400) * 1000,
                 'mature', '{}', now(), now(), %(branch_min)s + g %% 20, %(adv_min)s + g %% 100
               FROM generate_series(1, %(n)s) g""",
            ids,
        )
        c.execute("SELECT min(id) FROM customers_customer WHERE customer_no LIKE 'BD%%'")
        ids["cust_min"] = c.fetchone()[0]
        # AI-bot sessions: a tenth of the customers a month.
        c.execute(
            """INSERT INTO customers_interaction (customer_id, channel, direction, occurred_at, summary, intents,
                 created_at)
               SELECT %(cust_min)s + (g::bigint * 7919) %% %(n)s, 'ai_bot', 'in',
                 now() - ((g %% %(days)s) || ' days')::interval, '', '[]', now()
               FROM generate_series(1, %(n)s * %(days)s / 300) g""",
            ids,
        )
        # Leads: one per customer at most (a third of them), proposed over the period.
        c.execute(
            """INSERT INTO leads_lead (customer_id, team_id, owner_id, source, score, proposed_grade, confirmed_grade,
                 status, reasons, model_version, proposed_at, created_at, updated_at)
               SELECT %(cust_min)s + g, %(team_min)s + (g %% 100) %% 10, %(adv_min)s + g %% 100, 'model', 60,
                 (ARRAY['high','mid','low'])[1 + g %% 3], '', 'new', '[]', '',
                 now() - ((g %% %(days)s) || ' days')::interval, now(), now()
               FROM generate_series(0, %(n)s / 3) g""",
            ids,
        )
        c.execute(
            """INSERT INTO leads_gradedecision (lead_id, advisor_id, proposed_grade, confirmed_grade, overridden,
                 reason_code, note, model_version, decided_at)
               SELECT l.id, l.owner_id, l.proposed_grade, l.proposed_grade, false, '', '', '',
                 l.proposed_at + interval '1 day'
               FROM leads_lead l JOIN customers_customer cu ON cu.id = l.customer_id
               WHERE cu.customer_no LIKE 'BD%%' AND l.id %% 2 = 0""",
            ids,
        )
        c.execute(
            """INSERT INTO referrals_referral (lead_id, customer_id, branch_id, branch_reason, from_advisor_id, status,
                 needs_summary, preferred_contact_time, accepted_at, converted_amount, closed_at, reject_reason,
                 outcome_note, created_at, updated_at, review_due_at, first_contact_due_at, first_contacted_at,
                 ai_highlights, reasons, products_of_interest, reject_note)
               SELECT l.id, l.customer_id, cu.home_branch_id, '', l.owner_id,
                 CASE WHEN l.id %% 3 = 0 THEN 'converted' ELSE 'pending' END, '', '',
                 CASE WHEN l.id %% 3 = 0 THEN l.proposed_at + interval '3 days' END,
                 CASE WHEN l.id %% 3 = 0 THEN 100000 END,
                 CASE WHEN l.id %% 3 = 0 THEN l.proposed_at + interval '5 days' END, '', '',
                 l.proposed_at + interval '2 days', now(), l.proposed_at + interval '3 days',
                 l.proposed_at + interval '5 days',
                 CASE WHEN l.id %% 3 = 0 THEN l.proposed_at + interval '4 days' END, '[]', '[]', '[]', ''
               FROM leads_lead l JOIN customers_customer cu ON cu.id = l.customer_id
               WHERE cu.customer_no LIKE 'BD%%' AND l.proposed_grade = 'high'""",
            ids,
        )
        # The book's history: a snapshot a month (30 days apart, the last one today), and
        # a fund flow per customer every 120 days (a third of them outflows).
        ids["months"] = min(24, max(1, DAYS // 30))
        c.execute(
            """INSERT INTO customers_assetsnapshot (customer_id, date, aum, deposits, wealth, funds, insurance, other)
               SELECT cu.id, current_date - 30 * m, cu.aum - m * 500, cu.aum - m * 500, 0, 0, 0, 0
               FROM customers_customer cu CROSS JOIN generate_series(0, %(months)s - 1) m
               WHERE cu.customer_no LIKE 'BD%%'""",
            ids,
        )
        c.execute(
            """INSERT INTO customers_fundflow (customer_id, direction, amount, occurred_at, channel, external_id)
               SELECT %(cust_min)s + (g::bigint * 7919) %% %(n)s, CASE WHEN g %% 3 = 0 THEN 'out' ELSE 'in' END,
                 1000 + (g %% 50) * 100, date_trunc('day', now()) - ((g %% %(days)s) || ' days')::interval
                 + interval '3 hours', 'transfer', 'bd-f' || g
               FROM generate_series(1, %(n)s * %(days)s / 120) g""",
            ids,
        )
        # Calls: 60 an advisor a day over DAYS days.
        c.execute(
            """INSERT INTO calls_calllog (customer_id, advisor_id, idempotency_key, purpose, service_reason,
                 started_at, duration_seconds, disposition_id, interest, product_checks, notes, next_action,
                 lost_reason, created_at)
               SELECT %(cust_min)s + (g * 31) %% %(n)s, %(adv_min)s + g %% 100, 'bd-' || g, 'marketing', '',
                 date_trunc('day', now()) - ((g / 6000) || ' days')::interval + ((9 + g %% 11) || ' hours')::interval,
                 60, %(disp)s + g %% 5, 'none', '[]', '', CASE WHEN g %% 50 = 0 THEN 'won' ELSE 'none' END, '', now()
               FROM generate_series(0, 6000 * %(days)s - 1) g""",
            ids,
        )
        c.execute("ANALYZE")
    return {"admin": admin}


def cleanup() -> None:
    with connection.cursor() as c:
        c.execute("DELETE FROM calls_calllog WHERE idempotency_key LIKE 'bd-%%'")
        for sql in (
            "DELETE FROM referrals_referral WHERE customer_id IN (SELECT id FROM customers_customer WHERE customer_no LIKE 'BD%%')",
            "DELETE FROM leads_gradedecision WHERE lead_id IN (SELECT l.id FROM leads_lead l JOIN customers_customer c ON c.id = l.customer_id WHERE c.customer_no LIKE 'BD%%')",
            "DELETE FROM leads_lead WHERE customer_id IN (SELECT id FROM customers_customer WHERE customer_no LIKE 'BD%%')",
            "DELETE FROM customers_interaction WHERE customer_id IN (SELECT id FROM customers_customer WHERE customer_no LIKE 'BD%%')",
            "DELETE FROM customers_assetsnapshot WHERE customer_id IN (SELECT id FROM customers_customer WHERE customer_no LIKE 'BD%%')",
            "DELETE FROM customers_fundflow WHERE external_id LIKE 'bd-f%%'",
            "DELETE FROM customers_customer WHERE customer_no LIKE 'BD%%'",
        ):
            c.execute(sql)
    StaffProfile.objects.filter(employee_no__startswith="BD").delete()
    get_user_model().objects.filter(username__startswith=PREFIX).delete()
    Team.objects.filter(code__startswith="BD").delete()
    Branch.objects.filter(code__startswith="BDB").delete()
    DailyFact.objects.all().delete()
    DailyRefresh.objects.all().delete()


RAW_SQL = {
    # What the funnel page shows, counted from the records for the month and the month before.
    "funnel": [
        "SELECT count(*) FILTER (WHERE occurred_at >= %(start)s), count(*) FROM customers_interaction WHERE channel = 'ai_bot' AND occurred_at >= %(prev)s AND occurred_at < %(end)s",
        "SELECT count(*) FILTER (WHERE coalesce(proposed_at, created_at) >= %(start)s), count(*) FROM leads_lead WHERE coalesce(proposed_at, created_at) >= %(prev)s AND coalesce(proposed_at, created_at) < %(end)s",
        "SELECT confirmed_grade, count(*) FROM leads_gradedecision WHERE decided_at >= %(prev)s AND decided_at < %(end)s GROUP BY 1",
        "SELECT count(*), count(accepted_at), count(*) FILTER (WHERE status = 'converted') FROM referrals_referral WHERE created_at >= %(prev)s AND created_at < %(end)s",
        "SELECT l.team_id, count(*) FROM leads_lead l WHERE coalesce(proposed_at, created_at) >= %(start)s AND coalesce(proposed_at, created_at) < %(end)s GROUP BY 1",
    ],
    # The operations page: calls per advisor and per hour, planned calls, decisions.
    "operations": [
        "SELECT advisor_id, count(*), count(*) FILTER (WHERE d.effective), count(*) FILTER (WHERE next_action = 'won') FROM calls_calllog c JOIN calls_disposition d ON d.id = c.disposition_id WHERE started_at >= %(prev)s AND started_at < %(end)s GROUP BY 1",
        "SELECT advisor_id, extract(hour FROM started_at AT TIME ZONE 'Asia/Shanghai'), count(*) FROM calls_calllog WHERE started_at >= %(start)s AND started_at < %(end)s GROUP BY 1, 2",
        "SELECT date_trunc('day', started_at AT TIME ZONE 'Asia/Shanghai'), count(*) FROM calls_calllog WHERE started_at >= %(start)s AND started_at < %(end)s GROUP BY 1",
        "SELECT advisor_id, count(*) FROM leads_gradedecision WHERE decided_at >= %(prev)s AND decided_at < %(end)s GROUP BY 1",
        "SELECT owner_id, sum(aum) FROM customers_customer WHERE owner_id IS NOT NULL GROUP BY 1",
        # The book the day before the period starts: each customer's latest snapshot by then.
        "SELECT cu.owner_id, sum(s.aum) FROM customers_customer cu CROSS JOIN LATERAL (SELECT aum FROM customers_assetsnapshot s WHERE s.customer_id = cu.id AND s.date < %(start)s::date ORDER BY s.date DESC LIMIT 1) s WHERE cu.owner_id IS NOT NULL GROUP BY 1",
        # Net new money: the book's flows in the period and the one before, by direction.
        "SELECT f.direction, sum(f.amount) FILTER (WHERE f.occurred_at >= %(start)s), sum(f.amount) FILTER (WHERE f.occurred_at < %(start)s) FROM customers_fundflow f JOIN customers_customer cu ON cu.id = f.customer_id WHERE cu.owner_id IS NOT NULL AND f.occurred_at >= %(prev)s AND f.occurred_at < %(end)s GROUP BY 1",
    ],
    "branch": [
        "SELECT assigned_rm_id, branch_id, count(*), count(accepted_at), count(*) FILTER (WHERE status = 'converted'), sum(converted_amount) FROM referrals_referral WHERE created_at >= %(prev)s AND created_at < %(end)s GROUP BY 1, 2",
        "SELECT reject_reason, count(*) FROM referrals_referral WHERE rejected_at >= %(start)s AND rejected_at < %(end)s GROUP BY 1",
    ],
}


def timed(fn, runs: int = 5) -> float:
    fn()  # warm
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main() -> None:
    cleanup()
    t = time.perf_counter()
    world = seed()
    print(f"seeded {CUSTOMERS:,} customers and {6000 * DAYS:,} calls in {time.perf_counter() - t:.0f} s")
    today = timezone.localdate()
    t = time.perf_counter()
    for n in range(62):
        day_refresh(day=today - dt.timedelta(days=n))
    per_day = (time.perf_counter() - t) * 1000 / 62
    print(f"day_refresh: {per_day:.0f} ms a day (the task counts today and yesterday every 15 minutes)")
    for label, day in (("today", today), ("yesterday (the book from the snapshots)", today - dt.timedelta(days=1))):
        t = time.perf_counter()
        day_refresh(day=day)
        print(f"day_refresh {label}: {(time.perf_counter() - t) * 1000:.0f} ms")
    # The test client's host and plain HTTP, as a request behind the proxy would arrive.
    settings.ALLOWED_HOSTS = ["*"]
    settings.SECURE_SSL_REDIRECT = False
    client = Client()
    client.force_login(world["admin"])
    end = today
    start = today.replace(day=1)
    prev = (start - dt.timedelta(days=1)).replace(day=1)
    tz = timezone.get_current_timezone()
    bounds = {
        "start": dt.datetime.combine(start, dt.time(0), tzinfo=tz),
        "prev": dt.datetime.combine(prev, dt.time(0), tzinfo=tz),
        "end": dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=tz),
    }
    params = {"period": "month", "end": end.isoformat()}
    print(f"{'page':<12}{'queries':>8}{'page ms':>10}{'raw SQL ms':>12}{'ratio':>8}")
    for name, path in (
        ("funnel", "/dashboards/"),
        ("operations", "/dashboards/operations/"),
        ("branch", "/dashboards/branch/"),
    ):
        with CaptureQueriesContext(connection) as ctx:
            status = client.get(path, params).status_code
            assert status == 200, status
        page_ms = timed(lambda p=path: client.get(p, params))

        def raw(n=name):
            with connection.cursor() as c:
                for sql in RAW_SQL[n]:
                    c.execute(sql, bounds)
                    c.fetchall()

        raw_ms = timed(raw)
        print(f"{name:<12}{len(ctx.captured_queries):>8}{page_ms:>10.1f}{raw_ms:>12.1f}{page_ms / raw_ms:>8.2f}")
    cleanup()


if __name__ == "__main__":
    main()
