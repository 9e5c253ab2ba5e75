"""python manage.py seed_demo --customers N --seed S [--if-empty] [--today YYYY-MM-DD] [--json]

The demo world, composed here at the top from one seeder per app, in layer order. Each
seeder writes only its own app's tables (grants through the lower apps' services):

- org: branches, teams, staff of every role (``org.demo``);
- customers: products and tags, then per chunk the customers and their portrait
  (``customers.demo``);
- compliance: sales scripts through the real review workflow (``compliance.demo``);
- leads: per chunk the open leads and their access grants (``leads.demo``);
- scoring: per chunk the past outcomes with point-in-time features (``scoring.demo``);
- referrals: per chunk a referral for each referred lead, with its grants (``referrals.demo``);
- campaigns: segments and six campaigns across the lifecycle (``campaigns.demo``);
- cadence: the year's 12-4-2-1 touches and the calls planned to keep pace (``cadence.demo``).

Deterministic for ``(customers, seed, today)`` (see ``core.demo``). One audit event
records the seeding itself.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from cadence.demo import seed_cadence
from calls.demo import seed_calls
from campaigns.demo import seed_campaigns
from compliance.demo import seed_scripts, seed_surveillance
from core.audit import audit_record
from core.demo import IdAllocator, RowWriter, chunks
from customers.demo import CustomerSeeder, seed_catalogue
from customers.models import Customer
from leads.demo import LeadSeeder
from org.demo import CAMPAIGN_APPROVER, CAMPAIGN_AUTHOR, COMPLIANCE_OFFICER, SCRIPT_AUTHOR, seed_org
from referrals.demo import ReferralSeeder
from reports.demo import seed_report_script
from scoring.demo import OutcomeSeeder


def seed_world(
    *,
    customers: int,
    seed: int,
    anchor: dt.datetime | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict[str, int]:
    """Create the demo world; returns the number of rows of each kind."""
    anchor = anchor or dt.datetime.now(dt.UTC).replace(hour=2, minute=0, second=0, microsecond=0)
    with transaction.atomic():
        org = seed_org()
        catalogue = seed_catalogue(today=anchor.date())
        seed_scripts(author=org.users[SCRIPT_AUTHOR], officer=org.users[COMPLIANCE_OFFICER])
        seed_report_script(author=org.users[SCRIPT_AUTHOR], officer=org.users[COMPLIANCE_OFFICER])

    writer = RowWriter()
    seeders = (CustomerSeeder, LeadSeeder, OutcomeSeeder, ReferralSeeder)
    written = [model for seeder in seeders for model in seeder.MODELS]
    ids = IdAllocator(writer, written)
    customer_seeder = CustomerSeeder(org=org, catalogue=catalogue, writer=writer, ids=ids)
    lead_seeder = LeadSeeder(org=org, writer=writer, ids=ids)
    outcome_seeder = OutcomeSeeder(catalogue=catalogue, writer=writer, ids=ids)
    referral_seeder = ReferralSeeder(org=org, writer=writer, ids=ids)
    stats = dict.fromkeys((key for seeder in seeders for key in seeder.STATS), 0)

    def add(counts: dict[str, int]) -> None:
        for key, n in counts.items():
            stats[key] += n

    first_index = Customer.objects.count()
    for chunk in chunks(customers=customers, seed=seed, anchor=anchor, first_index=first_index):
        with transaction.atomic():
            book, counts = customer_seeder.seed_chunk(chunk)
            add(counts)
            referred, counts = lead_seeder.seed_chunk(book)
            add(counts)
            add(outcome_seeder.seed_chunk(book))
            add(referral_seeder.seed_chunk(book, referred))
        progress(chunk.first_index + chunk.size - first_index, customers)
    writer.finish(written)
    stats.update(seed_calls(seed=seed, anchor=anchor))
    stats.update(seed_cadence(seed=seed, anchor=anchor))
    with transaction.atomic():
        stats["flags"] = seed_surveillance()
        stats["campaigns"] = seed_campaigns(
            author=org.users[CAMPAIGN_AUTHOR], approver=org.users[CAMPAIGN_APPROVER], today=anchor.date()
        )
        audit_record(
            actor=None,
            verb="demo.seed",
            target_type="customers.customer",
            target_id="*",
            details={"customers": customers, "seed": seed, "stats": stats},
        )
    return stats


class Command(BaseCommand):
    help = "Create deterministic demo data: staff of every role, products, customers and their history."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=3000, help="number of customers (default 3000)")
        parser.add_argument("--seed", type=int, default=42, help="random seed (same seed, same data)")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when customers already exist")
        parser.add_argument(
            "--today", type=dt.date.fromisoformat, default=None, help="anchor date of the demo world (default: today)"
        )
        parser.add_argument("--json", action="store_true", help="print a JSON summary")

    def handle(self, *args, customers: int, seed: int, if_empty: bool, today, **options):
        if customers < 0:
            raise CommandError(_("--customers must be zero or more."))
        if Customer.objects.exists():
            if if_empty:
                self.stdout.write(_("Demo data already present: nothing to do."))
                return
            raise CommandError(
                _("The database already has customers. Use an empty database, or --if-empty to skip seeding.")
            )
        anchor = None
        if today is not None:
            anchor = dt.datetime.combine(today, dt.time(2, 0), tzinfo=dt.UTC)
        started = time.monotonic()
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] > 2 or done == total:
                last[0] = now
                rate = done / max(now - started, 1e-9)
                self.stderr.write(f"  {done:,}/{total:,} customers ({rate:,.0f}/s)")

        stats = seed_world(customers=customers, seed=seed, anchor=anchor, progress=progress)
        seconds = time.monotonic() - started
        summary = {"seconds": round(seconds, 1), "seed": seed, **stats}
        if options["json"]:
            self.stdout.write(_json_dumps(summary))
        else:
            self.stdout.write(
                _("Seeded %(customers)s customers in %(seconds).1f s: %(details)s")
                % {"customers": f"{customers:,}", "seconds": seconds, "details": _json_dumps(stats)}
            )


def _json_dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
