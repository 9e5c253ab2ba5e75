"""Benchmark the customer list, search and portrait on PostgreSQL (issue 3).

    DATABASE_URL=postgres://root@127.0.0.1:5432/<db> .venv/bin/python bench/customers_portrait_bench.py [N]

Uses the database as it is when it already holds customers (seed it first with
``manage.py seed_demo --customers 1000000``); on an empty database it runs seed_demo
with N customers (default 1,000,000). Then, through Django's test client in this process
(so the time is server time: URL routing, middleware, queries, templates), it measures
the median of 15 requests and the number of queries of:

- the first page of the customer list (administrator: all customers; an advisor: the book);
- an exact customer-number search and a mobile-last-4 search;
- the portrait and each of its tabs (its own and those the apps above register) for a
  customer with 730 daily snapshots, 100 holdings and 1,000 interactions (created here
  once, idempotently);

and compares the capped count the list uses with an exact COUNT(*) over all customers, and
the list plan of ``Customer.objects.restrict`` (PostgreSQL's OFFSET 0 fence) with the plain
rule for an advisor and a team lead.
Targets: list and searches under 50 ms, portrait and tabs under 80 ms.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ.setdefault("DJANGO_STATICFILES_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from customers import models as m  # noqa: E402
from customers.views import portrait_tabs  # noqa: E402
from org import models as org_models  # noqa: E402
from org.roles import Role  # noqa: E402

RUNS = 15
settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]


def measure(client: Client, url: str, **headers) -> tuple[float, int]:
    client.get(url, **headers)  # warm up (template loading, connection)
    times = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as q:
            t = time.perf_counter()
            r = client.get(url, **headers)
            times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    return statistics.median(times), len(q)


def heavy_customer() -> m.Customer:
    """A customer with 730 daily snapshots, 100 holdings and 1,000 interactions."""
    c, created = m.Customer.objects.get_or_create(
        customer_no="BENCH-HEAVY-1",
        defaults={
            "name": "压测客户",
            "mobile": "13900009999",
            "aum": Decimal("2500000"),
            **m.derived_columns(mobile="13900009999", id_number="", aum=Decimal("2500000")),
            "risk_level": 4,
            "risk_assessed_at": timezone.now() - dt.timedelta(days=340),
            "birth_date": dt.date(1958, 3, 1),
        },
    )
    if not created and m.Interaction.objects.filter(customer=c).count() >= 1000:
        return c
    today = timezone.localdate()
    m.AssetSnapshot.objects.filter(customer=c).delete()
    m.AssetSnapshot.objects.bulk_create(
        m.AssetSnapshot(
            customer=c,
            date=today - dt.timedelta(days=d),
            aum=Decimal(2_000_000 + d * 700),
            deposits=Decimal(800_000),
            wealth=Decimal(900_000),
            funds=Decimal(300_000 + d * 700),
        )
        for d in range(730)
    )
    products = list(m.Product.objects.all()[:20]) or [
        m.Product.objects.create(code="BENCH-P", name="压测理财", type="wealth", risk_level=2)
    ]
    m.Holding.objects.filter(customer=c).delete()
    m.Holding.objects.bulk_create(
        m.Holding(
            customer=c,
            product=products[i % len(products)],
            amount=Decimal(10_000 + i),
            opened_on=today - dt.timedelta(days=200),
            maturity_date=today + dt.timedelta(days=i * 3),
        )
        for i in range(100)
    )
    m.Interaction.objects.filter(customer=c).delete()
    turns = [
        {"speaker": "bot" if t % 2 == 0 else "customer", "text": "您好，请问理财到期后怎么安排？" * 2} for t in range(8)
    ]
    m.Interaction.objects.bulk_create(
        m.Interaction(
            customer=c,
            channel=m.Channel.AI_BOT if i % 3 == 0 else m.Channel.PHONE,
            occurred_at=timezone.now() - dt.timedelta(hours=i * 7),
            summary="回访客户，介绍到期再投资方案。",
            transcript=turns if i % 3 == 0 else None,
            intents=["ask_maturity"] if i % 3 == 0 else [],
        )
        for i in range(1000)
    )
    return c


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    assert connection.vendor == "postgresql", "run this on PostgreSQL"
    if not m.Customer.objects.exists():
        t = time.perf_counter()
        call_command("seed_demo", customers=n, seed=7)
        print(f"seeded {n:,} customers in {time.perf_counter() - t:.0f}s")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    total = m.Customer.objects.count()
    admin = org_models.StaffProfile.objects.filter(role=Role.ADMIN).select_related("user").first().user
    advisor_profile = (
        org_models.StaffProfile.objects.filter(role=Role.ADVISOR)
        .select_related("user")
        .order_by("user__username")
        .first()
    )
    advisor = advisor_profile.user
    team_lead = (
        org_models.StaffProfile.objects.filter(role=Role.TEAM_LEAD, team_id=advisor_profile.team_id)
        .select_related("user")
        .first()
        .user
    )
    book = m.Customer.objects.filter(owner=advisor).count()
    heavy = heavy_customer()
    heavy.owner = advisor
    heavy.save(update_fields=["owner"])
    sample = m.Customer.objects.filter(owner=advisor).exclude(mobile_last4="").order_by("id").first()

    print(f"customers: {total:,}; advisor {advisor.username} owns {book:,}")
    rows = []
    for who, user in (("admin", admin), ("advisor", advisor)):
        c = Client()
        c.force_login(user)
        rows.append((f"list first page ({who})", *measure(c, "/customers/"), 50))
        rows.append((f"list last page, 20 ({who})", *measure(c, "/customers/?page=20"), 50))
        rows.append((f"search customer number ({who})", *measure(c, f"/customers/?q={sample.customer_no}"), 50))
        rows.append((f"search mobile last 4 ({who})", *measure(c, f"/customers/?q={sample.mobile_last4}"), 50))
        rows.append(
            (
                f"list htmx table only ({who})",
                *measure(c, "/customers/?tier=base", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="table"),
                50,
            )
        )
    c = Client()
    c.force_login(advisor)
    rows.append(("portrait page (heavy customer)", *measure(c, f"/customers/{heavy.pk}/"), 80))
    for tab in (t.key for t in portrait_tabs()):  # the portrait's own and the registered ones
        rows.append((f"tab {tab} (htmx)", *measure(c, f"/customers/{heavy.pk}/tab/{tab}/", HTTP_HX_REQUEST="true"), 80))

    width = max(len(r[0]) for r in rows)
    print(f"{'request':<{width}}  median ms  queries  target  ok")
    for name, ms, q, target in rows:
        print(f"{name:<{width}}  {ms:9.1f}  {q:7d}  {target:4d}ms  {'OK' if ms < target else 'SLOW'}")

    # What the list plan of restrict() saves over the plain rule (first 50 rows by AUM).
    for who, user in (("advisor", advisor), ("team lead", team_lead)):
        for label, qs in (
            ("restrict (fenced)", m.Customer.objects.restrict(user, "view")),
            ("plain rule", m.Customer.objects.plain_view_rule(user)),
        ):
            times = []
            for _ in range(RUNS):
                t = time.perf_counter()
                list(qs.order_by("-aum", "id").values_list("pk", flat=True)[:50])
                times.append((time.perf_counter() - t) * 1000)
            print(f"first 50 rows, {who}, {label}: {statistics.median(times):.1f} ms")

    # What the capped count saves.
    t = time.perf_counter()
    exact = m.Customer.objects.count()
    exact_ms = (time.perf_counter() - t) * 1000
    cap = settings.WORKBENCH_LIST_COUNT_CAP
    t = time.perf_counter()
    m.Customer.objects.order_by()[: cap + 1].count()
    capped_ms = (time.perf_counter() - t) * 1000
    print(
        f"COUNT(*) over {exact:,} customers: {exact_ms:.1f} ms; capped count (<= {cap + 1:,}): {capped_ms:.1f} ms "
        f"({exact_ms / max(capped_ms, 0.01):.0f}x)"
    )


if __name__ == "__main__":
    main()
