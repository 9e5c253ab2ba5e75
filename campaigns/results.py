"""What a campaign caused: conversions and AUM of the treated arm against its control group.

The statistics at the top are pure functions of counts and sums (checked by hand in
``campaigns/tests/test_results.py``); the selector below gathers those counts and sums
set-based, in two queries whatever the number of enrolments.

A conversion is attributed to an enrolment when, within the attribution window after
entry (``Campaign.attribution_days``, day 0 being the day of entry), the
customer has a ``converted`` journey event, a won call (any call, not only the
campaign's), or a new holding of the campaign's product. Control customers were never
contacted but are counted the same way: what they did anyway is the baseline.

Peeking: the horizon is fixed up front. The results are final once the window of the
last possible entrant has closed; before that every figure is interim.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, TruncDate, TruncWeek
from django.utils import timezone

from calls.models import CallLog, NextAction
from customers.models import AssetSnapshot, Holding
from leads.models import PlannedCall, PlannedCallStatus

from .models import Arm, Campaign, CampaignStatus, Enrolment, JourneyEvent, JourneyEventKind, Message, MessageStatus

# Two-sided 95 % (α = 0.05) and 80 % power quantiles of the standard normal.
Z_95 = 1.959963984540054
Z_POWER_80 = 0.8416212335729143
AUM_HORIZONS = (30, 90)


# --- statistics ---------------------------------------------------------------------------


def normal_two_sided_p(z: float) -> float:
    """P(|Z| ≥ |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2))


def wilson_interval(successes: int, n: int, *, z: float = Z_95) -> tuple[float, float] | None:
    """The Wilson score interval of a proportion (None without observations)."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class Difference:
    """An estimated difference (treatment − control) with its 95 % interval and p-value."""

    estimate: float
    low: float
    high: float
    p_value: float | None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < 0.05


def two_proportion_test(x1: int, n1: int, x2: int, n2: int, *, z: float = Z_95) -> Difference | None:
    """Rate 1 − rate 2: the interval from the unpooled standard error, the two-sided
    p-value of the z test from the pooled one (None when an arm is empty)."""
    if n1 <= 0 or n2 <= 0:
        return None
    p1, p2 = x1 / n1, x2 / n2
    diff = p1 - p2
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    pooled = (x1 + x2) / (n1 + n2)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    # No conversions at all (or all converted): no evidence of any difference.
    p_value = normal_two_sided_p(diff / se_pooled) if se_pooled > 0 else 1.0
    return Difference(diff, diff - z * se, diff + z * se, p_value)


def minimum_detectable_effect(n1: int, n2: int, base_rate: float) -> float | None:
    """The smallest absolute uplift a two-sided test at α = 0.05 detects with 80 % power
    for arms of n1 and n2 at ``base_rate`` (None when it cannot be computed yet)."""
    if n1 <= 0 or n2 <= 0 or not 0 < base_rate < 1:
        return None
    return (Z_95 + Z_POWER_80) * math.sqrt(base_rate * (1 - base_rate) * (1 / n1 + 1 / n2))


@dataclass(frozen=True)
class Moments:
    """Sums over the units of an arm of a metric y and its pre-period covariate x."""

    n: int = 0
    sx: float = 0.0
    sy: float = 0.0
    sxx: float = 0.0
    syy: float = 0.0
    sxy: float = 0.0

    @classmethod
    def of(cls, pairs) -> Moments:
        """The moments of [(y, x), …] (for tests and small sets)."""
        pairs = list(pairs)
        return cls(
            n=len(pairs),
            sx=sum(x for _y, x in pairs),
            sy=sum(y for y, _x in pairs),
            sxx=sum(x * x for _y, x in pairs),
            syy=sum(y * y for y, _x in pairs),
            sxy=sum(x * y for y, x in pairs),
        )

    def __add__(self, other: Moments) -> Moments:
        return Moments(*(getattr(self, k) + getattr(other, k) for k in ("n", "sx", "sy", "sxx", "syy", "sxy")))

    def mean_y(self) -> float:
        return self.sy / self.n

    def var_y(self) -> float:
        return max(0.0, (self.syy - self.sy * self.sy / self.n) / (self.n - 1))

    def var_x(self) -> float:
        return max(0.0, (self.sxx - self.sx * self.sx / self.n) / (self.n - 1))

    def cov_xy(self) -> float:
        return (self.sxy - self.sx * self.sy / self.n) / (self.n - 1)

    def var_adjusted(self, theta: float) -> float:
        """Sample variance of y − θ·x (the shift by θ·mean(x) does not change it)."""
        return max(0.0, self.var_y() - 2 * theta * self.cov_xy() + theta * theta * self.var_x())


@dataclass(frozen=True)
class CupedDifference(Difference):
    theta: float = 0.0
    raw: Difference | None = None
    # 1 − var(CUPED estimate) / var(raw difference): the share of the variance removed.
    variance_reduction: float | None = None


def _mean_difference(t: Moments, c: Moments, var_t: float, var_c: float, diff: float, z: float) -> Difference:
    se = math.sqrt(var_t / t.n + var_c / c.n)
    p_value = normal_two_sided_p(diff / se) if se > 0 else (1.0 if diff == 0 else 0.0)
    return Difference(diff, diff - z * se, diff + z * se, p_value)


def cuped_difference(treatment: Moments, control: Moments, *, z: float = Z_95) -> CupedDifference | None:
    """The difference of mean y (treatment − control), variance-reduced by CUPED: each y
    becomes y − θ(x − mean x) with θ = cov(y, x) / var(x) over both arms together.
    (None until each arm has two units.)"""
    if treatment.n < 2 or control.n < 2:
        return None
    both = treatment + control
    var_x = both.var_x()
    theta = both.cov_xy() / var_x if var_x > 0 else 0.0
    raw = _mean_difference(
        treatment, control, treatment.var_y(), control.var_y(), treatment.mean_y() - control.mean_y(), z
    )
    mean_x_t, mean_x_c = treatment.sx / treatment.n, control.sx / control.n
    diff = raw.estimate - theta * (mean_x_t - mean_x_c)
    adjusted = _mean_difference(treatment, control, treatment.var_adjusted(theta), control.var_adjusted(theta), diff, z)
    raw_var = treatment.var_y() / treatment.n + control.var_y() / control.n
    adj_var = ((adjusted.high - adjusted.estimate) / z) ** 2
    reduction = 1 - adj_var / raw_var if raw_var > 0 else None
    return CupedDifference(
        adjusted.estimate,
        adjusted.low,
        adjusted.high,
        adjusted.p_value,
        theta=theta,
        raw=raw,
        variance_reduction=reduction,
    )


# --- the campaign's figures -----------------------------------------------------------------


@dataclass
class ArmFigures:
    arm: str
    label: str
    entered: int = 0
    reached: int = 0
    responded: int = 0
    converted: int = 0

    @property
    def rate(self) -> float | None:
        return self.converted / self.entered if self.entered else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.converted, self.entered)


@dataclass
class AumFigures:
    days: int
    treated: int  # customers of each arm whose horizon has passed and who have both snapshots
    control: int
    result: CupedDifference | None


@dataclass
class CampaignResults:
    window_days: int
    treatment: ArmFigures
    control: ArmFigures
    uplift: Difference | None
    mde: float | None
    final_on: dt.date | None  # the fixed horizon: figures are interim before it
    final_is_estimate: bool  # no end date yet: later entrants push the horizon on
    is_final: bool
    aum: list[AumFigures] = field(default_factory=list)
    weeks: list[dict] = field(default_factory=list)  # [{week, treatment: (n, converted), control: …}]

    @property
    def significant(self) -> bool:
        return self.uplift is not None and self.uplift.significant


_SENT = (MessageStatus.SENT, MessageStatus.DELIVERED)


def _flags(campaign: Campaign):
    """Boolean expressions on an enrolment annotated by ``_with_window``: reached,
    responded, converted (within its attribution window)."""
    messages = Message.objects.filter(enrolment_id=OuterRef("pk"))
    calls_done = PlannedCall.objects.filter(enrolment_id=OuterRef("pk"), status=PlannedCallStatus.DONE)
    reached = Exists(messages.filter(Q(status__in=_SENT) | Q(delivered_at__isnull=False))) | Exists(calls_done)
    connected = CallLog.objects.filter(disposition__connected=True).values("pk")
    responded = Exists(messages.filter(Q(replied_at__isnull=False) | Q(clicked_at__isnull=False))) | Exists(
        calls_done.filter(call_log_id__in=connected)
    )
    converted = Exists(
        JourneyEvent.objects.filter(
            enrolment_id=OuterRef("pk"),
            kind=JourneyEventKind.CONVERTED,
            at__gte=OuterRef("entered_at"),
            at__lt=OuterRef("attribution_ends_at"),
        )
    ) | Exists(
        CallLog.objects.filter(
            customer_id=OuterRef("customer_id"),
            next_action=NextAction.WON,
            started_at__gte=OuterRef("entered_at"),
            started_at__lt=OuterRef("attribution_ends_at"),
        )
    )
    if campaign.product_id:
        converted |= Exists(
            Holding.objects.filter(
                customer_id=OuterRef("customer_id"),
                product_id=campaign.product_id,
                opened_on__gte=OuterRef("entry_day"),
                opened_on__lt=OuterRef("attribution_ends_on"),
            )
        )
    return reached, responded, converted


def _with_window(enrolments, days: int):
    ends = ExpressionWrapper(F("entered_at") + dt.timedelta(days=days), output_field=DateTimeField())
    return enrolments.annotate(
        attribution_ends_at=ends, entry_day=TruncDate("entered_at"), attribution_ends_on=TruncDate(ends)
    )


def _aum_on_or_before(day_expression, *, strictly_before: bool = False):
    lookup = "date__lt" if strictly_before else "date__lte"
    return Cast(
        Subquery(
            AssetSnapshot.objects.filter(customer_id=OuterRef("customer_id"), **{lookup: day_expression})
            .order_by("-date")
            .values("aum")[:1]
        ),
        FloatField(),
    )


def _aum_moments(campaign: Campaign, now: dt.datetime) -> dict:
    """{(arm, days): Moments} of y = AUM at entry + days − AUM before entry, x = AUM before
    entry (the last snapshot before the day of entry), over the enrolments whose horizon
    has passed and who have both snapshots: one query.

    The inner query finds each enrolment's three snapshots once; the sums are taken over
    it as a materialized table. (Aggregating the annotations directly would repeat each
    correlated snapshot lookup in every sum that names it: 100× the raw SQL, measured.)"""
    days_on = {"entry_day": TruncDate("entered_at")}
    columns = {"pre": _aum_on_or_before(OuterRef("entry_day"), strictly_before=True)}
    for days in AUM_HORIZONS:
        horizon = ExpressionWrapper(F("entered_at") + dt.timedelta(days=days), output_field=DateTimeField())
        days_on[f"day{days}"] = TruncDate(horizon)
        columns[f"post{days}"] = _aum_on_or_before(OuterRef(f"day{days}"))
        columns[f"ready{days}"] = Case(
            When(entered_at__lte=now - dt.timedelta(days=days), then=Value(1)), default=Value(0)
        )
    inner = (
        Enrolment.objects.filter(campaign=campaign)
        .annotate(**days_on)
        .annotate(**columns)
        .values("arm", *columns)
        .order_by()
    )
    sums = []
    for days in AUM_HORIZONS:
        both = f"ready{days} = 1 AND pre IS NOT NULL AND post{days} IS NOT NULL"
        x, y = f"CASE WHEN {both} THEN pre END", f"CASE WHEN {both} THEN post{days} - pre END"
        sums += [f"COUNT({y})", f"SUM({x})", f"SUM({y})", f"SUM({x} * {x})", f"SUM({y} * {y})", f"SUM({x} * {y})"]
    sql, params = inner.query.sql_with_params()
    with connection.cursor() as cursor:
        # MATERIALIZED keeps PostgreSQL (12+; SQLite 3.35+) from inlining the lookups back.
        cursor.execute(
            f"WITH per_enrolment AS MATERIALIZED ({sql}) "  # noqa: S608 - our own column names only
            f"SELECT arm, {', '.join(sums)} FROM per_enrolment GROUP BY arm",
            params,
        )
        rows = cursor.fetchall()
    out = {}
    for arm, *values in rows:
        for i, days in enumerate(AUM_HORIZONS):
            n, *moments = values[6 * i : 6 * i + 6]
            out[(arm, days)] = Moments(n, *(float(v or 0) for v in moments))
    return out


def campaign_results(*, campaign: Campaign, now: dt.datetime | None = None) -> CampaignResults:
    """The campaign's figures per arm, its uplift and AUM change: two queries."""
    now = now or timezone.now()
    days = campaign.attribution_days
    reached, responded, converted = _flags(campaign)
    arms = {
        Arm.TREATMENT: ArmFigures(Arm.TREATMENT, str(Arm.TREATMENT.label)),
        Arm.CONTROL: ArmFigures(Arm.CONTROL, str(Arm.CONTROL.label)),
    }
    weeks: dict = {}
    last_entry = None
    rows = (
        _with_window(Enrolment.objects.filter(campaign=campaign), days)
        .annotate(week=TruncWeek("entered_at"))
        .values("arm", "week")
        .annotate(
            entered=Count("id"),
            reached=Count("id", filter=reached),
            responded=Count("id", filter=responded),
            converted=Count("id", filter=converted),
            last=Max("entered_at"),
        )
        .order_by("week")
    )
    for row in rows:
        figures = arms.get(row["arm"])
        if figures is None:
            continue
        for key in ("entered", "reached", "responded", "converted"):
            setattr(figures, key, getattr(figures, key) + row[key])
        week = row["week"].date() if isinstance(row["week"], dt.datetime) else row["week"]
        weeks.setdefault(week, {"week": week, Arm.TREATMENT: (0, 0), Arm.CONTROL: (0, 0)})[row["arm"]] = (
            row["entered"],
            row["converted"],
        )
        last_entry = max(filter(None, (last_entry, row["last"])), default=None)
    last_entry = timezone.localdate(last_entry) if last_entry else None
    t, c = arms[Arm.TREATMENT], arms[Arm.CONTROL]
    base = c.rate if c.converted else ((t.converted + c.converted) / (t.entered + c.entered) if t.entered else None)
    last_day = campaign.ends_on or last_entry
    final_on = last_day + dt.timedelta(days=days) if last_day else None
    # Without an end date a running campaign takes new entrants, so its horizon moves on.
    estimate = campaign.ends_on is None and campaign.status != CampaignStatus.ENDED
    moments = _aum_moments(campaign, now)
    aum = []
    for horizon in AUM_HORIZONS:
        mt, mc = moments.get((Arm.TREATMENT, horizon), Moments()), moments.get((Arm.CONTROL, horizon), Moments())
        aum.append(AumFigures(horizon, mt.n, mc.n, cuped_difference(mt, mc)))
    return CampaignResults(
        window_days=days,
        treatment=t,
        control=c,
        uplift=two_proportion_test(t.converted, t.entered, c.converted, c.entered),
        mde=minimum_detectable_effect(t.entered, c.entered, base) if base is not None else None,
        final_on=final_on,
        final_is_estimate=estimate,
        is_final=final_on is not None and not estimate and timezone.localdate(now) >= final_on,
        aum=aum,
        weeks=[weeks[k] for k in sorted(weeks)],
    )
