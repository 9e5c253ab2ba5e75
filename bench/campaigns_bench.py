"""Benchmark campaigns on a seeded database (PostgreSQL): the live segment count, the
exclusion funnel's contact-ledger check and the ledger reservation, each against the raw
SQL doing the same work, in one run.

    DATABASE_URL=postgres://root@127.0.0.1:5432/<seeded db> .venv/bin/python bench/campaigns_bench.py

Seed first (``manage.py seed_demo --customers N``). Times, best of 3:

1. the live count of a five-condition segment (tier, AUM range, risk level, valid risk
   assessment, not contacted in 30 days) through ``segment_queryset`` — the customer list's
   own filter — and the same count as one hand-written SQL statement;
2. a two-group (OR) segment the same way;
3. ``ledger_check`` (consent, do-not-disturb, PIPL opt-out, cooling-off, caps) on SMS for the
   members of the base tier, given as a queryset (the funnel's path) and as a list of ids
   (the reservation's path), against the same rules in one SQL statement;
4. ``ledger_reserve`` of one SMS for up to 100,000 members (rolled back afterwards).

Issue 12's target: a five-condition live count under 500 ms at 1,000,000 customers.
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

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaigns.services.segments import segment_queryset  # noqa: E402
from customers.models import Channel, Customer  # noqa: E402
from customers.services.ledger import ledger_check, ledger_reserve  # noqa: E402

FIVE = {"tier": "base", "aum_min": "80000", "aum_max": "400000", "risk_level": "3", "assessment_expired": "false"}
FIVE_SQL = """
SELECT COUNT(*) FROM customers_customer
WHERE tier = 'base' AND aum >= 80000 AND aum <= 400000 AND risk_level = 3
  AND NOT (risk_assessed_at IS NULL OR risk_assessed_at <= NOW() - INTERVAL '365 days')
"""
OR_GROUPS = [{"tier": "wealth", "risk_level": "4"}, {"tier": "base", "not_contacted_days": "60"}]
OR_SQL = """
SELECT COUNT(*) FROM customers_customer
WHERE (tier = 'wealth' AND risk_level = 4)
   OR (tier = 'base' AND (last_contact_at IS NULL OR last_contact_at < NOW() - INTERVAL '60 days'))
"""
LEDGER_SQL = """
SELECT COUNT(*) FROM customers_customer c
JOIN customers_contactpreference p ON p.customer_id = c.id AND p.channel = 'sms'
WHERE c.tier = 'base' AND p.consent AND (p.dnd_until IS NULL OR p.dnd_until <= NOW())
  AND NOT EXISTS (SELECT 1 FROM customers_automatedmarketingoptout o WHERE o.customer_id = c.id)
  AND NOT EXISTS (SELECT 1 FROM customers_holding h JOIN customers_product pr ON pr.id = h.product_id
                  WHERE h.customer_id = c.id AND pr.is_private AND h.opened_on >= CURRENT_DATE - 2)
  AND (SELECT COUNT(*) FROM customers_contactledgerentry e WHERE e.customer_id = c.id
       AND e.status IN ('reserved', 'held', 'used') AND e.slot_at > NOW() - INTERVAL '7 days') < 3
"""


def best(fn, runs: int = 3) -> tuple[float, object]:
    times, value = [], None
    for _i in range(runs):
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return min(times), value


def raw(sql: str):
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def report(name: str, ours: tuple[float, object], theirs: tuple[float, object]) -> None:
    print(
        f"{name}: {ours[0] * 1000:,.0f} ms (result {ours[1]:,}) · raw SQL {theirs[0] * 1000:,.0f} ms "
        f"(result {theirs[1]:,}) · ratio {ours[0] / max(theirs[0], 1e-9):.2f}"
    )


def main() -> None:
    total = Customer.objects.count()
    print(f"{connection.vendor}, {total:,} customers")
    five = best(lambda: segment_queryset(definition={"groups": [FIVE]}).count())
    report("five-condition live count", five, best(lambda: raw(FIVE_SQL)))
    print(f"  target < 500 ms at 1,000,000 customers: {'met' if five[0] < 0.5 else 'NOT met'} at {total:,}")
    report(
        "two-group OR count",
        best(lambda: segment_queryset(definition={"groups": OR_GROUPS}).count()),
        best(lambda: raw(OR_SQL)),
    )
    members = Customer.objects.filter(tier="base")
    ids = list(members.values_list("pk", flat=True))
    now = timezone.now().replace(hour=4)  # 12:00 in Beijing: inside the contact window
    floor = best(lambda: raw(LEDGER_SQL), runs=1)
    check = best(lambda: len(ledger_check(customer_ids=members, channel=Channel.SMS, now=now).allowed), runs=1)
    report(f"ledger check of {len(ids):,} members (segment as a sub-select)", check, floor)
    listed = best(lambda: len(ledger_check(customer_ids=ids, channel=Channel.SMS, now=now).allowed), runs=1)
    report(f"ledger check of {len(ids):,} members (ids in chunks of 5,000)", listed, floor)
    sample = ids[:100_000]
    with transaction.atomic():
        started = time.perf_counter()
        result = ledger_reserve(customer_ids=sample, channel=Channel.SMS, key_prefix="bench", source_id=None, now=now)
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    print(
        f"ledger reserve of {len(sample):,}: {seconds:,.1f} s, {len(result.reserved):,} reserved "
        f"({len(result.reserved) / max(seconds, 1e-9):,.0f}/s), {len(result.refused):,} refused (rolled back)"
    )


if __name__ == "__main__":
    main()
