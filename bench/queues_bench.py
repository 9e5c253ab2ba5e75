"""Queue pages at scale: server time and query counts at 1,000,000 customers / 300,000 open leads.

Usage (on a PostgreSQL database seeded with seed_demo; missing volume is topped up here
with set-based INSERT … SELECT generate_series, so any seed size works):

    DJANGO_SECRET_KEY=dev DATABASE_URL=postgres://root@127.0.0.1:5432/wb_bench \\
        .venv/bin/python bench/queues_bench.py --customers 1000000 --open-leads 300000

It renders every queue tab (and its htmx table swap), the call screen and the team-lead
metrics page in-process with Django's test client — the time measured is the server's
whole request (middleware, queries, template), without the network — and reports the
median / p95 per page, the query count, and the ratio to the 50 ms budget.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost")
# Rendering without collectstatic: plain static URLs (the manifest is a deploy-time artefact).
os.environ.setdefault("DJANGO_STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from calls.selectors import advisor_kpis  # noqa: E402
from leads.models import OPEN_LEAD_STATUSES, Lead  # noqa: E402
from leads.services import lead_claim_next  # noqa: E402

BUDGET_MS = 50.0


def top_up(*, customers: int, open_leads: int) -> None:
    """Add plain customers and open leads until the targets are met (idempotent)."""
    with connection.cursor() as cur:
        # Bulk loaders write explicit ids: move the identity sequences past them first.
        for table in ("customers_customer", "leads_lead", "leads_plannedcall"):
            cur.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))"
            )
        cur.execute("SELECT count(*) FROM customers_customer")
        have = cur.fetchone()[0]
        if have < customers:
            t0 = time.perf_counter()
            cur.execute(
                """
                INSERT INTO customers_customer (customer_no, name, gender, mobile, mobile_last4, id_number, id_last4,
                    city, occupation, education, marital_status, tier, aum, lifecycle_stage, risk_level,
                    risk_assessed_at, attributes, created_at, updated_at, home_branch_id)
                SELECT 'BQ' || lpad(g::text, 10, '0'), '客户' || g, 'U', '139' || lpad((g %% 100000000)::text, 8, '0'),
                    lpad((g %% 10000)::text, 4, '0'), '', '', '上海', '', '', '', 'base', 50000 + (g %% 400000),
                    'mature', 1 + g %% 5, now() - (g %% 500) * interval '1 day', '{}', now(), now(),
                    (SELECT id FROM org_branch ORDER BY id LIMIT 1)
                FROM generate_series(1, %s) AS g
                ON CONFLICT (customer_no) DO NOTHING
                """,
                [customers - have],
            )
            print(f"  + {customers - have:,} customers in {time.perf_counter() - t0:.1f} s")
        cur.execute(
            "SELECT count(*) FROM leads_lead WHERE status IN "
            "('new','confirmed','contacting','nurturing','referred','pooled')"
        )
        have_leads = cur.fetchone()[0]
        if have_leads < open_leads:
            t0 = time.perf_counter()
            cur.execute(
                """
                WITH teams AS (SELECT array_agg(id ORDER BY id) AS ids FROM org_team),
                     free AS (
                        SELECT c.id, row_number() OVER (ORDER BY c.id) AS n FROM customers_customer c
                        WHERE NOT EXISTS (SELECT 1 FROM leads_lead l WHERE l.customer_id = c.id
                              AND l.status IN ('new','confirmed','contacting','nurturing','referred','pooled'))
                        LIMIT %s)
                INSERT INTO leads_lead (customer_id, team_id, source, score, proposed_grade, confirmed_grade, status,
                    reasons, model_version, created_at, updated_at)
                SELECT f.id, teams.ids[1 + f.n %% array_length(teams.ids, 1)], 'model', (f.n * 7919 %% 1000) / 10.0,
                    CASE WHEN f.n %% 10 < 2 THEN 'high' WHEN f.n %% 10 < 6 THEN 'mid' ELSE 'low' END,
                    CASE WHEN f.n %% 10 >= 7 THEN 'low' ELSE '' END,
                    CASE WHEN f.n %% 10 >= 7 THEN 'pooled' ELSE 'new' END,
                    '[{"code": "bench", "text": "资产稳定增长"}]', 'bench', now(), now()
                FROM free f, teams
                """,
                [open_leads - have_leads],
            )
            print(f"  + {open_leads - have_leads:,} open leads in {time.perf_counter() - t0:.1f} s")
        # Autovacuum keeps the visibility map current in production; after a bulk load do
        # it now, or index-only scans would still visit the heap.
        for table in ("customers_customer", "leads_lead", "leads_plannedcall", "referrals_referral"):
            cur.execute(f"VACUUM (ANALYZE) {table}")


def planned_calls_for(advisor, n: int = 300) -> None:
    """Give the advisor a realistic day: nurture touches and callbacks due today, plus a
    backlog of later ones, attached to leads they own (set-based, idempotent)."""
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM leads_plannedcall WHERE advisor_id = %s", [advisor.pk])
        if cur.fetchone()[0] >= n:
            return
        cur.execute(
            """
            INSERT INTO leads_plannedcall (lead_id, customer_id, advisor_id, kind, due_at, status, note, touch_no,
                created_at)
            SELECT l.id, l.customer_id, %s, CASE WHEN row_number() OVER () %% 3 = 0 THEN 'callback' ELSE 'nurture' END,
                   date_trunc('day', now()) + (row_number() OVER () %% 40) * interval '6 hours', 'planned', '', 1, now()
            FROM leads_lead l WHERE l.team_id = %s AND l.status IN ('nurturing', 'contacting') LIMIT %s
            """,
            [advisor.pk, advisor.staff_profile.team_id, n],
        )
        cur.execute(
            "UPDATE leads_lead SET owner_id = %s "
            "WHERE id IN (SELECT lead_id FROM leads_plannedcall WHERE advisor_id = %s)",
            [advisor.pk, advisor.pk],
        )


def measure(client: Client, url: str, *, runs: int, headers: dict | None = None):
    """Median and p95 of the whole request, median SQL time, query count, status."""
    client.get(url, headers=headers or {})  # warm caches (templates, translations, plans)
    times, sql = [], []
    queries = 0
    status = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            r = client.get(url, headers=headers or {})
            times.append((time.perf_counter() - t0) * 1000)
        queries = len(ctx.captured_queries)
        sql.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
        status = r.status_code
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], statistics.median(sql), queries, status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--open-leads", type=int, default=300_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    print(f"Topping up to {args.customers:,} customers / {args.open_leads:,} open leads …")
    top_up(customers=args.customers, open_leads=args.open_leads)
    users = get_user_model().objects.select_related("staff_profile")
    # The busiest team: the worst case for its advisors' queues.
    busiest = (
        Lead.objects.filter(status__in=OPEN_LEAD_STATUSES)
        .values("team_id")
        .order_by()
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    advisor = users.filter(staff_profile__role="advisor", staff_profile__team_id=busiest["team_id"]).first()
    team_lead = users.filter(staff_profile__role="team_lead", staff_profile__team_id=busiest["team_id"]).first()
    planned_calls_for(advisor)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM customers_customer")
        n_customers = cur.fetchone()[0]
    n_open = Lead.objects.filter(status__in=OPEN_LEAD_STATUSES).count()
    n_team = busiest["n"]
    print(f"Data: {n_customers:,} customers, {n_open:,} open leads; busiest team {n_team:,} open leads")
    print(f"Advisor {advisor.username}, team lead {team_lead.username}; {args.runs} runs per page\n")

    a = Client()
    a.force_login(advisor)
    tl = Client()
    tl.force_login(team_lead)
    lead_id = Lead.objects.filter(owner=advisor).values_list("id", flat=True).first()
    htmx = {"HX-Request": "true", "HX-Target": "table"}
    pages = [
        ("advisor", "queue 待确认 (to confirm)", a, "/leads/?tab=confirm", None),
        ("advisor", "queue 待确认 sorted by AUM, page 3", a, "/leads/?tab=confirm&sort=-aum&page=3", htmx),
        ("advisor", "queue 待确认 filter grade=high", a, "/leads/?tab=confirm&grade=high", htmx),
        ("advisor", "queue 今日外呼 (today)", a, "/leads/?tab=today", None),
        ("advisor", "queue 培育中 (nurturing)", a, "/leads/?tab=nurturing", None),
        ("advisor", "queue 孵化池 (pool)", a, "/leads/?tab=pool", None),
        ("advisor", "queue 已转介 (referred)", a, "/leads/?tab=referred", None),
        ("advisor", "call screen", a, f"/leads/{lead_id}/", None),
        ("advisor", "home (with call KPIs)", a, "/", None),
        ("team lead", "queue 待确认 (whole team)", tl, "/leads/?tab=confirm", None),
        ("team lead", "queue 孵化池 (pool)", tl, "/leads/?tab=pool", None),
        ("team lead", "metrics by day, 14 days", tl, "/leads/metrics/", None),
    ]
    print(f"{'who':10} {'page':40} {'median ms':>10} {'p95 ms':>8} {'SQL ms':>7} {'queries':>8} {'÷ 50 ms':>8}")
    worst = 0.0
    for who, label, client, url, headers in pages:
        med, p95, sql_ms, q, status = measure(client, url, runs=args.runs, headers=headers)
        assert status == 200, (url, status)
        worst = max(worst, med) if "metrics" not in label and "home" not in label else worst
        print(f"{who:10} {label:40} {med:10.1f} {p95:8.1f} {sql_ms:7.1f} {q:8d} {med / BUDGET_MS:8.2f}")

    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        advisor_kpis(user=advisor)
        times.append((time.perf_counter() - t0) * 1000)
    print(f"{'advisor':10} {'home call KPIs (selector alone)':40} {statistics.median(times):10.1f}")

    # Claim next: the SKIP LOCKED pick at this volume (rolled back, nothing changes).
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        try:
            with transaction.atomic():
                lead_claim_next(actor=advisor)
                raise RuntimeError("rollback")
        except RuntimeError:
            pass
        times.append((time.perf_counter() - t0) * 1000)
    print(f"{'advisor':10} {'claim next (service, rolled back)':40} {statistics.median(times):10.1f}")
    print(f"\nSlowest queue page median: {worst:.1f} ms = {worst / BUDGET_MS:.2f} × the 50 ms budget")
    print(f"Load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
