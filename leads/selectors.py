"""Reads of leads: the queues a team works and the leads a user may open.

Every read starts from the row rules (``Lead.objects.restrict``,
``PlannedCall.objects.restrict``) or, for the queues, a narrower index-friendly filter
inside the rule (``_lead_base``, tested to stay inside it), and owns its joins, so the
queue pages run a constant number of queries whatever the page size.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from core.access import get_for_user
from org.roles import Role, role_of

from .models import Lead, LeadStatus, PlannedCall, PlannedCallKind, PlannedCallStatus


def end_of_local_day(now: dt.datetime, days: int = 0) -> dt.datetime:
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=days + 1)
    return start


def _lead_base(user) -> QuerySet[Lead]:
    """The leads a queue is drawn from.

    Advisors and team leads work their team's queues, which the view rule contains (it
    adds an advisor's own book and a team lead's advisors' leads elsewhere), so the
    queues filter on the team directly: one index range on (team, status, score)
    instead of an OR across the customer join. ``leads/tests/test_access.py`` checks
    every queue stays inside ``restrict(user, "view")``.
    """
    qs = Lead.objects.select_related("customer", "owner__staff_profile")
    if role_of(user) in (Role.ADVISOR, Role.TEAM_LEAD):
        return qs.filter(team_id=user.staff_profile.team_id)
    return qs.restrict(user, "view")


def leads_to_confirm(*, user) -> QuerySet[Lead]:
    """New leads of the team: an advisor sees the unclaimed ones and their own; a team
    lead all of them."""
    qs = _lead_base(user).filter(status=LeadStatus.NEW)
    if role_of(user) == Role.ADVISOR:
        qs = qs.filter(Q(owner=user) | Q(owner__isnull=True))
    return qs.order_by("-score", "id")


def leads_nurturing(*, user) -> QuerySet[Lead]:
    qs = _lead_base(user).filter(status=LeadStatus.NURTURING).select_related("nurture_plan")
    if role_of(user) == Role.ADVISOR:
        qs = qs.filter(owner=user)
    return qs.order_by(F("next_touch_at").asc(nulls_last=True), "id")


def leads_pool(*, user) -> QuerySet[Lead]:
    """The team's incubation pool: unassigned, visible to the whole team."""
    return _lead_base(user).filter(status=LeadStatus.POOLED).order_by("-score", "id")


def planned_calls(*, user, when: str = "today", now: dt.datetime | None = None) -> QuerySet[PlannedCall]:
    """Planned calls (callbacks, nurture touches, campaign tasks) still to make, of the
    advisors the user may see (``PlannedCall.objects.restrict``), due ``when``
    (:func:`planned_calls_due`)."""
    qs = (
        PlannedCall.objects.restrict(user, "view")
        .filter(status=PlannedCallStatus.PLANNED)
        .select_related("lead", "customer", "advisor__staff_profile")
    )
    return planned_calls_due(qs, when=when, now=now).order_by("due_at", "id")


def planned_calls_due(qs: QuerySet[PlannedCall], *, when: str, now: dt.datetime | None = None) -> QuerySet[PlannedCall]:
    """``when``: "today" (due by the end of today, overdue included), "tomorrow", "week"
    (the next 7 days) or "all"."""
    now = now or timezone.now()
    if when == "today":
        return qs.filter(due_at__lt=end_of_local_day(now))
    if when == "tomorrow":
        return qs.filter(due_at__gte=end_of_local_day(now), due_at__lt=end_of_local_day(now, 1))
    if when == "week":
        return qs.filter(due_at__lt=end_of_local_day(now, 6))
    return qs


def next_callback(*, customer_id: int) -> PlannedCall | None:
    """The customer's next planned call (a callback, a nurture touch, ...), if any."""
    return (
        PlannedCall.objects.filter(customer_id=customer_id, status=PlannedCallStatus.PLANNED)
        .order_by("due_at", "id")
        .first()
    )


def campaign_task_for(*, lead: Lead) -> PlannedCall | None:
    """The lead's next open campaign call task (the call screen shows its campaign, its
    window and its approved script, and the logged call completes it)."""
    return (
        PlannedCall.objects.filter(lead=lead, kind=PlannedCallKind.CAMPAIGN, status=PlannedCallStatus.PLANNED)
        .select_related("script_version__script")
        .order_by("due_at", "id")
        .first()
    )


# --- the call screen -------------------------------------------------------------------


def lead_get_for_user(*, user, pk: int, action: str = "view") -> Lead:
    """The lead with its customer if ``user`` may ``action`` it, or 404."""
    qs = Lead.objects.select_related(
        "customer", "customer__home_branch", "customer__owner__staff_profile", "owner__staff_profile", "team"
    )
    return get_for_user(qs.one_lead(), user=user, pk=pk, action=action)
