"""Writes of the dashboards: counting one day into ``DailyFact`` rows (the task's work)
and recording an export."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, DecimalField, F, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, ExtractHour
from django.utils import timezone

from calls.models import CallLog
from calls.selectors import call_aggregates, planned_aggregates
from campaigns.models import Arm, Enrolment
from core.audit import audit_record
from customers.models import AssetSnapshot, Customer
from leads.models import GradeDecision, PlannedCall, PlannedCallKind, PlannedCallStatus
from org.models import StaffProfile

from .models import DailyFact, DailyRefresh, Metric
from .sources import SOURCES

# A callback counts as kept when it was made no later than this after the agreed time.
CALLBACK_GRACE_MINUTES = 60
_CHUNK = 5000


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The day's start and end in Asia/Shanghai (the time zone of the pages)."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz)
    return start, start + dt.timedelta(days=1)


class _Counter:
    """Sums counts and amounts per (metric, detail, dimensions)."""

    def __init__(self) -> None:
        self.rows: dict[tuple, list] = defaultdict(lambda: [0, Decimal("0")])

    def add(
        self,
        metric,
        *,
        n=1,
        amount=None,
        detail="",
        advisor=None,
        team=None,
        branch=None,
        rm=None,
        campaign=None,
        hour=None,
    ) -> None:
        cell = self.rows[(metric, detail or "", advisor, team, branch, rm, campaign, hour)]
        cell[0] += n
        cell[1] += amount or Decimal("0")

    def facts(self, day: dt.date) -> list[DailyFact]:
        return [
            DailyFact(
                day=day,
                metric=m,
                detail=d,
                advisor_id=a,
                team_id=t,
                branch_id=b,
                rm_id=r,
                campaign_id=c,
                hour=h,
                count=n,
                amount=amount,
            )
            for (m, d, a, t, b, r, c, h), (n, amount) in self.rows.items()
            if n or amount
        ]


def _enrolments(customer_ids: set[int], before: dt.datetime) -> dict[int, list[tuple[int, dt.datetime]]]:
    """The treatment-arm campaign entries of these customers up to ``before``."""
    out: dict[int, list] = defaultdict(list)
    ids = sorted(customer_ids)
    for i in range(0, len(ids), _CHUNK):
        for customer_id, campaign_id, entered_at in Enrolment.objects.filter(
            customer_id__in=ids[i : i + _CHUNK], arm=Arm.TREATMENT, entered_at__lt=before
        ).values_list("customer_id", "campaign_id", "entered_at"):
            out[customer_id].append((campaign_id, entered_at))
    return out


def _count_sources(counter: _Counter, start: dt.datetime, end: dt.datetime) -> None:
    for source in SOURCES.values():
        at = source.at_field
        qs = source.records().filter(**{f"{at}__gte": start, f"{at}__lt": end})
        dims = {k: v for k, v in source.dims.items() if k != "campaign"}
        if not source.attributed:
            # Grouped in the database: these can be a hundred thousand rows a day.
            fields = {**dims}
            if "campaign" in source.dims:
                fields["campaign"] = source.dims["campaign"]
            if source.detail:
                fields["detail"] = source.detail
            aggregates = {"n": Count("pk")}
            if source.amount:
                aggregates["a"] = Sum(source.amount)
            if source.on_time is not None:
                aggregates["on_time"] = Count("pk", filter=source.on_time)
            for row in qs.values(*fields.values()).annotate(**aggregates).order_by():
                key = {k: row[path] for k, path in fields.items()}
                campaign = key.pop("campaign", None)
                # Every row counts in the totals (campaign None); a message of a campaign
                # counts again under its campaign.
                for c in {None, campaign}:
                    counter.add(source.metric, n=row["n"], amount=row.get("a"), campaign=c, **key)
                    if source.on_time is not None:
                        counter.add(source.on_time_metric, n=row["on_time"], campaign=c, **key)
            continue
        # Lead and referral stages: a few thousand a day, read once and attributed to
        # each campaign the customer had entered (treatment arm) before the event.
        values = [*dims.values(), source.customer, at]
        if source.detail:
            values.append(source.detail)
        if source.amount:
            values.append(source.amount)
        rows = list(qs.values(*values).order_by())
        entries = _enrolments({r[source.customer] for r in rows}, end)
        for r in rows:
            key = {k: r[path] for k, path in dims.items()}
            detail = r[source.detail] if source.detail else ""
            amount = r[source.amount] if source.amount else None
            counter.add(source.metric, amount=amount, detail=detail, **key)
            for campaign_id in {c for c, entered in entries.get(r[source.customer], ()) if entered <= r[at]}:
                counter.add(source.metric, amount=amount, detail=detail, campaign=campaign_id, **key)


def _count_calls(counter: _Counter, start: dt.datetime, end: dt.datetime, teams: dict[int, int | None]) -> None:
    """The call measures per advisor, with calls.selectors' own aggregate definitions."""
    tz = timezone.get_current_timezone()
    calls = CallLog.objects.filter(started_at__gte=start, started_at__lt=end)
    for r in calls.values("advisor_id").annotate(**call_aggregates()).order_by():
        dims = {"advisor": r["advisor_id"], "team": teams.get(r["advisor_id"])}
        counter.add(Metric.DIALLED, n=r["dialled"], **dims)
        counter.add(Metric.CONNECTED, n=r["connected"], **dims)
        counter.add(Metric.EFFECTIVE, n=r["effective"], **dims)
        counter.add(Metric.CALL_CONVERSIONS, n=r["conversions"], amount=r["amount"], **dims)
    for r in (
        calls.annotate(h=ExtractHour("started_at", tzinfo=tz))
        .values("advisor_id", "h")
        .annotate(n=Count("id"))
        .order_by()
    ):
        counter.add(
            Metric.DIALLED_BY_HOUR, n=r["n"], advisor=r["advisor_id"], team=teams.get(r["advisor_id"]), hour=r["h"]
        )
    planned = PlannedCall.objects.filter(due_at__gte=start, due_at__lt=end)
    grace = dt.timedelta(minutes=getattr(settings, "DASHBOARDS_CALLBACK_GRACE_MINUTES", CALLBACK_GRACE_MINUTES))
    for r in planned.values("advisor_id").annotate(**planned_aggregates()).order_by():
        dims = {"advisor": r["advisor_id"], "team": teams.get(r["advisor_id"])}
        counter.add(Metric.PLANNED, n=r["planned"], **dims)
        counter.add(Metric.PLANNED_DONE, n=r["planned_done"], **dims)
    callbacks = planned.filter(kind=PlannedCallKind.CALLBACK).exclude(status=PlannedCallStatus.CANCELLED)
    for r in callbacks.values("advisor_id", "due_at", "done_at", "status").order_by():
        dims = {"advisor": r["advisor_id"], "team": teams.get(r["advisor_id"])}
        counter.add(Metric.CALLBACKS, **dims)
        if r["status"] == PlannedCallStatus.DONE and r["done_at"] and r["done_at"] <= r["due_at"] + grace:
            counter.add(Metric.CALLBACKS_ON_TIME, **dims)
    # Overdue at the end of the day: due on an earlier day and not done by then (the same
    # rule as the advisor's home card, calls.selectors.advisor_kpis, read back in time).
    overdue = PlannedCall.objects.filter(kind=PlannedCallKind.NURTURE, due_at__lt=start).filter(
        Q(status=PlannedCallStatus.PLANNED) | Q(status=PlannedCallStatus.DONE, done_at__gte=end)
    )
    for r in overdue.values("advisor_id").annotate(n=Count("id")).order_by():
        counter.add(Metric.OVERDUE_TOUCHES, n=r["n"], advisor=r["advisor_id"], team=teams.get(r["advisor_id"]))
    decisions = GradeDecision.objects.filter(decided_at__gte=start, decided_at__lt=end)
    for r in (
        decisions.values("advisor_id").annotate(n=Count("id"), o=Count("id", filter=Q(overridden=True))).order_by()
    ):
        dims = {"advisor": r["advisor_id"], "team": teams.get(r["advisor_id"])}
        counter.add(Metric.DECISIONS, n=r["n"], **dims)
        counter.add(Metric.OVERRIDES, n=r["o"], **dims)


def _count_book(counter: _Counter, teams: dict[int, int | None], day: dt.date, is_today: bool) -> None:
    """The book's AUM on ``day``, per owner: each owned customer's latest snapshot on or
    before the day (no snapshot yet: 0), today their current AUM. One probe of the
    (customer, date) index per customer. Customers count under today's owner."""
    if is_today:
        aum = F("aum")
    else:
        latest = AssetSnapshot.objects.filter(customer_id=OuterRef("pk"), date__lte=day).order_by("-date")
        aum = Coalesce(Subquery(latest.values("aum")[:1]), Value(Decimal("0")), output_field=DecimalField())
    for r in (
        Customer.objects.filter(owner__isnull=False).values("owner_id").annotate(n=Count("id"), s=Sum(aum)).order_by()
    ):
        counter.add(Metric.BOOK_AUM, n=r["n"], amount=r["s"], advisor=r["owner_id"], team=teams.get(r["owner_id"]))


@transaction.atomic
def day_refresh(*, day: dt.date, now: dt.datetime | None = None) -> int:
    """Count ``day`` again from the records and replace its rows: running it twice leaves
    the same rows. Returns the number of rows written."""
    now = now or timezone.now()
    start, end = day_bounds(day)
    teams = dict(StaffProfile.objects.values_list("user_id", "team_id"))
    counter = _Counter()
    _count_sources(counter, start, end)
    _count_calls(counter, start, end, teams)
    _count_book(counter, teams, day, is_today=day == timezone.localdate(now))
    DailyFact.objects.filter(day=day).delete()
    facts = counter.facts(day)
    DailyFact.objects.bulk_create(facts, batch_size=2000)
    DailyRefresh.objects.update_or_create(day=day, defaults={"refreshed_at": now, "rows": len(facts)})
    return len(facts)


@transaction.atomic
def dashboard_export_record(*, actor, table: str, fmt: str, rows: int, filters: dict) -> None:
    """Audit an export of a dashboard table: who took which figures, in which scope."""
    audit_record(
        actor=actor,
        verb="dashboard.export",
        target_type="dashboards.table",
        target_id=table,
        details={"table": table, "format": fmt, "rows": rows, **{k: str(v) for k, v in filters.items() if v}},
    )
