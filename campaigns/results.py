"""What a campaign caused: conversions and AUM of the treated arm against its control group.

The statistics at the top are pure functions of counts and sums (checked by hand in
``campaigns/tests/test_results.py``). The counts and sums are gathered set-based per arm
(the control group, each A/B variant) and day of entry (``results_rows``, two queries
whatever the number of enrolments), stored by ``results_refresh`` (the task
``campaigns.refresh_results``) in ``ResultsDay`` rows, and summed for the page
(``campaign_results_stored``, a few rows per day whatever the size).

A conversion is attributed to an enrolment when, within the attribution window after
entry (the campaign's ``attribution_days``, day 0 being the day of entry), the
customer has a ``converted`` journey event, a won call (any call, not only the
campaign's), a converted referral (its ``closed_at``), or a new holding of the
campaign's product. Control customers were never
contacted but are counted the same way: what they did anyway is the baseline.

Peeking: the horizon is fixed up front. The results are final once the window of the
last possible entrant has closed; before that every figure is interim.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from calls.models import CallLog, NextAction
from core.audit import audit_record
from customers.models import AssetSnapshot, Holding
from leads.models import PlannedCall, PlannedCallStatus
from referrals.models import Referral, ReferralStatus

from .models import (
    Arm,
    Campaign,
    CampaignStatus,
    CampaignStep,
    Enrolment,
    JourneyEvent,
    JourneyEventKind,
    Message,
    MessageStatus,
    ResultsDay,
    ResultsRefresh,
    Variant,
    VariantOrder,
)

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


def attribution_days(campaign: Campaign | None = None) -> int:
    """The campaign's attribution window in days (``Campaign.attribution_days``); without
    a campaign, the longest window any campaign may have (what may still change)."""
    if campaign is None:
        return MAX_ATTRIBUTION_DAYS
    return campaign.attribution_days or settings.WORKBENCH_CAMPAIGN_ATTRIBUTION_DAYS


MAX_ATTRIBUTION_DAYS = 180


CONTROL_KEY = "control"
TREATMENT_KEY = "treatment"
PLAIN_KEY = "plain"  # (inside ``results_build``) treated entrants without a variant


def arm_key(arm: str, variant_id: int | None) -> str:
    """The results' name of an arm: the control group, a variant, or the treatment of a
    campaign without variants (or of entrants from before the variants)."""
    if arm == Arm.CONTROL:
        return CONTROL_KEY
    return f"v{variant_id}" if variant_id is not None else TREATMENT_KEY


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

    def add(self, row) -> None:
        for key in ("entered", "reached", "responded", "converted"):
            setattr(self, key, getattr(self, key) + getattr(row, key))


@dataclass
class AumFigures:
    days: int
    treated: int  # customers of each arm whose horizon has passed and who have both snapshots
    control: int
    result: CupedDifference | None


@dataclass
class DayRow:
    """The figures of one arm's entrants of one day (what a ``ResultsDay`` row stores)."""

    arm: str
    variant_id: int | None
    day: dt.date
    entered: int = 0
    reached: int = 0
    responded: int = 0
    converted: int = 0
    aum: dict[int, Moments] = field(default_factory=dict)


@dataclass
class ArmResult:
    """A treated arm (a variant, or the whole treatment) against the control group."""

    figures: ArmFigures
    uplift: Difference | None
    mde: float | None
    aum: list[AumFigures]
    variant: Variant | None = None

    @property
    def better(self) -> bool:
        """Significantly better than the control group (what promotion asks for)."""
        return self.uplift is not None and self.uplift.significant and self.uplift.estimate > 0


@dataclass
class CampaignResults:
    window_days: int
    treatment: ArmFigures  # every treated entrant, whatever their variant
    control: ArmFigures
    uplift: Difference | None
    mde: float | None
    final_on: dt.date | None  # the fixed horizon: figures are interim before it
    final_is_estimate: bool  # no end date yet: later entrants push the horizon on
    is_final: bool
    aum: list[AumFigures] = field(default_factory=list)
    weeks: list[dict] = field(default_factory=list)  # [{week, arm key: (n, converted), …}]
    arms: list[ArmResult] = field(default_factory=list)  # per variant (when there are variants)
    refreshed_at: dt.datetime | None = None  # None: computed live
    funnel: list[dict] = field(default_factory=list)

    @property
    def significant(self) -> bool:
        return self.uplift is not None and self.uplift.significant

    @property
    def has_variants(self) -> bool:
        return any(a.variant is not None for a in self.arms)


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
    converted = (
        Exists(
            JourneyEvent.objects.filter(
                enrolment_id=OuterRef("pk"),
                kind=JourneyEventKind.CONVERTED,
                at__gte=OuterRef("entered_at"),
                at__lt=OuterRef("attribution_ends_at"),
            )
        )
        | Exists(
            CallLog.objects.filter(
                customer_id=OuterRef("customer_id"),
                next_action=NextAction.WON,
                started_at__gte=OuterRef("entered_at"),
                started_at__lt=OuterRef("attribution_ends_at"),
            )
        )
        | Exists(
            # the attribution collector turns these into journey events too; counted here as
            # well, so a referral closed since its last run (or long ago) is not missed
            Referral.objects.filter(
                customer_id=OuterRef("customer_id"),
                status=ReferralStatus.CONVERTED,
                closed_at__gte=OuterRef("entered_at"),
                closed_at__lt=OuterRef("attribution_ends_at"),
            )
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


def _as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _aum_moments(campaign: Campaign, now: dt.datetime) -> dict:
    """{(arm, variant id, day of entry, days): Moments} of y = AUM at entry + days − AUM
    before entry, x = AUM before entry (the last snapshot before the day of entry), over
    the enrolments whose horizon has passed and who have both snapshots: one query.

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
        .values("arm", "variant", "entry_day", *columns)
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
            f"SELECT arm, variant, entry_day, {', '.join(sums)} FROM per_enrolment "
            "GROUP BY arm, variant, entry_day",
            params,
        )
        rows = cursor.fetchall()
    out = {}
    for arm, variant_id, day, *values in rows:
        for i, days in enumerate(AUM_HORIZONS):
            n, *moments = values[6 * i : 6 * i + 6]
            if n:
                out[(arm, variant_id, _as_date(day), days)] = Moments(n, *(float(v or 0) for v in moments))
    return out


def results_rows(*, campaign: Campaign, now: dt.datetime) -> list[DayRow]:
    """The campaign's figures per arm, variant and day of entry, computed from the
    enrolments: two queries whatever their number."""
    reached, responded, converted = _flags(campaign)
    rows: dict[tuple, DayRow] = {}
    counted = (
        _with_window(Enrolment.objects.filter(campaign=campaign), attribution_days(campaign))
        .annotate(day=TruncDate("entered_at"))
        .values("arm", "variant", "day")
        .annotate(
            entered=Count("id"),
            reached=Count("id", filter=reached),
            responded=Count("id", filter=responded),
            converted=Count("id", filter=converted),
        )
        .order_by("day")
    )
    for row in counted:
        day = _as_date(row["day"])
        rows[(row["arm"], row["variant"], day)] = DayRow(
            row["arm"], row["variant"], day, row["entered"], row["reached"], row["responded"], row["converted"]
        )
    for (arm, variant_id, day, days), moments in _aum_moments(campaign, now).items():
        row = rows.get((arm, variant_id, day))
        if row is not None:
            row.aum[days] = moments
    return list(rows.values())


def step_funnel(*, campaign: Campaign) -> list[dict]:
    """Per step of the current journey version: how many enrolments of each arm reached
    it (had any event on it): one query."""
    steps = {s.pk: s for s in CampaignStep.objects.filter(campaign=campaign, version=campaign.journey_version)}
    counts = (
        JourneyEvent.objects.filter(campaign=campaign, step_id__in=list(steps))
        .values("step", "enrolment__arm", "enrolment__variant")
        .annotate(n=Count("enrolment", distinct=True))
        .order_by()
    )
    funnel = {pk: {"step": pk, "position": s.position, "kind": s.kind, "arms": {}} for pk, s in steps.items()}
    for row in counts:
        key = arm_key(row["enrolment__arm"], row["enrolment__variant"])
        arms = funnel[row["step"]]["arms"]
        arms[key] = arms.get(key, 0) + row["n"]
    return sorted(funnel.values(), key=lambda r: r["position"])


def step_orders_entered(*, campaign: Campaign, funnel: list[dict]) -> list[dict]:
    """The variants' own orders of the steps that customers entered with, on the current
    version (the funnel counts each step whatever the order it was reached in): the
    variant, the order as positions of the journey as designed, and since when. One query."""
    position_of = {row["step"]: row["position"] for row in funnel}
    orders = (
        VariantOrder.objects.filter(variant__campaign=campaign, version=campaign.journey_version)
        .filter(Exists(Enrolment.objects.filter(step_order=OuterRef("pk"))))
        .select_related("variant")
        .order_by("variant__position", "pk")
    )
    return [
        {
            "variant": order.variant.label,
            "order": " → ".join(str(position_of[pk]) for pk in order.steps if pk in position_of),
            "since": order.created_at,
        }
        for order in orders
    ]


def _compare(figures: ArmFigures, control: ArmFigures, aum_of: dict, variant=None) -> ArmResult:
    base = (
        control.rate
        if control.converted
        else (
            (figures.converted + control.converted) / (figures.entered + control.entered) if figures.entered else None
        )
    )
    aum = []
    for horizon in AUM_HORIZONS:
        mt = aum_of.get((figures.arm, horizon), Moments())
        mc = aum_of.get((CONTROL_KEY, horizon), Moments())
        aum.append(AumFigures(horizon, mt.n, mc.n, cuped_difference(mt, mc)))
    return ArmResult(
        figures=figures,
        uplift=two_proportion_test(figures.converted, figures.entered, control.converted, control.entered),
        mde=minimum_detectable_effect(figures.entered, control.entered, base) if base is not None else None,
        aum=aum,
        variant=variant,
    )


def results_build(
    *,
    campaign: Campaign,
    rows: list[DayRow],
    variants: list[Variant],
    now: dt.datetime,
    refreshed_at: dt.datetime | None = None,
    funnel: list[dict] | None = None,
) -> CampaignResults:
    """The page's figures from per-day rows (stored or live): pure arithmetic, no query."""
    days = attribution_days(campaign)
    treatment = ArmFigures(TREATMENT_KEY, str(Arm.TREATMENT.label))
    control = ArmFigures(CONTROL_KEY, str(Arm.CONTROL.label))
    per_arm: dict[str, ArmFigures] = {}
    aum_of: dict[tuple[str, int], Moments] = {}
    weeks: dict = {}
    last_entry = None
    for row in rows:
        key = arm_key(row.arm, row.variant_id)
        # Each treated row counts for its own arm and for the treatment as a whole.
        own = PLAIN_KEY if key == TREATMENT_KEY else key
        keys = {own} if key == CONTROL_KEY else {own, TREATMENT_KEY}
        (control if key == CONTROL_KEY else treatment).add(row)
        if key != CONTROL_KEY:
            per_arm.setdefault(own, ArmFigures(own, "")).add(row)
        for horizon, moments in row.aum.items():
            for k in keys:
                aum_of[(k, horizon)] = aum_of.get((k, horizon), Moments()) + moments
        week = row.day - dt.timedelta(days=row.day.weekday())
        slot = weeks.setdefault(week, {"week": week})
        for k in keys:
            n, c = slot.get(k, (0, 0))
            slot[k] = (n + row.entered, c + row.converted)
        last_entry = max(filter(None, (last_entry, row.day)), default=None)
    arms = []
    for variant in variants:
        figures = per_arm.pop(f"v{variant.pk}", None) or ArmFigures(f"v{variant.pk}", "")
        figures.label = variant.label
        arms.append(_compare(figures, control, aum_of, variant))
    before = per_arm.pop(PLAIN_KEY, None)
    if variants and before is not None and before.entered:
        before.label = str(_("Treatment before the variants"))
        arms.append(_compare(before, control, aum_of))
    overall = _compare(treatment, control, aum_of)
    if not variants:
        arms = [overall]
    last_day = campaign.ends_on or last_entry
    final_on = last_day + dt.timedelta(days=days) if last_day else None
    # Without an end date a running campaign takes new entrants, so its horizon moves on.
    estimate = campaign.ends_on is None and campaign.status != CampaignStatus.ENDED
    return CampaignResults(
        window_days=days,
        treatment=treatment,
        control=control,
        uplift=overall.uplift,
        mde=overall.mde,
        final_on=final_on,
        final_is_estimate=estimate,
        is_final=final_on is not None and not estimate and timezone.localdate(now) >= final_on,
        aum=overall.aum,
        weeks=[weeks[k] for k in sorted(weeks)],
        arms=arms,
        refreshed_at=refreshed_at,
        funnel=funnel or [],
    )


def campaign_results(*, campaign: Campaign, now: dt.datetime | None = None) -> CampaignResults:
    """The campaign's figures computed live from its enrolments: two queries (three with
    variants). The page reads the stored aggregates instead (``campaign_results_stored``)."""
    now = now or timezone.now()
    rows = results_rows(campaign=campaign, now=now)
    variants = list(Variant.objects.filter(campaign=campaign)) if any(r.variant_id for r in rows) else []
    return results_build(campaign=campaign, rows=rows, variants=variants, now=now)


# --- the export ---------------------------------------------------------------------------------


def _pp(value: float | None) -> float | None:
    """A rate or a difference of rates in percent (points), as the page shows it."""
    return round(value * 100, 2) if value is not None else None


def _cny(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


def results_export_header() -> list[str]:
    """The export's columns, in the user's language (zh-hans unless they chose English)."""
    header = [
        _("Arm"),
        _("Entered"),
        _("Reached"),
        _("Responded"),
        _("Converted"),
        _("Conversion rate (%)"),
        _("Rate: 95% interval from (%)"),
        _("Rate: 95% interval to (%)"),
        _("Uplift against control (percentage points)"),
        _("Uplift: 95% interval from"),
        _("Uplift: 95% interval to"),
        _("Uplift: p-value"),
    ]
    for days in AUM_HORIZONS:
        header += [
            _("AUM change over %(n)s days against control, per customer (CNY, CUPED)") % {"n": days},
            _("AUM %(n)s days: 95%% interval from (CNY)") % {"n": days},
            _("AUM %(n)s days: 95%% interval to (CNY)") % {"n": days},
            _("AUM %(n)s days: customers counted (arm / control)") % {"n": days},
        ]
    return [*header, _("Figures as of"), _("Final or interim")]


def results_export_rows(results: CampaignResults) -> list[list]:
    """One row per arm — each variant (or the treatment), the treatment as a whole when
    there are variants, then the control group — from the figures the page shows."""
    stage = (
        str(_("Final"))
        if results.is_final
        else str(_("Interim: final on %(day)s") % {"day": results.final_on.isoformat() if results.final_on else "—"})
    )

    def row(figures: ArmFigures, uplift: Difference | None, aum: list[AumFigures]) -> list:
        low, high = figures.interval or (None, None)
        cells = [figures.label, figures.entered, figures.reached, figures.responded, figures.converted]
        cells += [_pp(figures.rate), _pp(low), _pp(high)]
        cells += [_pp(uplift.estimate), _pp(uplift.low), _pp(uplift.high)] if uplift else [None, None, None]
        cells.append(round(uplift.p_value, 4) if uplift and uplift.p_value is not None else None)
        by_days = {a.days: a for a in aum}
        for days in AUM_HORIZONS:
            a = by_days.get(days)
            result = a.result if a else None
            cells += [_cny(result.estimate), _cny(result.low), _cny(result.high)] if result else [None, None, None]
            cells.append(f"{a.treated} / {a.control}" if a else None)
        return [*cells, results.refreshed_at, stage]

    rows = [row(arm.figures, arm.uplift, arm.aum) for arm in results.arms]
    if results.has_variants:
        whole = replace(results.treatment, label=str(_("Treatment, every variant together")))
        rows.append(row(whole, results.uplift, results.aum))
    rows.append(row(results.control, None, []))
    return rows


def results_export_record(*, actor, campaign: Campaign, fmt: str, rows: int) -> None:
    """Record who took the campaign's results, before the file is built."""
    audit_record(actor=actor, verb="campaign.results_export", target=campaign, details={"format": fmt, "arms": rows})


# --- the stored aggregates ---------------------------------------------------------------------


def _row_of(stored: ResultsDay) -> DayRow:
    return DayRow(
        stored.arm,
        stored.variant_id,
        stored.day,
        stored.entered,
        stored.reached,
        stored.responded,
        stored.converted,
        {int(k): Moments(int(v[0]), *map(float, v[1:])) for k, v in (stored.aum or {}).items()},
    )


def campaign_results_stored(*, campaign: Campaign, now: dt.datetime | None = None) -> CampaignResults | None:
    """The figures as of the last refresh, from the stored rows (three queries whatever
    the number of enrolments); None when the campaign was never refreshed."""
    now = now or timezone.now()
    refresh = ResultsRefresh.objects.filter(campaign=campaign).first()
    if refresh is None:
        return None
    rows = [_row_of(r) for r in ResultsDay.objects.filter(campaign=campaign).order_by("day", "id")]
    variants = list(Variant.objects.filter(campaign=campaign).order_by("position"))
    return results_build(
        campaign=campaign,
        rows=rows,
        variants=variants,
        now=now,
        refreshed_at=refresh.refreshed_at,
        funnel=refresh.funnel,
    )


def results_refresh(*, campaign_id: int, now: dt.datetime | None = None) -> int:
    """Recompute and store a campaign's aggregates (its per-day rows and its funnel),
    replacing the previous ones in one transaction: running it twice stores the same.
    Returns the number of rows stored."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = Campaign.objects.select_for_update().get(pk=campaign_id)
        rows = results_rows(campaign=campaign, now=now)
        funnel = step_funnel(campaign=campaign)
        ResultsDay.objects.filter(campaign=campaign).delete()
        ResultsDay.objects.bulk_create(
            [
                ResultsDay(
                    campaign=campaign,
                    arm=r.arm,
                    variant_id=r.variant_id,
                    day=r.day,
                    entered=r.entered,
                    reached=r.reached,
                    responded=r.responded,
                    converted=r.converted,
                    aum={str(days): [m.n, m.sx, m.sy, m.sxx, m.syy, m.sxy] for days, m in sorted(r.aum.items())},
                )
                for r in rows
            ],
            batch_size=2000,
        )
        ResultsRefresh.objects.update_or_create(campaign=campaign, defaults={"refreshed_at": now, "funnel": funnel})
    return len(rows)


# A campaign's figures can still change this long after its last entry (the attribution
# window, then the 90-day AUM horizon).
SETTLED_DAYS = max(AUM_HORIZONS) + 1


def campaigns_to_refresh(*, now: dt.datetime) -> list[int]:
    """Running and paused campaigns, and ended ones until their figures have settled."""
    settled_before = now - dt.timedelta(days=max(SETTLED_DAYS, attribution_days() + 1))
    live = Campaign.objects.filter(status__in=(CampaignStatus.RUNNING, CampaignStatus.PAUSED))
    ended = Campaign.objects.filter(status=CampaignStatus.ENDED).filter(
        Q(results_refresh__isnull=True) | Q(enrolments__entered_at__gte=settled_before)
    )
    return sorted(set(live.values_list("pk", flat=True)) | set(ended.values_list("pk", flat=True)))


def results_refresh_all(*, now: dt.datetime | None = None) -> int:
    """Refresh every campaign whose figures may change (the beat). Returns how many."""
    now = now or timezone.now()
    ids = campaigns_to_refresh(now=now)
    for pk in ids:
        results_refresh(campaign_id=pk, now=now)
    return len(ids)
