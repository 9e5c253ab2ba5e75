"""Manual marketing calls of the cap window count in the one contact ledger from now on:
record the ones already logged (idempotent: one entry per call, keyed by the call)."""

import datetime as dt

from django.db import migrations
from django.utils import timezone


def backfill(apps, schema_editor):
    CallLog = apps.get_model("calls", "CallLog")
    Entry = apps.get_model("customers", "ContactLedgerEntry")
    since = timezone.now() - dt.timedelta(days=30)
    calls = CallLog.objects.filter(purpose="marketing", started_at__gte=since).values_list("pk", "customer_id", "started_at")
    rows = [
        Entry(
            customer_id=customer_id,
            channel="phone",
            status="used",
            source="manual_call",
            source_id=pk,
            automated=False,
            priority=5,
            slot_at=started_at,
            key=f"call:{pk}",
        )
        for pk, customer_id, started_at in calls.iterator()
    ]
    Entry.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("calls", "0002_dispositions"), ("customers", "0003_contact_ledger")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
