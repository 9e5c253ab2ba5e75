"""python manage.py dashboards_refresh [--days N]

Count the last N days again (default 62, today included) with the task's service, oldest
first: after installing, or after importing history (snapshots, flows, calls), so a past
period's figures, the book's AUM included, come from the records and not only from the
days the beat happened to run. Safe to run twice (each day's rows are replaced)."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from dashboards.services import day_refresh


class Command(BaseCommand):
    help = "Count the dashboards' daily figures of the last N days again."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=62, help="number of days, today included (default 62)")

    def handle(self, *args, days: int, **options):
        if not 1 <= days <= 800:
            raise CommandError(_("--days must be between 1 and 800."))
        today = timezone.localdate()
        rows = sum(day_refresh(day=today - dt.timedelta(days=n)) for n in range(days - 1, -1, -1))
        self.stdout.write(_("Counted %(days)s days: %(rows)s rows.") % {"days": days, "rows": rows})
