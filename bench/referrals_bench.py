"""Referral pages and the SLA task at branch scale.

Usage (PostgreSQL; creates its own branch, staff and referrals with set-based SQL, so it
runs on an empty migrated database or next to seed data):

    DJANGO_SECRET_KEY=dev DATABASE_URL=postgres://root@127.0.0.1:5432/wb_bench \\
        .venv/bin/python bench/referrals_bench.py --referrals 20000

Renders the branch manager's inbox (and its htmx table swap), the "all" tab, a detail
page and the dashboard in-process with Django's test client (server time without the
network), reports median / p95 and query counts, then times the SLA beat task on the
overdue referrals twice (the second run must do nothing).
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
os.environ.setdefault("DJANGO_STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage")

import django  # noqa: E402

django.setup()

import datetime as dt  # noqa: E402

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from org.models import Branch, Team  # noqa: E402
from org.roles import Role  # noqa: E402
from org.tests.factories import make_staff  # noqa: E402
from referrals.models import Referral  # noqa: E402
from referrals.services import referral_sla_check  # noqa: E402


def setup(n: int):
    branch, _ = Branch.objects.get_or_create(code="BENCHREF", defaults={"name": "基准支行", "city": "上海"})
    team, _ = Team.objects.get_or_create(code="BENCHT", defaults={"name": "基准团队"})
    users = get_user_model().objects
    manager = users.filter(username="bench_ref_mgr").first() or make_staff(
        Role.BRANCH_MANAGER, username="bench_ref_mgr", branch=branch
    )
    advisor = users.filter(username="bench_ref_adv").first() or make_staff(
        Role.ADVISOR, username="bench_ref_adv", team=team
    )
    team_lead = users.filter(username="bench_ref_lead").first() or make_staff(
        Role.TEAM_LEAD, username="bench_ref_lead", team=team
    )
    for i in range(5):
        if not users.filter(username=f"bench_ref_rm{i}").exists():
            make_staff(Role.BRANCH_RM, username=f"bench_ref_rm{i}", branch=branch)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM referrals_referral WHERE branch_id = %s", [branch.pk])
        have = cur.fetchone()[0]
        if have < n:
            t0 = time.perf_counter()
            cur.execute(
                """
                WITH c AS (
                  INSERT INTO customers_customer (customer_no, name, gender, mobile, mobile_last4, id_number, id_last4,
                      city, occupation, education, marital_status, tier, aum, lifecycle_stage, risk_level,
                      risk_assessed_at, attributes, created_at, updated_at, home_branch_id, owner_id)
                  SELECT 'RB' || lpad((g + %(have)s)::text, 10, '0'), '客户' || g, 'U', '13900000000', '0000', '', '',
                      '上海', '', '', '', 'wealth', 600000, 'mature', 3, now(), '{}', now(), now(), %(branch)s, %(adv)s
                  FROM generate_series(1, %(add)s) g RETURNING id
                ), l AS (
                  INSERT INTO leads_lead (customer_id, team_id, owner_id, source, score, proposed_grade,
                      confirmed_grade, status, reasons, model_version, created_at, updated_at)
                  SELECT id, %(team)s, %(adv)s, 'model', 80 + id %% 20, 'high', 'high', 'referred', '[]', '',
                      now(), now()
                  FROM c RETURNING id, customer_id
                )
                INSERT INTO referrals_referral (lead_id, customer_id, branch_id, branch_reason, from_advisor_id, status,
                    needs_summary, ai_highlights, score, reasons, products_of_interest, preferred_contact_time,
                    review_due_at, reject_reason, reject_note, outcome_note, created_at, updated_at)
                SELECT id, customer_id, %(branch)s, '', %(adv)s, 'pending', '到期资金再配置', '[]', 85, '[]', '[]', '',
                    now() - (id %% 3 - 1) * interval '1 day', '', '', '', now() - (id %% 30) * interval '1 hour', now()
                FROM l
                """,
                {"have": have, "add": n - have, "branch": branch.pk, "adv": advisor.pk, "team": team.pk},
            )
            print(f"created {n - have} referrals in {time.perf_counter() - t0:.1f} s")
        cur.execute("ANALYZE referrals_referral")
    return branch, manager, team_lead


def measure(client: Client, url: str, repeat: int, **headers) -> tuple[float, float, int]:
    client.get(url, **headers)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        response = client.get(url, **headers)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as ctx:
        client.get(url, **headers)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(ctx.captured_queries)


def measure_accept(client: Client, branch, repeat: int) -> None:
    """POST accept on pending referrals (the service, the redirect answer), server time,
    queries and the slowest statements: where the time of an accept goes."""
    rm = get_user_model().objects.get(username="bench_ref_rm0")
    pending = list(Referral.objects.filter(branch=branch, status="pending").order_by("pk")[: repeat + 1])
    times, slowest = [], {}
    for i, referral in enumerate(pending):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            response = client.post(f"/referrals/{referral.pk}/accept/", {"rm": rm.pk})
            elapsed = (time.perf_counter() - t0) * 1000
        assert response.status_code == 302, response.status_code
        if i == 0:
            continue  # warm-up
        times.append(elapsed)
        for q in ctx.captured_queries:
            key = q["sql"][:90]
            slowest[key] = max(slowest.get(key, 0.0), float(q["time"]) * 1000)
    times.sort()
    print(
        f"{'accept (POST, server time)':38} {statistics.median(times):10.1f} "
        f"{times[int(len(times) * 0.95) - 1]:8.1f} {len(ctx.captured_queries):8d}"
    )
    for sql, ms in sorted(slowest.items(), key=lambda kv: -kv[1])[:4]:
        print(f"    slowest statement {ms:6.1f} ms  {sql}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--referrals", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    branch, manager, team_lead = setup(args.referrals)
    client = Client()
    client.force_login(manager)
    lead_client = Client()
    lead_client.force_login(team_lead)
    one = Referral.objects.filter(branch=branch).order_by("pk").first()
    pages = [
        ("inbox (pending by SLA urgency)", "/referrals/?tab=inbox", {}),
        (
            "inbox htmx table swap, page 50 (25/pg)",
            "/referrals/?tab=inbox&page=50",
            {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "table"},
        ),
        ("all tab", "/referrals/?tab=all", {}),
        ("detail", f"/referrals/{one.pk}/", {}),
        ("dashboard", "/referrals/dashboard/", {}),
    ]
    # The team lead's list: the team's referrals through Referral.objects.restrict.
    lead_pages = [
        ("team lead: all tab", "/referrals/?tab=all", {}),
        (
            "team lead: htmx page 50",
            "/referrals/?tab=all&page=50",
            {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "table"},
        ),
        ("team lead: dashboard", "/referrals/dashboard/", {}),
    ]
    total = Referral.objects.filter(branch=branch).count()
    print(f"branch referrals: {total}")
    print(f"{'page':38} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
    for who, rows in ((client, pages), (lead_client, lead_pages)):
        for label, url, headers in rows:
            median, p95, queries = measure(who, url, args.repeat, **headers)
            print(f"{label:38} {median:10.1f} {p95:8.1f} {queries:8d}")
    measure_accept(client, branch, args.repeat)
    t0 = time.perf_counter()
    first = referral_sla_check()
    t1 = time.perf_counter()
    second = referral_sla_check()
    t2 = time.perf_counter()
    print(f"sla_check first run: {first} in {t1 - t0:.2f} s; second run: {second} in {t2 - t1:.2f} s")
    later = timezone.now() + dt.timedelta(days=6)
    t3 = time.perf_counter()
    escalation = referral_sla_check(now=later)
    t4 = time.perf_counter()
    again = referral_sla_check(now=later)
    t5 = time.perf_counter()
    print(f"escalation run (+6 days): {escalation} in {t4 - t3:.2f} s; again: {again} in {t5 - t4:.2f} s")
    if first["marked_overdue"]:
        print(
            f"  per overdue referral: {(t1 - t0) * 1000 / first['marked_overdue']:.2f} ms;"
            f" second/first = {(t2 - t1) / (t1 - t0):.3f}"
        )


if __name__ == "__main__":
    main()
