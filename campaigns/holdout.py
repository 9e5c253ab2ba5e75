"""The global holdout (全局对照组): customers no campaign touches, drawn afresh at most once
a quarter, so the total effect of all campaigns can be measured against them.

A draw (:class:`~campaigns.models.HoldoutDraw`) holds a share (1–5 %), a salt, a modulus
and the day it is valid from. A customer is held out under a draw when

    ((customer id × salt) mod modulus) mod 100 < percent

a multiplicative hash (a universal family: each salt scatters the ids differently) that
SQL computes as cheaply as Python, so enrolment and the exclusion funnel stay set-based.
New draws take a random salt below the prime 2³¹ − 1 as modulus; the first draw (data
migration) is the rule the workbench had before draws, ``id × 2654435761 mod 100 < 5``,
written as salt 2654435761 with a modulus no product of an id reaches.

The current draw is the latest valid from today or earlier. Earlier draws are never
changed (the monthly report compares each month with the draw valid then). A draw starts
on the first day of a month, today or later, in a later calendar quarter than the latest
draw: at most one re-draw a quarter.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Cast, Mod
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext as _

from calls.models import CallLog, NextAction
from core.audit import audit_record
from customers.models import Customer, Holding
from referrals.models import Referral, ReferralStatus

from . import access
from .models import Arm, Enrolment, HoldoutDraw, HoldoutReportMonth
from .results import Z_95, Difference, normal_two_sided_p, two_proportion_test, wilson_interval

# The rule before draws (campaigns/migrations/0011_global_holdout.py writes it as the first draw).
LEGACY_SALT = 2654435761
LEGACY_MODULUS = 2**62
# New draws: a prime modulus (every salt below it is invertible, so no id maps to 0 twice).
MODULUS = 2**31 - 1
PERCENT_MIN, PERCENT_MAX = 1, 5
BUCKETS = 100


def legacy_draw() -> HoldoutDraw:
    """The rule of the first draw, unsaved: what applies where no draw is stored (a test
    database flushed by a transactional test), so behaviour never silently changes."""
    return HoldoutDraw(percent=5, salt=LEGACY_SALT, modulus=LEGACY_MODULUS, valid_from=dt.date(2000, 1, 1))


def holdout_current(*, on: dt.date | None = None) -> HoldoutDraw:
    """The draw in force on ``on`` (default today, local): one query."""
    on = on or timezone.localdate()
    draw = HoldoutDraw.objects.filter(valid_from__lte=on).order_by("-valid_from").first()
    return draw or legacy_draw()


def holdout_bucket(draw: HoldoutDraw, customer_id: int) -> int:
    return (customer_id * draw.salt) % draw.modulus % BUCKETS


def is_held_out(draw: HoldoutDraw, customer_id: int) -> bool:
    """The Python twin of :func:`held_out_q` (tests check they agree)."""
    return holdout_bucket(draw, customer_id) < draw.percent


def bucket_expression(draw: HoldoutDraw, field: str = "pk"):
    # Cast to bigint: on PostgreSQL a salt below 2³¹ is an int4 literal and the product
    # of two int4 values would overflow.
    product = Cast(F(field), BigIntegerField()) * Value(draw.salt, output_field=BigIntegerField())
    return Mod(Mod(product, Value(draw.modulus, output_field=BigIntegerField())), Value(BUCKETS))


def held_out_q(draw: HoldoutDraw, field: str = "pk") -> Q:
    """Rows whose ``field`` (a customer id) is held out under ``draw``: one expression in
    the WHERE clause, no annotation or join."""
    return Q(LessThan(bucket_expression(draw, field), draw.percent))


# --- re-drawing -------------------------------------------------------------------------------


def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_start(year: int, quarter: int) -> dt.date:
    return dt.date(year, 3 * (quarter - 1) + 1, 1)


def next_quarter_start(day: dt.date) -> dt.date:
    year, quarter = quarter_of(day)
    return quarter_start(year + 1, 1) if quarter == 4 else quarter_start(year, quarter + 1)


def next_month_start(day: dt.date) -> dt.date:
    return dt.date(day.year + 1, 1, 1) if day.month == 12 else dt.date(day.year, day.month + 1, 1)


def earliest_redraw(*, today: dt.date | None = None, latest: HoldoutDraw | None = None) -> dt.date:
    """The first day a new draw may start: the first of a month (today if today is the
    first), in a later quarter than the latest draw."""
    today = today or timezone.localdate()
    if latest is None:
        latest = HoldoutDraw.objects.order_by("-valid_from").first()
    first = today if today.day == 1 else next_month_start(today)
    if latest is not None:
        first = max(first, next_quarter_start(latest.valid_from))
    return first


@dataclass
class DrawRow:
    draw: HoldoutDraw
    valid_until: dt.date | None  # the day before the next draw starts (None: still in force)
    is_current: bool
    is_legacy: bool


def holdout_history(*, today: dt.date | None = None) -> list[DrawRow]:
    """Every draw, newest first, with the day each stopped being in force: one query."""
    today = today or timezone.localdate()
    draws = list(HoldoutDraw.objects.select_related("drawn_by__staff_profile").order_by("-valid_from"))
    current = next((d for d in draws if d.valid_from <= today), None)
    rows = []
    for i, draw in enumerate(draws):
        later = draws[i - 1] if i else None
        rows.append(
            DrawRow(
                draw=draw,
                valid_until=later.valid_from - dt.timedelta(days=1) if later else None,
                is_current=draw is current,
                is_legacy=draw.modulus == LEGACY_MODULUS,
            )
        )
    return rows


@transaction.atomic
def holdout_redraw(*, actor, percent, valid_from: dt.date, note: str = "", today: dt.date | None = None) -> HoldoutDraw:
    """Draw the global holdout afresh from ``valid_from`` (the first day of a month, today
    or later, in a later quarter than the latest draw) with a new random salt. Earlier
    draws stay as they were. Audited in the same transaction."""
    if not access.can_manage_holdout(actor):
        raise PermissionDenied
    today = today or timezone.localdate()
    errors: dict[str, list[str]] = {}
    try:
        percent = int(percent)
    except (TypeError, ValueError):
        percent = None
    if percent is None or not PERCENT_MIN <= percent <= PERCENT_MAX:
        errors["percent"] = [_("The held-out share must be a whole number from 1 to 5 (%).")]
    note = (note or "").strip()
    if len(note) > 200:
        errors["note"] = [_("The note may have at most 200 characters.")]
    # Lock the draws so two re-draws at once cannot both pass the quarter check.
    latest = HoldoutDraw.objects.select_for_update().order_by("-valid_from").first()
    if not isinstance(valid_from, dt.date):
        errors["valid_from"] = [_("Enter the day the new draw starts.")]
    elif valid_from.day != 1:
        errors["valid_from"] = [_("A draw starts on the first day of a month, so every month has one draw.")]
    elif valid_from < today:
        errors["valid_from"] = [_("A draw cannot start in the past: earlier months keep the draw they had.")]
    elif latest is not None and quarter_of(valid_from) <= quarter_of(latest.valid_from):
        year, quarter = quarter_of(latest.valid_from)
        errors["valid_from"] = [
            _(
                "The holdout is re-drawn at most once a quarter: the latest draw starts on %(start)s "
                "(quarter %(quarter)s of %(year)s). The next draw may start on %(earliest)s at the earliest."
            )
            % {
                "start": latest.valid_from.isoformat(),
                "quarter": quarter,
                "year": year,
                "earliest": earliest_redraw(today=today, latest=latest).isoformat(),
            }
        ]
    if errors:
        raise ValidationError(errors)
    draw = HoldoutDraw.objects.create(
        percent=percent,
        salt=secrets.randbelow(MODULUS - 2) + 2,
        modulus=MODULUS,
        valid_from=valid_from,
        note=note,
        drawn_by=actor,
    )
    audit_record(
        actor=actor,
        verb="campaign.holdout_redraw",
        target=draw,
        details={
            "held_out_percent": percent,
            "valid_from": valid_from.isoformat(),
            "previous_draw": latest.pk if latest else None,
            "note": note,
        },
    )
    return draw


# --- the global-holdout report ------------------------------------------------------------------
#
# Per calendar month (local time): customers touched that month (entered any campaign in
# its treatment arm) against the customers held out by the draw valid on the month's first
# day. For each group: customers, conversions (won calls, converted referrals, new holdings
# of any product, in the month), the share of customers with one (the conversion rate), the
# mean AUM at the month's end and the mean AUM change over the month. One query for the
# draws and one for every figure, whatever the number of customers or months.

REPORT_MONTHS = 12
GROUPS = ("touched", "holdout")


@dataclass
class GroupMonth:
    customers: int = 0
    converted: int = 0  # customers with at least one conversion in the month
    conversions: int = 0
    aum: MeanMoments | None = None
    change: MeanMoments | None = None

    @property
    def rate(self) -> float | None:
        return self.converted / self.customers if self.customers else None

    @property
    def rate_interval(self):
        return wilson_interval(self.converted, self.customers)


@dataclass(frozen=True)
class MeanMoments:
    """n, Σy and Σy² of one metric over a group: its mean and the mean's interval."""

    n: int = 0
    s: float = 0.0
    ss: float = 0.0

    @property
    def mean(self) -> float | None:
        return self.s / self.n if self.n else None

    @property
    def variance(self) -> float:
        return max(0.0, (self.ss - self.s * self.s / self.n) / (self.n - 1)) if self.n > 1 else 0.0

    @property
    def interval(self) -> tuple[float, float] | None:
        if self.n < 2:
            return None
        half = Z_95 * math.sqrt(self.variance / self.n)
        return self.mean - half, self.mean + half


def mean_difference(a: MeanMoments | None, b: MeanMoments | None) -> Difference | None:
    """Mean of a − mean of b with its 95 % interval (Welch's standard error) and the
    two-sided normal p-value (None until each group has two values)."""
    if a is None or b is None or a.n < 2 or b.n < 2:
        return None
    diff = a.mean - b.mean
    se = math.sqrt(a.variance / a.n + b.variance / b.n)
    p_value = normal_two_sided_p(diff / se) if se > 0 else (1.0 if diff == 0 else 0.0)
    return Difference(diff, diff - Z_95 * se, diff + Z_95 * se, p_value)


@dataclass
class ReportMonth:
    month: dt.date  # its first day
    draw: HoldoutDraw
    touched: GroupMonth
    holdout: GroupMonth

    @property
    def is_empty(self) -> bool:
        return not self.touched.customers and not self.holdout.customers

    @property
    def rate_difference(self) -> Difference | None:
        t, h = self.touched, self.holdout
        return two_proportion_test(t.converted, t.customers, h.converted, h.customers)

    @property
    def aum_difference(self) -> Difference | None:
        return mean_difference(self.touched.aum, self.holdout.aum)

    @property
    def change_difference(self) -> Difference | None:
        return mean_difference(self.touched.change, self.holdout.change)


def report_months(*, today: dt.date | None = None, months: int = REPORT_MONTHS) -> list[dt.date]:
    """The first days of the last ``months`` calendar months, the current one last."""
    today = today or timezone.localdate()
    first = today.replace(day=1)
    out = [first]
    while len(out) < months:
        first = (first - dt.timedelta(days=1)).replace(day=1)
        out.append(first)
    return out[::-1]


def _local_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def _month_case(field: str, starts: list[dt.date], *, dated: bool = False):
    """The month index (1…n) of ``field``, 0 outside the months."""
    bounds = [*starts, next_month_start(starts[-1])]
    edge = (lambda d: d) if dated else _local_midnight
    return Case(
        *(
            When(**{f"{field}__gte": edge(bounds[i]), f"{field}__lt": edge(bounds[i + 1])}, then=Value(i + 1))
            for i in range(len(starts))
        ),
        default=Value(0),
        output_field=IntegerField(),
    )


def _draw_of(draws: list[HoldoutDraw], day: dt.date) -> HoldoutDraw:
    return next((d for d in draws if d.valid_from <= day), None) or legacy_draw()


def _date_sql(day: dt.date) -> tuple[str, str]:
    # A date literal both databases compare with a date column (SQLite stores ISO text).
    return ("CAST(%s AS date)" if connection.vendor == "postgresql" else "%s"), day.isoformat()


def holdout_report(*, today: dt.date | None = None, months: int = REPORT_MONTHS) -> list[ReportMonth]:
    """The months of the report, oldest first: two queries."""
    starts = report_months(today=today, months=months)
    draws = list(HoldoutDraw.objects.order_by("-valid_from"))
    month_draw = [_draw_of(draws, start) for start in starts]
    first, stop = _local_midnight(starts[0]), _local_midnight(next_month_start(starts[-1]))
    params: list = []

    def sql_of(qs) -> str:
        sql, p = qs.query.sql_with_params()
        params.extend(p)
        return sql

    month_rows = []
    for i, start in enumerate(starts, 1):
        last_sql, last = _date_sql(next_month_start(start) - dt.timedelta(days=1))
        prev_sql, prev = _date_sql(start - dt.timedelta(days=1))
        month_rows.append(f"SELECT {i} AS i, {last_sql} AS last_day, {prev_sql} AS prev_day")
        params.extend([last, prev])
    ctes = [f"months AS ({' UNION ALL '.join(month_rows)})"]
    touched = (
        Enrolment.objects.filter(arm=Arm.TREATMENT, entered_at__gte=first, entered_at__lt=stop)
        .annotate(month=_month_case("entered_at", starts))
        .values("customer_id", "month")
        .distinct()
        .order_by()
    )
    ctes.append(f"touched(customer_id, month) AS ({sql_of(touched)})")
    member_parts = ["SELECT customer_id, month, 'touched' AS grp FROM touched"]
    distinct_draws: list[HoldoutDraw] = []
    for draw in month_draw:
        if not any(d is draw for d in distinct_draws):
            distinct_draws.append(draw)
    for k, draw in enumerate(distinct_draws):
        held = Customer.objects.filter(held_out_q(draw)).values("pk").order_by()
        ctes.append(f"held{k}(id) AS MATERIALIZED ({sql_of(held)})")
        indexes = ", ".join(str(i) for i, d in enumerate(month_draw, 1) if d is draw)
        member_parts.append(
            f"SELECT h.id AS customer_id, m.i AS month, 'holdout' AS grp FROM held{k} h "  # noqa: S608 - integers we made
            f"CROSS JOIN months m WHERE m.i IN ({indexes})"
        )
    ctes.append(f"members AS ({' UNION ALL '.join(member_parts)})")
    sources = [
        CallLog.objects.filter(next_action=NextAction.WON, started_at__gte=first, started_at__lt=stop)
        .annotate(month=_month_case("started_at", starts))
        .values("customer_id", "month"),
        Referral.objects.filter(status=ReferralStatus.CONVERTED, closed_at__gte=first, closed_at__lt=stop)
        .annotate(month=_month_case("closed_at", starts))
        .values("customer_id", "month"),
        Holding.objects.filter(opened_on__gte=starts[0], opened_on__lt=next_month_start(starts[-1]))
        .annotate(month=_month_case("opened_on", starts, dated=True))
        .values("customer_id", "month"),
    ]
    # The SQL is Django's compiled querysets and our own names; values are parameters.
    for j, qs in enumerate(sources):
        ctes.append(f"src{j}(customer_id, month) AS ({sql_of(qs.order_by())})")
    union = " UNION ALL ".join(f"SELECT customer_id, month FROM src{j}" for j in range(len(sources)))  # noqa: S608
    ctes.append(f"conv AS (SELECT customer_id, month, COUNT(*) AS n FROM ({union}) x GROUP BY customer_id, month)")  # noqa: S608
    snapshot = (
        "(SELECT s.aum FROM customers_assetsnapshot s WHERE s.customer_id = mb.customer_id "
        "AND s.date <= m.{day} ORDER BY s.date DESC LIMIT 1)"
    )
    ctes.append(
        "per AS MATERIALIZED (SELECT mb.grp, mb.month, COALESCE(cv.n, 0) AS n, "  # noqa: S608
        f"{snapshot.format(day='last_day')} AS aum_end, {snapshot.format(day='prev_day')} AS aum_prev "
        "FROM members mb JOIN months m ON m.i = mb.month "
        "LEFT JOIN conv cv ON cv.customer_id = mb.customer_id AND cv.month = mb.month)"
    )
    delta = "(aum_end - aum_prev)"
    sql = (
        f"WITH {', '.join(ctes)} "  # noqa: S608 - our own table and column names; values are parameters
        "SELECT grp, month, COUNT(*), SUM(CASE WHEN n > 0 THEN 1 ELSE 0 END), SUM(n), "
        "COUNT(aum_end), SUM(aum_end), SUM(aum_end * aum_end), "
        f"COUNT({delta}), SUM({delta}), SUM({delta} * {delta}) FROM per GROUP BY grp, month"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    figures = {(grp, month): values for grp, month, *values in rows}
    out = []
    for i, start in enumerate(starts, 1):
        groups = {}
        for grp in GROUPS:
            values = figures.get((grp, i))
            if values is None:
                groups[grp] = GroupMonth(aum=MeanMoments(), change=MeanMoments())
                continue
            customers, converted, conversions, na, sa, ssa, nc, sc, ssc = values
            groups[grp] = GroupMonth(
                customers=int(customers),
                converted=int(converted or 0),
                conversions=int(conversions or 0),
                aum=MeanMoments(int(na), float(sa or 0), float(ssa or 0)),
                change=MeanMoments(int(nc), float(sc or 0), float(ssc or 0)),
            )
        out.append(ReportMonth(start, month_draw[i - 1], groups["touched"], groups["holdout"]))
    return out


# --- the stored report ------------------------------------------------------------------
# At 1,000,000 customers ``holdout_report`` takes about 70 s: the page reads stored months
# instead. The task recomputes the two latest months on every run (the current one is still
# open, and late imports land in the last) and every month once a day or when missing.
RECENT_MONTHS = 2
FULL_REFRESH_AFTER = dt.timedelta(hours=24)


def _sums(moments: MeanMoments) -> list:
    return [moments.n, moments.s, moments.ss]


def _group_of(row: HoldoutReportMonth) -> GroupMonth:
    return GroupMonth(
        customers=row.customers,
        converted=row.converted,
        conversions=row.conversions,
        aum=MeanMoments(*row.sums.get("aum", [0, 0.0, 0.0])),
        change=MeanMoments(*row.sums.get("change", [0, 0.0, 0.0])),
    )


def holdout_report_refresh(*, now: dt.datetime | None = None) -> int:
    """Compute and store the report's months (the task ``campaigns.refresh_holdout_report``):
    the two latest, or all of them when one is missing or a day old. The rows of the months
    computed are replaced in one transaction, so running it twice stores the same; months
    that left the report are removed. Returns the number of months computed."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    starts = report_months(today=today)
    computed = dict(
        HoldoutReportMonth.objects.filter(month__in=starts, group="touched").values_list("month", "computed_at")
    )
    stale = any(start not in computed or computed[start] < now - FULL_REFRESH_AFTER for start in starts)
    months = holdout_report(today=today, months=len(starts) if stale else RECENT_MONTHS)
    rows = [
        HoldoutReportMonth(
            month=m.month,
            group=grp,
            customers=figures.customers,
            converted=figures.converted,
            conversions=figures.conversions,
            sums={"aum": _sums(figures.aum), "change": _sums(figures.change)},
            computed_at=now,
        )
        for m in months
        for grp, figures in (("touched", m.touched), ("holdout", m.holdout))
    ]
    with transaction.atomic():
        HoldoutReportMonth.objects.filter(Q(month__in=[m.month for m in months]) | Q(month__lt=starts[0])).delete()
        HoldoutReportMonth.objects.bulk_create(rows)
    return len(months)


@dataclass
class StoredReport:
    months: list[ReportMonth]
    recent_as_of: dt.datetime  # when the two latest months were computed
    oldest_as_of: dt.datetime  # the oldest month's computation


def holdout_report_stored(*, today: dt.date | None = None) -> StoredReport | None:
    """The report from the stored months (two queries: the rows and the draws), or None
    while a month of it has not been computed yet."""
    starts = report_months(today=today)
    rows = {(r.month, r.group): r for r in HoldoutReportMonth.objects.filter(month__in=starts)}
    if any((start, grp) not in rows for start in starts for grp in GROUPS):
        return None
    draws = list(HoldoutDraw.objects.order_by("-valid_from"))
    months = [
        ReportMonth(
            start, _draw_of(draws, start), _group_of(rows[(start, "touched")]), _group_of(rows[(start, "holdout")])
        )
        for start in starts
    ]
    times = [rows[(start, "touched")].computed_at for start in starts]
    return StoredReport(months, recent_as_of=min(times[-RECENT_MONTHS:]), oldest_as_of=min(times))


def holdout_report_for_page(*, now: dt.datetime | None = None) -> StoredReport:
    """The stored report; computed and stored first when a month is missing (a new
    installation before the task's first run)."""
    stored = holdout_report_stored(today=timezone.localdate(now or timezone.now()))
    if stored is None:
        holdout_report_refresh(now=now)
        stored = holdout_report_stored(today=timezone.localdate(now or timezone.now()))
    return stored


@transaction.atomic
def holdout_report_export_record(*, actor, fmt: str, rows: int) -> None:
    """Record who took the report's figures, before the file is built."""
    audit_record(
        actor=actor,
        verb="campaign.holdout_report_export",
        target_type="campaigns.holdoutreport",
        target_id=fmt,
        details={"format": fmt, "rows": rows},
    )
