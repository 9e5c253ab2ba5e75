"""Reads of the dashboards: every figure is a sum of ``DailyFact`` rows in the viewer's
scope (``dashboards.access.scope_of``) and the page's filters, a few grouped queries per
page whatever the number of records behind them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Max, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.selectors import CallKpis
from campaigns.models import Campaign
from customers.models import FlowDirection
from org.models import Branch, Team
from referrals.models import RejectReason

from .access import can_open_stage, scope_of, stage_in_scope
from .models import DailyFact, DailyRefresh, Metric
from .sources import FUNNEL

DIM_FIELDS = {"advisor": "advisor_id", "team": "team_id", "branch": "branch_id", "rm": "rm_id"}
GRADES = ("high", "mid", "low")


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive
    kind: str = "custom"  # day | week | month | custom

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The equal period just before: the day, week or month before, else as many days."""
        if self.kind == "month":
            end = self.start - dt.timedelta(days=1)
            return Period(end.replace(day=1), end, "month")
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end, self.kind)

    @property
    def grain(self) -> str:
        """The trend chart's step: days up to two months, weeks up to a year, else months."""
        if self.days <= 62:
            return "day"
        return "week" if self.days <= 366 else "month"


def period_for(kind: str, anchor: dt.date, start: dt.date | None = None) -> Period:
    if kind == "day":
        return Period(anchor, anchor, "day")
    if kind == "week":
        monday = anchor - dt.timedelta(days=anchor.weekday())
        return Period(monday, monday + dt.timedelta(days=6), "week")
    if kind == "month":
        first = anchor.replace(day=1)
        nxt = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return Period(first, nxt - dt.timedelta(days=1), "month")
    return Period(start or anchor, anchor, "custom")


def _facts(*, user, metrics, start: dt.date, end: dt.date, filters: dict):
    """The rows of ``metrics`` in [start, end] in the viewer's scope and the filters: the
    campaign's attributed rows when a campaign is chosen, else the totals."""
    q = Q(metric__in=list(metrics), day__gte=start, day__lte=end)
    for dim, value in [*filters.items(), *scope_of(user).dims().items()]:
        if value is not None and dim in DIM_FIELDS:
            q &= Q(**{DIM_FIELDS[dim]: value})
    campaign = filters.get("campaign")
    q &= Q(campaign_id=campaign) if campaign is not None else Q(campaign_id__isnull=True)
    return DailyFact.objects.filter(q)


def _change(now: int | Decimal, before: int | Decimal) -> float | None:
    """The change against the previous equal period, as a ratio (None from nothing)."""
    if not before:
        return None
    return float((now - before) / before)


def _ratio(num, den) -> float | None:
    return float(num) / float(den) if den else None


def as_of(*, period: Period) -> dt.datetime | None:
    """When the last day of the period was counted (the "as of HH:MM" of the page)."""
    return DailyRefresh.objects.filter(day__lte=period.end).aggregate(t=Max("refreshed_at"))["t"]


# --- the funnel -------------------------------------------------------------------------------

STAGE_LABELS = {
    Metric.REACHED_CAMPAIGN: _("Reached by campaigns"),
    Metric.REACHED_AI: _("AI-bot conversations"),
    Metric.PROPOSED: _("Leads proposed"),
    Metric.CONFIRMED: _("Confirmed by advisors"),
    Metric.REFERRED: _("Referred to branches"),
    Metric.ACCEPTED: _("Accepted by branches"),
    Metric.CONVERTED: _("Converted"),
}
STAGE_HELP = {
    Metric.REACHED_CAMPAIGN: _("Campaign messages sent in the period (one per customer and message)."),
    Metric.REACHED_AI: _("AI-bot conversations with customers in the period."),
    Metric.PROPOSED: _("Leads proposed by scoring, the AI bot or campaigns in the period."),
    Metric.CONFIRMED: _("Grades an advisor confirmed in the period, by confirmed grade."),
    Metric.REFERRED: _("High leads handed to a branch in the period."),
    Metric.ACCEPTED: _("Referrals a branch accepted in the period."),
    Metric.CONVERTED: _("Referrals the branch recorded as converted in the period, with the amount."),
}


def funnel_stages(user) -> list[str]:
    return [m for m in FUNNEL if stage_in_scope(user, m)]


@dataclass
class Stage:
    metric: str
    label: str
    help: str
    count: int
    previous: int
    amount: Decimal
    previous_amount: Decimal
    grades: dict
    linkable: bool
    conversion: float | None = None  # of the stage before
    drop_off: float | None = None

    @property
    def change(self) -> float | None:
        return _change(self.count, self.previous)

    @property
    def amount_change(self) -> float | None:
        return _change(self.amount, self.previous_amount)


def funnel(*, user, period: Period, filters: dict) -> list[Stage]:
    """The stages' counts in the period and the previous equal one, conversion from the
    stage before and drop-off: one query."""
    metrics = funnel_stages(user)
    prev = period.previous()
    cur_q = Q(day__gte=period.start)
    rows = (
        _facts(user=user, metrics=metrics, start=prev.start, end=period.end, filters=filters)
        .values("metric", "detail")
        .annotate(
            n=Sum("count", filter=cur_q),
            a=Sum("amount", filter=cur_q),
            pn=Sum("count", filter=~cur_q),
            pa=Sum("amount", filter=~cur_q),
        )
        .order_by()
    )
    sums: dict = {m: [0, Decimal("0"), 0, Decimal("0"), {}] for m in metrics}
    for r in rows:
        cell = sums[r["metric"]]
        cell[0] += r["n"] or 0
        cell[1] += r["a"] or Decimal("0")
        cell[2] += r["pn"] or 0
        cell[3] += r["pa"] or Decimal("0")
        if r["detail"]:
            cell[4][r["detail"]] = cell[4].get(r["detail"], 0) + (r["n"] or 0)
    stages = []
    for m in metrics:
        n, a, pn, pa, details = sums[m]
        grades = {g: details.get(g, 0) for g in GRADES} if m == Metric.CONFIRMED else {}
        stages.append(Stage(m, STAGE_LABELS[m], STAGE_HELP[m], n, pn, a, pa, grades, can_open_stage(user, m)))
    for before, stage in zip(stages, stages[1:], strict=False):
        # Reach by campaigns and by the bot are two doors into the same first layer.
        if stage.metric == Metric.REACHED_AI and before.metric == Metric.REACHED_CAMPAIGN:
            continue
        base = before.count
        if before.metric == Metric.REACHED_AI and stages[0].metric == Metric.REACHED_CAMPAIGN:
            base = before.count + stages[0].count
        if stage.metric == Metric.REFERRED and before.metric == Metric.CONFIRMED:
            base = before.grades.get("high", 0)  # only high leads are referred
        stage.conversion = _ratio(stage.count, base)
        stage.drop_off = None if stage.conversion is None else 1 - stage.conversion
    return stages


def funnel_trend(*, user, period: Period, filters: dict) -> dict:
    """The stages per day (or week, month) of the period, for the chart: one query."""
    metrics = funnel_stages(user)
    rows = (
        _facts(user=user, metrics=metrics, start=period.start, end=period.end, filters=filters)
        .values("metric", "day")
        .annotate(n=Sum("count"))
        .order_by()
    )
    buckets = _buckets(period)
    series = {m: [0] * len(buckets) for m in metrics}
    index = _bucket_index(period, buckets)
    for r in rows:
        series[r["metric"]][index(r["day"])] += r["n"]
    return {
        "labels": [b.isoformat() for b in buckets],
        "series": [{"label": str(STAGE_LABELS[m]), "data": series[m]} for m in metrics],
    }


def _buckets(period: Period) -> list[dt.date]:
    grain = period.grain
    out = []
    if grain == "day":
        cur = period.start
        while cur <= period.end:
            out.append(cur)
            cur += dt.timedelta(days=1)
    elif grain == "week":
        cur = period.start - dt.timedelta(days=period.start.weekday())
        while cur <= period.end:
            out.append(cur)
            cur += dt.timedelta(days=7)
    else:
        cur = period.start.replace(day=1)
        while cur <= period.end:
            out.append(cur)
            cur = (cur.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def _bucket_index(period: Period, buckets: list[dt.date]):
    first = buckets[0]
    if period.grain == "day":
        return lambda d: (d - first).days
    if period.grain == "week":
        return lambda d: (d - first).days // 7
    return lambda d: (d.year - first.year) * 12 + d.month - first.month


BREAKDOWNS = {
    "team": _("Team"),
    "advisor": _("Advisor"),
    "branch": _("Branch"),
    "campaign": _("Campaign"),
}


def breakdowns_for(user) -> list[str]:
    kind = scope_of(user).kind
    if kind == "all":
        return list(BREAKDOWNS)
    if kind == "team":
        return ["advisor", "campaign"]
    if kind == "branch":
        return ["team", "advisor"]
    return ["campaign"]


def _labels(dim: str, ids) -> dict:
    ids = [i for i in ids if i is not None]
    if not ids:
        return {}
    if dim == "team":
        return dict(Team.objects.filter(pk__in=ids).values_list("pk", "name"))
    if dim == "branch":
        return dict(Branch.objects.filter(pk__in=ids).values_list("pk", "name"))
    if dim == "campaign":
        return dict(Campaign.objects.filter(pk__in=ids).values_list("pk", "name"))
    return dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "staff_profile__display_name"))


def funnel_breakdown(*, user, period: Period, filters: dict, by: str) -> list[dict]:
    """The stages per team, advisor, branch or campaign: two queries (figures, names)."""
    metrics = funnel_stages(user)
    qs = _facts(user=user, metrics=metrics, start=period.start, end=period.end, filters=filters)
    if by == "campaign":
        if filters.get("campaign") is None:
            qs = _campaign_facts(user=user, metrics=metrics, period=period, filters=filters)
        field = "campaign_id"
    else:
        field = DIM_FIELDS[by]
    rows: dict = {}
    for r in qs.values(field, "metric").annotate(n=Sum("count"), a=Sum("amount")).order_by():
        row = rows.setdefault(r[field], dict.fromkeys(metrics, 0) | {"amount": Decimal("0")})
        row[r["metric"]] += r["n"] or 0
        if r["metric"] == Metric.CONVERTED:
            row["amount"] += r["a"] or Decimal("0")
    names = _labels(by, rows)
    out = []
    for key, figures in rows.items():
        out.append(
            {
                "key": key,
                "label": names.get(key) or str(_("Not assigned")),
                "figures": [figures[m] for m in metrics],
                "amount": figures["amount"],
                "conversion": _ratio(figures.get(Metric.CONVERTED, 0), figures.get(Metric.PROPOSED, 0))
                if Metric.PROPOSED in figures
                else _ratio(figures.get(Metric.CONVERTED, 0), figures.get(Metric.REFERRED, 0)),
            }
        )
    out.sort(key=lambda r: (-r["amount"], -sum(r["figures"]), str(r["label"])))
    return out


def _campaign_facts(*, user, metrics, period: Period, filters: dict):
    """Every campaign's attributed rows (for the "by campaign" table)."""
    q = Q(metric__in=list(metrics), day__gte=period.start, day__lte=period.end, campaign_id__isnull=False)
    for dim, value in [*filters.items(), *scope_of(user).dims().items()]:
        if value is not None and dim in DIM_FIELDS:
            q &= Q(**{DIM_FIELDS[dim]: value})
    return DailyFact.objects.filter(q)


# --- remote-centre operations -------------------------------------------------------------------

CALL_METRICS = (
    Metric.DIALLED,
    Metric.CONNECTED,
    Metric.EFFECTIVE,
    Metric.CALL_CONVERSIONS,
    Metric.PLANNED,
    Metric.PLANNED_DONE,
    Metric.DECISIONS,
    Metric.OVERRIDES,
    Metric.CALLBACKS,
    Metric.CALLBACKS_ON_TIME,
)


@dataclass
class OpsRow:
    key: object
    label: str
    kpis: CallKpis
    decisions: int = 0
    overrides: int = 0
    callbacks: int = 0
    callbacks_on_time: int = 0
    overdue_touches: int = 0

    @property
    def override_rate(self):
        return _ratio(self.overrides, self.decisions)

    @property
    def callbacks_on_time_rate(self):
        return _ratio(self.callbacks_on_time, self.callbacks)


def _ops_row(key, label, s: dict, overdue: int = 0) -> OpsRow:
    return OpsRow(
        key=key,
        label=label,
        kpis=CallKpis(
            planned=s.get(Metric.PLANNED, 0),
            planned_done=s.get(Metric.PLANNED_DONE, 0),
            dialled=s.get(Metric.DIALLED, 0),
            connected=s.get(Metric.CONNECTED, 0),
            effective=s.get(Metric.EFFECTIVE, 0),
            conversions=s.get(Metric.CALL_CONVERSIONS, 0),
            amount=s.get("amount", Decimal("0")),
            overdue_touches=overdue,
        ),
        decisions=s.get(Metric.DECISIONS, 0),
        overrides=s.get(Metric.OVERRIDES, 0),
        callbacks=s.get(Metric.CALLBACKS, 0),
        callbacks_on_time=s.get(Metric.CALLBACKS_ON_TIME, 0),
        overdue_touches=overdue,
    )


def operations(*, user, period: Period, filters: dict) -> dict:
    """Per advisor, per team, per day and per hour of day; the totals against the previous
    period; the book's AUM at the start and the end, and its net new money: seven queries."""
    prev = period.previous()
    cur_q = Q(day__gte=period.start)
    base = _facts(user=user, metrics=CALL_METRICS, start=prev.start, end=period.end, filters=filters)
    per_adv: dict = {}
    per_team: dict = {}
    total: dict = {}
    previous: dict = {}
    for r in (
        base.values("advisor_id", "team_id", "metric")
        .annotate(
            n=Sum("count", filter=cur_q),
            a=Sum("amount", filter=cur_q),
            pn=Sum("count", filter=~cur_q),
            pa=Sum("amount", filter=~cur_q),
        )
        .order_by()
    ):
        for bucket in (per_adv.setdefault(r["advisor_id"], {}), per_team.setdefault(r["team_id"], {}), total):
            bucket[r["metric"]] = bucket.get(r["metric"], 0) + (r["n"] or 0)
            if r["metric"] == Metric.CALL_CONVERSIONS:
                bucket["amount"] = bucket.get("amount", Decimal("0")) + (r["a"] or Decimal("0"))
        previous[r["metric"]] = previous.get(r["metric"], 0) + (r["pn"] or 0)
        if r["metric"] == Metric.CALL_CONVERSIONS:
            previous["amount"] = previous.get("amount", Decimal("0")) + (r["pa"] or Decimal("0"))
    # Overdue touches are a state at the end of a day: the last day of the period.
    overdue_adv: dict = {}
    overdue_team: dict = {}
    overdue_total = 0
    for r in (
        _facts(user=user, metrics=[Metric.OVERDUE_TOUCHES], start=period.end, end=period.end, filters=filters)
        .values("advisor_id", "team_id")
        .annotate(n=Sum("count"))
        .order_by()
    ):
        overdue_adv[r["advisor_id"]] = r["n"]
        overdue_team[r["team_id"]] = overdue_team.get(r["team_id"], 0) + r["n"]
        overdue_total += r["n"]
    per_day: dict = {}
    for r in base.filter(cur_q).values("day", "metric").annotate(n=Sum("count")).order_by():
        per_day.setdefault(r["day"], {})[r["metric"]] = r["n"]
    by_hour: dict = {}
    for r in (
        _facts(user=user, metrics=[Metric.DIALLED_BY_HOUR], start=period.start, end=period.end, filters=filters)
        .values("advisor_id", "hour")
        .annotate(n=Sum("count"))
        .order_by()
    ):
        by_hour.setdefault(r["advisor_id"], {})[r["hour"]] = r["n"]
    names = _labels("advisor", set(per_adv) | set(by_hour))
    teams = _labels("team", per_team)
    advisors = sorted(
        (_ops_row(k, names.get(k) or str(_("Not assigned")), s, overdue_adv.get(k, 0)) for k, s in per_adv.items()),
        key=lambda r: r.label,
    )
    days = [d for d in _buckets(Period(period.start, period.end, "custom")) if period.days <= 62]
    book = book_aum(user=user, period=period, filters=filters)
    flows = net_new_money(user=user, period=period, filters=filters)
    # The AUM change is net new money plus market and other moves, when the book is known
    # on the day before the period and on its last day (today for a current period).
    last = min(period.end, timezone.localdate())
    if book["change"] is not None and (book["start_day"], book["end_day"]) == (
        period.start - dt.timedelta(days=1),
        last,
    ):
        book["market"] = book["change"] - flows["net"]
    seen = [h for counts in by_hour.values() for h in counts]
    hours = list(range(min([8, *seen]), max([21, *seen]) + 1))
    return {
        "advisors": advisors,
        "teams": sorted(
            (
                _ops_row(k, teams.get(k) or str(_("Not assigned")), s, overdue_team.get(k, 0))
                for k, s in per_team.items()
            ),
            key=lambda r: r.label,
        ),
        "total": _ops_row("total", str(_("Total")), total, overdue_total),
        "previous": _ops_row("previous", str(_("Previous period")), previous),
        "days": [_ops_row(d, d.isoformat(), per_day.get(d, {})) for d in days],
        "hours": hours,
        "by_hour": [
            {"label": names.get(a) or str(_("Not assigned")), "counts": [by_hour[a].get(h, 0) for h in hours]}
            for a in sorted(by_hour, key=lambda a: names.get(a) or "")
        ],
        "book": book,
        "flows": flows,
        "leaderboard": sorted(
            (r for r in advisors if r.kpis.dialled),
            key=lambda r: (-(r.kpis.effective_rate or 0), -r.kpis.amount, r.label),
        )[:10],
    }


def book_aum(*, user, period: Period, filters: dict) -> dict:
    """The AUM of the managed customers (owned by an advisor) on the last counted day of
    the period against the last counted day before it (the day before the period starts
    once its history is counted: ``dashboards_refresh --days``): one query."""
    rows = list(
        _facts(
            user=user,
            metrics=[Metric.BOOK_AUM],
            start=period.start - dt.timedelta(days=400),
            end=period.end,
            filters=filters,
        )
        .values("day")
        .annotate(a=Sum("amount"), n=Sum("count"))
        .order_by("day")
    )
    before = [r for r in rows if r["day"] < period.start]
    within = [r for r in rows if r["day"] >= period.start]
    start = before[-1] if before else (within[0] if within else None)
    end = within[-1] if within else None
    start_amount = start["a"] if start else None
    end_amount = end["a"] if end else None
    return {
        "start_day": start["day"] if start else None,
        "end_day": end["day"] if end else None,
        "start": start_amount,
        "end": end_amount,
        "customers": end["n"] if end else 0,
        "change": (end_amount - start_amount) if start_amount is not None and end_amount is not None else None,
        "change_rate": _change(end_amount, start_amount) if start_amount and end_amount is not None else None,
        "market": None,
    }


NET_NEW_MONEY_HELP = _(
    "External inflows minus outflows of the managed customers in the period (transfers from and to"
    " other banks, salary, cash, payments); market moves and switches between their own products"
    " are not flows."
)


def net_new_money(*, user, period: Period, filters: dict) -> dict:
    """Inflows, outflows and their difference in the period and the previous equal one:
    one query."""
    prev = period.previous()
    cur_q = Q(day__gte=period.start)
    sums = {("cur", "in"): Decimal("0"), ("cur", "out"): Decimal("0")}
    sums |= {("prev", "in"): Decimal("0"), ("prev", "out"): Decimal("0")}
    count = 0
    for r in (
        _facts(user=user, metrics=[Metric.NET_NEW_MONEY], start=prev.start, end=period.end, filters=filters)
        .values("detail")
        .annotate(n=Sum("count", filter=cur_q), a=Sum("amount", filter=cur_q), pa=Sum("amount", filter=~cur_q))
        .order_by()
    ):
        if r["detail"] not in ("in", "out"):
            continue
        count += r["n"] or 0
        sums[("cur", r["detail"])] += r["a"] or Decimal("0")
        sums[("prev", r["detail"])] += r["pa"] or Decimal("0")
    net = sums[("cur", "in")] - sums[("cur", "out")]
    previous = sums[("prev", "in")] - sums[("prev", "out")]
    return {
        "inflow": sums[("cur", "in")],
        "outflow": sums[("cur", "out")],
        "net": net,
        "count": count,
        "previous": previous,
        # Against the size of the previous figure, so a smaller outflow reads as a rise.
        "change": float((net - previous) / abs(previous)) if previous else None,
        "linkable": can_open_stage(user, Metric.NET_NEW_MONEY),
    }


def flow_totals(records) -> dict:
    """Inflows, outflows and net of a list of fund flows (the records page): one query."""
    sums = records.aggregate(
        inflow=Sum("amount", filter=Q(direction=FlowDirection.IN)),
        outflow=Sum("amount", filter=Q(direction=FlowDirection.OUT)),
    )
    inflow, outflow = sums["inflow"] or Decimal("0"), sums["outflow"] or Decimal("0")
    return {"inflow": inflow, "outflow": outflow, "net": inflow - outflow}


# --- the branch view ------------------------------------------------------------------------

BRANCH_METRIC_LIST = (
    Metric.REFERRED,
    Metric.REVIEWED,
    Metric.REVIEWED_ON_TIME,
    Metric.ACCEPTED,
    Metric.REJECTED,
    Metric.CONTACTED,
    Metric.CONTACTED_ON_TIME,
    Metric.CONVERTED,
    Metric.RETURNED,
)


def branch_view(*, user, period: Period, filters: dict) -> dict:
    """Referrals received, SLA kept, conversion and amount per RM and per branch, returned
    and rejected with reasons, against the previous period: four queries."""
    prev = period.previous()
    cur_q = Q(day__gte=period.start)
    base = _facts(user=user, metrics=BRANCH_METRIC_LIST, start=prev.start, end=period.end, filters=filters)
    per_rm: dict = {}
    per_branch: dict = {}
    total: dict = {}
    previous: dict = {}
    reasons: dict = {}
    for r in (
        base.values("rm_id", "branch_id", "metric", "detail")
        .annotate(
            n=Sum("count", filter=cur_q),
            a=Sum("amount", filter=cur_q),
            pn=Sum("count", filter=~cur_q),
            pa=Sum("amount", filter=~cur_q),
        )
        .order_by()
    ):
        n = r["n"] or 0
        for bucket in (per_rm.setdefault(r["rm_id"], {}), per_branch.setdefault(r["branch_id"], {}), total):
            bucket[r["metric"]] = bucket.get(r["metric"], 0) + n
            if r["metric"] == Metric.CONVERTED:
                bucket["amount"] = bucket.get("amount", Decimal("0")) + (r["a"] or Decimal("0"))
        previous[r["metric"]] = previous.get(r["metric"], 0) + (r["pn"] or 0)
        if r["metric"] == Metric.CONVERTED:
            previous["amount"] = previous.get("amount", Decimal("0")) + (r["pa"] or Decimal("0"))
        if r["metric"] == Metric.REJECTED and n:
            reasons[r["detail"]] = reasons.get(r["detail"], 0) + n
    rms = _labels("rm", per_rm)
    branches = _labels("branch", per_branch)
    reason_words = dict(RejectReason.choices)

    def row(key, label, s):
        return {
            "key": key,
            "label": label,
            "received": s.get(Metric.REFERRED, 0),
            "reviewed": s.get(Metric.REVIEWED, 0),
            "reviewed_on_time": s.get(Metric.REVIEWED_ON_TIME, 0),
            "review_rate": _ratio(s.get(Metric.REVIEWED_ON_TIME, 0), s.get(Metric.REVIEWED, 0)),
            "accepted": s.get(Metric.ACCEPTED, 0),
            "rejected": s.get(Metric.REJECTED, 0),
            "contacted": s.get(Metric.CONTACTED, 0),
            "contacted_on_time": s.get(Metric.CONTACTED_ON_TIME, 0),
            "contact_rate": _ratio(s.get(Metric.CONTACTED_ON_TIME, 0), s.get(Metric.CONTACTED, 0)),
            "converted": s.get(Metric.CONVERTED, 0),
            "amount": s.get("amount", Decimal("0")),
            "conversion": _ratio(s.get(Metric.CONVERTED, 0), s.get(Metric.ACCEPTED, 0)),
            "returned": s.get(Metric.RETURNED, 0),
        }

    current, before = row("total", str(_("Total")), total), row("previous", str(_("Previous period")), previous)
    return {
        "changes": {k: _change(current[k], before[k]) for k in ("received", "converted", "rejected", "returned")},
        "rms": sorted(
            (row(k, rms.get(k) or str(_("Not assigned yet")), s) for k, s in per_rm.items()),
            key=lambda r: (-r["amount"], -r["converted"], str(r["label"])),
        ),
        "branches": sorted(
            (row(k, branches.get(k) or str(_("Not assigned")), s) for k, s in per_branch.items()),
            key=lambda r: str(r["label"]),
        ),
        "total": current,
        "previous": before,
        "reasons": sorted(
            (
                {"code": code, "label": reason_words.get(code, str(_("Other"))), "count": n}
                for code, n in reasons.items()
            ),
            key=lambda r: -r["count"],
        ),
    }


def filter_choices(*, user) -> dict:
    """The teams, advisors, branches and campaigns a viewer may narrow to: at most four
    queries, each only for a choice the viewer's scope offers."""
    kind = scope_of(user).kind
    out: dict = {"teams": [], "advisors": [], "branches": [], "campaigns": []}
    if kind == "all":
        out["teams"] = list(Team.objects.order_by("name").values_list("pk", "name"))
        out["branches"] = list(Branch.objects.order_by("code").values_list("pk", "name"))
    if kind in ("all", "team"):
        advisors = get_user_model().objects.filter(staff_profile__role="advisor")
        if kind == "team":
            advisors = advisors.filter(staff_profile__team_id=scope_of(user).team_id)
        out["advisors"] = list(
            advisors.order_by("staff_profile__display_name").values_list("pk", "staff_profile__display_name")
        )
    if kind in ("all", "team", "advisor"):
        out["campaigns"] = list(
            Campaign.objects.restrict(user, "view").order_by("-created_at").values_list("pk", "name")[:200]
        )
    return out
