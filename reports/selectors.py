"""Reads of wealth reports: what a report says about a customer (``report_facts``), the
reports a user may see, and the delivered reports the cadence counts."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from compliance.constants import Severity
from compliance.models import (
    UNDER_REVIEW,
    CommSource,
    Communication,
    Flag,
    FlagOutcome,
    Script,
    ScriptPurpose,
    ScriptVersion,
)
from compliance.selectors import approved_version_of
from core.access import get_for_user
from customers.models import AssetSnapshot, Customer, Holding, Interaction, Product
from customers.suitability import SuitabilityVerdict, suitable_products

from .models import WealthReport

MATURITY_HORIZON_DAYS = 365
ALLOCATION_PARTS = ("deposits", "wealth", "funds", "insurance", "other")


@dataclass
class ReportFacts:
    """Everything one customer's report shows, read in a fixed number of queries."""

    customer: Customer
    year: int
    today: dt.date
    trend: list[tuple[dt.date, Decimal]]
    allocation: dict[str, Decimal]
    allocation_date: dt.date | None
    holdings: list[Holding]
    maturing: list[Holding]
    interactions_by_channel: Counter
    interactions_total: int
    last_interaction_at: dt.datetime | None
    offerable: list[tuple[Product, SuitabilityVerdict]] = field(default_factory=list)

    @property
    def aum_start(self) -> Decimal | None:
        return self.trend[0][1] if self.trend else None

    @property
    def aum_now(self) -> Decimal:
        return self.customer.aum or Decimal("0")

    @property
    def allocation_total(self) -> Decimal:
        return sum(self.allocation.values(), Decimal("0"))


def year_bounds(year: int) -> tuple[dt.datetime, dt.datetime]:
    """The first moment of ``year`` and of the next, in the bank's time zone: a report's
    year and the cadence's are calendar years in Asia/Shanghai."""
    tz = timezone.get_default_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


def report_facts(*, customer: Customer, year: int, today: dt.date | None = None) -> ReportFacts:
    """The figures of ``customer``'s report for ``year`` (AUM snapshots of the year,
    latest allocation, holdings, maturities in the coming year, the year's interactions,
    and the products suitability allows today)."""
    today = today or timezone.localdate()
    snapshots = list(
        AssetSnapshot.objects.filter(customer=customer, date__year=year)
        .order_by("date")
        .values_list("date", "aum", *ALLOCATION_PARTS)
    )
    trend = [(s[0], s[1]) for s in snapshots]
    allocation: dict[str, Decimal] = {}
    allocation_date = None
    if snapshots:
        last = snapshots[-1]
        allocation_date = last[0]
        allocation = dict(zip(ALLOCATION_PARTS, last[2:], strict=True))
    holdings = list(
        Holding.objects.filter(customer=customer).select_related("product").order_by("maturity_date", "product__code")
    )
    horizon = today + dt.timedelta(days=MATURITY_HORIZON_DAYS)
    maturing = [h for h in holdings if h.maturity_date and today <= h.maturity_date <= horizon]
    start, end = year_bounds(year)
    rows = list(
        Interaction.objects.filter(customer=customer, occurred_at__gte=start, occurred_at__lt=end).values_list(
            "channel", "occurred_at"
        )
    )
    by_channel = Counter(channel for channel, _ in rows)
    last_at = max((at for _, at in rows), default=None)
    offerable = [(p, v) for p, v in suitable_products(customer=customer, today=today) if v.allowed]
    return ReportFacts(
        customer=customer,
        year=year,
        today=today,
        trend=trend,
        allocation=allocation,
        allocation_date=allocation_date,
        holdings=holdings,
        maturing=maturing,
        interactions_by_channel=by_channel,
        interactions_total=len(rows),
        last_interaction_at=last_at,
        offerable=offerable,
    )


def report_script_version() -> ScriptVersion | None:
    """The approved version of the wealth-report script in use now (the newest script of
    that purpose with one), or None: no report may be generated without it."""
    script_id = (
        Script.objects.filter(purpose=ScriptPurpose.WEALTH_REPORT, versions__status="approved")
        .order_by("-id")
        .values_list("pk", flat=True)
        .first()
    )
    return approved_version_of(script_id=script_id) if script_id is not None else None


# --- reports a user sees ----------------------------------------------------------------------


def reports_for(*, user) -> QuerySet[WealthReport]:
    return WealthReport.objects.restrict(user, "view").select_related(
        "customer", "generated_by__staff_profile", "delivered_by__staff_profile"
    )


def report_get_for_user(*, user, pk, action: str = "view") -> WealthReport:
    """The report ``pk`` if ``user`` may ``action`` it, else Http404."""
    return get_for_user(
        WealthReport.objects.select_related("customer", "customer__owner__staff_profile"),
        user=user,
        pk=pk,
        action=action,
    )


def customer_reports(*, customer: Customer) -> list[WealthReport]:
    return list(
        WealthReport.objects.filter(customer=customer).select_related("generated_by__staff_profile").order_by("-year")
    )


@dataclass(frozen=True)
class ScanState:
    """Where a report's compliance scan stands: ``pending`` (not scanned yet),
    ``blocked`` (a high-severity finding under review or a confirmed violation) or
    ``clear``."""

    status: str
    findings: int = 0


def report_scan_states(reports) -> dict[int, ScanState]:
    """The scan state of each report, in two queries whatever their number. A scan counts
    only when it ran after the report was generated: generating again keeps the
    communication's row (and its last ``scanned_at``) while the new text waits for its
    own scan."""
    reports = list(reports)
    ids = [r.pk for r in reports]
    comms = dict(
        Communication.objects.filter(source=CommSource.WEALTH_REPORT, object_id__in=ids).values_list(
            "object_id", "scanned_at"
        )
    )
    blocking = Counter(
        Flag.objects.filter(communication__source=CommSource.WEALTH_REPORT, communication__object_id__in=ids)
        .filter(blocking_flag_q())
        .values_list("communication__object_id", flat=True)
    )
    states = {}
    for report in reports:
        rid, scanned_at = report.pk, comms.get(report.pk)
        if scanned_at is None or scanned_at < report.generated_at:
            states[rid] = ScanState("pending")
        elif blocking.get(rid):
            states[rid] = ScanState("blocked", blocking[rid])
        else:
            states[rid] = ScanState("clear")
    return states


def blocking_flag_q():
    """A flag that stops a report being sent: a high-severity one still under review, or
    one closed as a confirmed violation."""
    return Q(severity=Severity.HIGH, status__in=UNDER_REVIEW) | Q(outcome=FlagOutcome.VIOLATION)


# --- the cadence's "1" -------------------------------------------------------------------------


def reports_delivered(customer_ids, year: int) -> dict[int, dt.datetime]:
    """``{customer_id: delivered_at}`` for the customers among ``customer_ids`` whose
    wealth report was delivered in ``year`` (Asia/Shanghai calendar year of the
    delivery). The cadence (``cadence.selectors.touch_counts``) counts the "1" of 12-4-2-1 from this; one
    indexed query."""
    start, end = year_bounds(year)
    rows = WealthReport.objects.filter(
        customer_id__in=customer_ids, delivered_at__gte=start, delivered_at__lt=end
    ).values_list("customer_id", "delivered_at")
    delivered: dict[int, dt.datetime] = {}
    for customer_id, at in rows:
        if customer_id not in delivered or at < delivered[customer_id]:
            delivered[customer_id] = at
    return delivered
