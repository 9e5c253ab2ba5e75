"""Benchmark message dispatch to the outbox adapter (PostgreSQL), against the raw SQL floor.

    DATABASE_URL=postgres://root@127.0.0.1:5432/<migrated db> .venv/bin/python bench/channels_dispatch.py [N]

Queues N messages (default 20,000) for customers the bench creates if the database has too
few, then, in one run, best of 3:

1. ``messages_dispatch`` to the outbox adapter, in chunks of WORKBENCH_CHANNEL_DISPATCH_CHUNK:
   each chunk claimed with ``SELECT … FOR UPDATE SKIP LOCKED``, marked sending, sent, and
   recorded (status, gateway id, ledger, one audit event);
2. the floor: one ``UPDATE`` that marks the same rows sent with the same columns.

Prints messages per second and the ratio of the two. Issue 12's target: ≥ 1,000 messages/s.
The bench's rows (messages, customers, audit events) are deleted at the end.
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
os.environ.pop("WORKBENCH_CHANNEL_ADAPTERS", None)  # every channel to the outbox

import datetime as dt  # noqa: E402

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaigns.channels.dispatch import messages_dispatch  # noqa: E402
from campaigns.models import Message, MessageStatus  # noqa: E402
from core.models import AuditEvent  # noqa: E402
from customers.models import Customer  # noqa: E402

PREFIX = "bench-dispatch:"
CUSTOMERS = 2_000

FLOOR_SQL = """
UPDATE campaigns_message
SET status = 'sent', sent_at = NOW(), adapter = 'outbox', external_id = 'outbox-' || id,
    last_error = '', attempts = attempts + 1
WHERE key LIKE %s AND status = 'queued' AND send_after <= NOW()
"""


def _customers() -> list[int]:
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:CUSTOMERS])
    if len(ids) >= CUSTOMERS:
        return ids
    Customer.objects.bulk_create(
        Customer(
            customer_no=f"BENCH{n:08d}",
            name="王小明",
            mobile=f"139{n:08d}",
            mobile_last4=f"{n:08d}"[-4:],
            aum=100_000,
            tier="base",
            risk_level=3,
        )
        for n in range(CUSTOMERS - len(ids))
    )
    return list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:CUSTOMERS])


def _queue(n: int, customers: list[int]) -> None:
    Message.objects.filter(key__startswith=PREFIX).delete()
    at = timezone.now() - dt.timedelta(minutes=1)
    Message.objects.bulk_create(
        (
            Message(
                customer_id=customers[i % len(customers)],
                channel="sms",
                recipient=f"139{i:08d}",
                body="尊敬的王先生：您持有的理财产品将于6月1日到期，如需续投请回复1。",
                key=f"{PREFIX}{i}",
                send_after=at,
            )
            for i in range(n)
        ),
        batch_size=5_000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_message")


def _dispatch() -> int:
    return messages_dispatch().sent


def _floor() -> int:
    with connection.cursor() as cursor:
        cursor.execute(FLOOR_SQL, [PREFIX + "%"])
        return cursor.rowcount


def best(n: int, customers: list[int], fn) -> tuple[float, int]:
    times, done = [], 0
    for _ in range(3):
        _queue(n, customers)
        started = time.perf_counter()
        done = fn()
        times.append(time.perf_counter() - started)
    return min(times), done


def main() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Run on PostgreSQL: set DATABASE_URL.")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    audit_before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    bench_customers = Customer.objects.filter(customer_no__startswith="BENCH")
    customers = _customers()
    try:
        if Message.objects.exclude(key__startswith=PREFIX).filter(status=MessageStatus.QUEUED).exists():
            sys.exit("The database has queued messages of its own: the bench would send them; use another database.")
        dispatch_s, sent = best(n, customers, _dispatch)
        floor_s, updated = best(n, customers, _floor)
        assert sent == updated == n, (sent, updated, n)
        print(f"messages: {n:,}")
        print(f"dispatch to the outbox: {dispatch_s:.3f} s  {n / dispatch_s:,.0f} messages/s  (target ≥ 1,000/s)")
        print(f"raw SQL floor (one UPDATE): {floor_s:.3f} s  {n / floor_s:,.0f} rows/s")
        print(f"ratio dispatch / floor: {dispatch_s / floor_s:.1f}×")
    finally:
        Message.objects.filter(key__startswith=PREFIX).delete()
        AuditEvent.objects.filter(pk__gt=audit_before, verb="message.dispatch").delete()
        bench_customers.delete()


if __name__ == "__main__":
    main()
