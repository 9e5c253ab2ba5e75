"""Reads of the advisor's working day: the queue tabs, the call screen and the call
measures (外呼执行率, 有效通联率)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.pagination import capped_count
from customers.models import Channel, CustomerTag, Holding, Interaction
from leads.models import GradeDecision, Lead, PlannedCall, PlannedCallStatus
from leads.selectors import end_of_local_day, leads_nurturing, leads_pool, leads_to_confirm, planned_calls
from org.roles import Role, role_of, team_of
from referrals.models import Referral

from .models import CallLog, Disposition

QUEUES = ("confirm", "today", "done", "nurturing", "pool", "referred")


QUEUE_LABELS = {
    "confirm": _("To confirm"),
    "today": _("Today's calls"),
    "done": _("Completed today"),
    "nurturing": _("Nurturing"),
    "pool": _("Incubation pool"),
    "referred": _("Referred"),
}


def referrals_made(*, user) -> QuerySet[Referral]:
    """The Referred tab: the referrals the user may see (``Referral.objects.restrict``:
    an advisor the ones they made, a team lead the team's), with the branch's status.

    The customers come in a second query for the page's rows only: joined, a team
    lead's 1,400 referrals at a million customers were each joined to their customer
    before the sort kept 25 (75 ms of SQL)."""
    return (
        Referral.objects.restrict(user, "view")
        .select_related("branch", "assigned_rm__staff_profile")
        .prefetch_related("customer")
        .order_by("-created_at", "-id")
    )


def calls_completed_today(*, user, now: dt.datetime | None = None) -> QuerySet[CallLog]:
    """The "Completed today" tab: calls logged today (Shanghai day) that the user may see,
    their own for an advisor (``CallLog.objects.restrict``), newest first."""
    now = now or timezone.now()
    start = end_of_local_day(now, -1)
    return (
        CallLog.objects.restrict(user, "view")
        .filter(started_at__gte=start, started_at__lt=end_of_local_day(now))
        .select_related("disposition", "customer", "lead", "advisor__staff_profile")
        .order_by("-started_at", "-id")
    )


def queue_counts(*, user, now: dt.datetime | None = None) -> dict[str, int]:
    """The number in each queue tab, capped (five bounded COUNTs, ``core.pagination``)."""
    return {
        "confirm": capped_count(leads_to_confirm(user=user)),
        "today": capped_count(planned_calls(user=user, when="today", now=now)),
        "done": capped_count(calls_completed_today(user=user, now=now)),
        "nurturing": capped_count(leads_nurturing(user=user)),
        "pool": capped_count(leads_pool(user=user)),
        "referred": capped_count(referrals_made(user=user)),
    }


@dataclass
class CallContext:
    """What the call screen shows besides the lead: history, transcript, holdings."""

    ai_sessions: list
    recent_interactions: list
    calls: list
    holdings: list
    tags: list
    transitions: list
    planned: list
    referrals: list = field(default_factory=list)
    # The latest of the customer's recorded last contact and the contacts listed, so
    # "Last contact" never says "none" next to a listed contact (or the reverse).
    last_contact: dt.datetime | None = None


def call_context(*, lead: Lead) -> CallContext:
    customer = lead.customer
    calls = customer_calls(customer_id=customer.pk, limit=10)
    # A logged call also writes a phone interaction on the customer's timeline
    # (``external_id`` "call:<key>"); the call screen lists the call itself, once.
    interactions = list(
        Interaction.objects.filter(customer=customer)
        .exclude(external_id__startswith="call:")
        .order_by("-occurred_at", "-id")[:30]
    )
    return CallContext(
        ai_sessions=[i for i in interactions if i.channel == Channel.AI_BOT and i.transcript][:3],
        # Every contact, AI-bot sessions included, so the list agrees with the
        # customer's "last contact" (which counts them too).
        recent_interactions=interactions[:10],
        calls=calls,
        holdings=list(
            Holding.objects.filter(customer=customer).select_related("product").order_by("maturity_date")[:20]
        ),
        tags=list(CustomerTag.objects.filter(customer=customer).select_related("tag")[:20]),
        transitions=list(lead.transitions.select_related("actor__staff_profile")[:10]),
        planned=list(lead.planned_calls.filter(status=PlannedCallStatus.PLANNED).order_by("due_at")[:5]),
        referrals=list(lead.referrals.select_related("branch")[:3]),
        last_contact=max(
            [
                t
                for t in (
                    customer.last_contact_at,
                    *(i.occurred_at for i in interactions[:1]),
                    *(c.started_at for c in calls[:1]),
                )
                if t
            ],
            default=None,
        ),
    )


def dispositions_active() -> QuerySet[Disposition]:
    return Disposition.objects.filter(active=True).order_by("sort_order", "code")


@dataclass(frozen=True)
class Measure:
    """One call measure: the one name it has on every page and in the API, and the
    one-line definition shown on hover (``title=``) and in the API schema."""

    label: str
    definition: str


# Every measure is named once, here: the advisor's home card, the team measures page and
# the API (``GET /api/calls/measures/``) read their labels and definitions from this map,
# and the API's field names are its keys.
MEASURES: dict[str, Measure] = {
    "planned": Measure(
        _("Planned calls due"),
        _("Planned calls and callbacks due in the period, cancelled ones left out."),
    ),
    "planned_done": Measure(
        _("Planned calls done"),
        _("Planned calls due in the period that were made and marked done."),
    ),
    "execution_rate": Measure(
        _("Outbound execution rate"),
        _("Planned calls done divided by planned calls due."),
    ),
    "dialled": Measure(
        _("Calls dialled"),
        _("Every call logged in the period, planned or not, whatever its outcome."),
    ),
    "connected": Measure(
        _("Calls connected"),
        _("Calls dialled in which the customer answered."),
    ),
    "effective": Measure(
        _("Effective contacts"),
        _("Calls dialled whose outcome counts as an effective contact with the customer."),
    ),
    "effective_rate": Measure(
        _("Effective-contact rate"),
        _("Effective contacts divided by calls dialled."),
    ),
    "conversions": Measure(
        _("Conversions"),
        _("Calls dialled whose next step was recorded as a sale."),
    ),
    "amount": Measure(
        _("Amount converted (CNY)"),
        _("The sum of the amounts of those sales, in CNY."),
    ),
    "callbacks_due": Measure(
        _("Callbacks due"),
        _("Callbacks still to make that are due by the end of today."),
    ),
    "overdue_touches": Measure(
        _("Overdue nurture touches"),
        _("Nurture calls still to make that were due on an earlier day."),
    ),
    "decisions": Measure(
        _("Grades confirmed"),
        _("Leads whose grade the advisor confirmed in the period."),
    ),
    "override_rate": Measure(
        _("Override rate"),
        _("Confirmed grades that differ from the proposed grade, divided by grades confirmed."),
    ),
}


@dataclass(frozen=True)
class CallKpis:
    """外呼执行率 = planned calls made ÷ planned calls due; 有效通联率 = effective ÷ dialled."""

    planned: int
    planned_done: int
    dialled: int
    connected: int
    effective: int
    conversions: int
    amount: Decimal
    callbacks_due: int = 0
    overdue_touches: int = 0

    @property
    def execution_rate(self) -> float | None:
        return self.planned_done / self.planned if self.planned else None

    @property
    def effective_rate(self) -> float | None:
        return self.effective / self.dialled if self.dialled else None

    @property
    def effective_target(self) -> float:
        return settings.WORKBENCH_EFFECTIVE_CONTACT_TARGET

    @property
    def effective_on_target(self) -> bool | None:
        rate = self.effective_rate
        return None if rate is None else rate >= self.effective_target


def call_aggregates():
    """The call measures as aggregates over a queryset of calls: the one definition of
    dialled, connected, effective, won and their amount (the KPI cards and the dashboards
    both sum these)."""
    return {
        "dialled": Count("id"),
        "connected": Count("id", filter=Q(disposition__connected=True)),
        "effective": Count("id", filter=Q(disposition__effective=True)),
        "conversions": Count("id", filter=Q(next_action="won")),
        "amount": Sum("won_amount", filter=Q(next_action="won")),
    }


def planned_aggregates():
    """Planned calls counted (cancelled ones left out) and made, for 外呼执行率."""
    return {
        "planned": Count("id", filter=~Q(status=PlannedCallStatus.CANCELLED)),
        "planned_done": Count("id", filter=Q(status=PlannedCallStatus.DONE)),
    }


def advisor_kpis(*, user, day: dt.date | None = None, now: dt.datetime | None = None) -> CallKpis:
    """The advisor's figures for ``day`` (default today, Asia/Shanghai): three queries."""
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=timezone.get_current_timezone())
    end = start + dt.timedelta(days=1)
    calls = CallLog.objects.filter(advisor=user, started_at__gte=start, started_at__lt=end).aggregate(
        **call_aggregates()
    )
    planned = PlannedCall.objects.filter(advisor=user, due_at__gte=start, due_at__lt=end).aggregate(
        **planned_aggregates()
    )
    backlog = PlannedCall.objects.filter(advisor=user, status=PlannedCallStatus.PLANNED).aggregate(
        callbacks_due=Count("id", filter=Q(kind="callback", due_at__lt=end)),
        # A touch is overdue once its day is over: one planned for 10:00 today is
        # today's work at 10:05, not a backlog.
        overdue_touches=Count("id", filter=Q(kind="nurture", due_at__lt=start)),
    )
    return CallKpis(
        planned=planned["planned"],
        planned_done=planned["planned_done"],
        dialled=calls["dialled"],
        connected=calls["connected"],
        effective=calls["effective"],
        conversions=calls["conversions"],
        amount=calls["amount"] or Decimal("0"),
        callbacks_due=backlog["callbacks_due"],
        overdue_touches=backlog["overdue_touches"],
    )


PERIODS = {"day": TruncDate, "week": TruncWeek, "month": TruncMonth}


@dataclass(frozen=True)
class KpiRow:
    key: object  # advisor id or period start
    label: str
    kpis: CallKpis
    decisions: int = 0
    overrides: int = 0

    @property
    def override_rate(self) -> float | None:
        return self.overrides / self.decisions if self.decisions else None


def _advisors_in_scope(user):
    users = get_user_model().objects.filter(staff_profile__role=Role.ADVISOR).select_related("staff_profile")
    role = role_of(user)
    if role == Role.TEAM_LEAD:
        users = users.filter(staff_profile__team_id=team_of(user))
    elif role == Role.ADVISOR:
        users = users.filter(pk=user.pk)
    elif role != Role.ADMIN:
        users = users.none()
    return users.order_by("staff_profile__display_name", "id")


def team_kpis(*, user, start: dt.date, end: dt.date, period: str = "day") -> dict:
    """Per advisor and per period figures for a team lead (or all teams for an admin).

    Returns {"advisors": [KpiRow], "periods": [KpiRow], "total": KpiRow}; four grouped
    queries whatever the number of advisors or days.
    """
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time(0, 0), tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0, 0), tzinfo=tz)
    advisors = list(_advisors_in_scope(user))
    ids = [a.pk for a in advisors]
    trunc = PERIODS.get(period, TruncDate)

    calls = CallLog.objects.filter(advisor_id__in=ids, started_at__gte=lo, started_at__lt=hi)
    planned = PlannedCall.objects.filter(advisor_id__in=ids, due_at__gte=lo, due_at__lt=hi)
    by_adv_calls = {r["advisor_id"]: r for r in calls.values("advisor_id").annotate(**call_aggregates())}
    by_adv_planned = {r["advisor_id"]: r for r in planned.values("advisor_id").annotate(**planned_aggregates())}
    decisions = {
        r["advisor_id"]: r
        for r in GradeDecision.objects.filter(advisor_id__in=ids, decided_at__gte=lo, decided_at__lt=hi)
        .values("advisor_id")
        .annotate(n=Count("id"), overridden=Count("id", filter=Q(overridden=True)))
    }
    by_period_calls = {
        _as_date(r["p"]): r
        for r in calls.annotate(p=trunc("started_at", tzinfo=tz)).values("p").annotate(**call_aggregates())
    }
    by_period_planned = {
        _as_date(r["p"]): r
        for r in planned.annotate(p=trunc("due_at", tzinfo=tz)).values("p").annotate(**planned_aggregates())
    }

    def kpis(c: dict | None, p: dict | None) -> CallKpis:
        c = c or {}
        p = p or {}
        return CallKpis(
            planned=p.get("planned", 0),
            planned_done=p.get("planned_done", 0),
            dialled=c.get("dialled", 0),
            connected=c.get("connected", 0),
            effective=c.get("effective", 0),
            conversions=c.get("conversions", 0),
            amount=c.get("amount") or Decimal("0"),
        )

    advisor_rows = [
        KpiRow(
            key=a.pk,
            label=a.staff_profile.display_name,
            kpis=kpis(by_adv_calls.get(a.pk), by_adv_planned.get(a.pk)),
            decisions=decisions.get(a.pk, {}).get("n", 0),
            overrides=decisions.get(a.pk, {}).get("overridden", 0),
        )
        for a in advisors
    ]
    period_rows = [
        KpiRow(key=p, label=_period_label(p, period), kpis=kpis(by_period_calls.get(p), by_period_planned.get(p)))
        for p in _period_starts(start, end, period)
    ]
    total = KpiRow(
        key="total",
        label=str(_("Team total")),
        kpis=_sum_kpis([r.kpis for r in advisor_rows]),
        decisions=sum(r.decisions for r in advisor_rows),
        overrides=sum(r.overrides for r in advisor_rows),
    )
    return {"advisors": advisor_rows, "periods": period_rows, "total": total}


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def _period_starts(start: dt.date, end: dt.date, period: str) -> list[dt.date]:
    if period == "week":
        cur = start - dt.timedelta(days=start.weekday())
        step = dt.timedelta(days=7)
    elif period == "month":
        cur = start.replace(day=1)
        step = None
    else:
        cur = start
        step = dt.timedelta(days=1)
    out = []
    while cur <= end:
        out.append(cur)
        if step is None:
            cur = (cur.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        else:
            cur = cur + step
    return out


def _period_label(p: dt.date, period: str) -> str:
    if period == "month":
        return p.strftime("%Y-%m")
    return p.isoformat()


def _sum_kpis(items: list[CallKpis]) -> CallKpis:
    return CallKpis(
        planned=sum(k.planned for k in items),
        planned_done=sum(k.planned_done for k in items),
        dialled=sum(k.dialled for k in items),
        connected=sum(k.connected for k in items),
        effective=sum(k.effective for k in items),
        conversions=sum(k.conversions for k in items),
        amount=sum((k.amount for k in items), Decimal("0")),
    )


def call_logs(*, user) -> QuerySet[CallLog]:
    """The call logs the user may see (``CallLog.objects.restrict``), newest first."""
    return (
        CallLog.objects.restrict(user, "view")
        .select_related("disposition", "customer", "advisor__staff_profile", "lead")
        .order_by("-started_at", "-id")
    )


def customer_calls(*, customer_id: int, limit: int = 20) -> list[CallLog]:
    """The latest calls with a customer, by any advisor: part of the record of a lead or
    referral on that customer, shown to whoever may open that lead or referral."""
    return list(
        CallLog.objects.filter(customer_id=customer_id)
        .select_related("disposition", "advisor__staff_profile")
        .order_by("-started_at", "-id")[:limit]
    )
