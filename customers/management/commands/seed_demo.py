"""python manage.py seed_demo --customers N --seed S [--if-empty] [--today YYYY-MM-DD]"""

from __future__ import annotations

import datetime as dt
import json
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from customers import demo
from customers.models import Customer


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

        _ref, stats = demo.seed(customers=customers, seed=seed, anchor=anchor, progress=progress)
        seconds = time.monotonic() - started
        summary = {"seconds": round(seconds, 1), "seed": seed, **stats.__dict__}
        if options["json"]:
            self.stdout.write(_json_dumps(summary))
        else:
            self.stdout.write(
                _("Seeded %(customers)s customers in %(seconds).1f s: %(details)s")
                % {"customers": f"{customers:,}", "seconds": seconds, "details": _json_dumps(stats.__dict__)}
            )


def _json_dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
