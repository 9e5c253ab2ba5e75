"""Reads of leads: the queues a team works and the leads a user may open.

Every read starts from the lead row rule (or a narrower index-friendly equivalent, said
where it is used) and owns its joins, so the queue pages run a constant number of
queries whatever the page size.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from org.roles import Role, role_of

from .models import Lead, LeadStatus, PlannedCall, PlannedCallStatus


def _team_id(user) -> int | None:
    profile = getattr(user, "staff_profile", None)
    return profile.team_id if profile else None


def end_of_local_day(now: dt.datetime, days: int = 0) -> dt.datetime:
    local = timezone.localtime(now)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=days + 1)
    return start


def _lead_base(user) -> QuerySet[Lead]:
    """Advisors and team leads work their team's queues, which ``visible_to`` contains
    (it adds the advisor's own book), so the queues filter on the team directly: one
    index range on (team, status, score) instead of an OR across the customer join."""
    qs = Lead.objects.select_related("customer", "owner__staff_profile")
    if role_of(user) in (Role.ADVISOR, Role.TEAM_LEAD):
        return qs.filter(team_id=_team_id(user))
    return qs.filter(pk__in=Lead.objects.visible_to(user).values("pk")) if role_of(user) != Role.ADMIN else qs


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
    """Planned calls (callbacks, nurture touches, campaign tasks) still to make.

    ``when``: "today" (due by the end of today, overdue included), "tomorrow", "week"
    (the next 7 days) or "all".
    """
    now = now or timezone.now()
    qs = PlannedCall.objects.filter(status=PlannedCallStatus.PLANNED).select_related(
        "lead", "customer", "advisor__staff_profile"
    )
    role = role_of(user)
    if role == Role.ADVISOR:
        qs = qs.filter(advisor=user)
    elif role == Role.TEAM_LEAD:
        qs = qs.filter(advisor__staff_profile__team_id=_team_id(user))
    elif role not in (Role.ADMIN, Role.COMPLIANCE):
        qs = qs.none()
    if when == "today":
        qs = qs.filter(due_at__lt=end_of_local_day(now))
    elif when == "tomorrow":
        qs = qs.filter(due_at__gte=end_of_local_day(now), due_at__lt=end_of_local_day(now, 1))
    elif when == "week":
        qs = qs.filter(due_at__lt=end_of_local_day(now, 6))
    return qs.order_by("due_at", "id")


# --- the call screen -------------------------------------------------------------------


def lead_get_for_user(*, user, pk: int) -> Lead:
    """The lead with its customer, or 404 outside the user's scope."""
    try:
        return (
            Lead.objects.visible_to(user)
            .select_related("customer", "customer__home_branch", "customer__owner__staff_profile", "owner", "team")
            .get(pk=pk)
        )
    except Lead.DoesNotExist as exc:
        raise Http404 from exc


# --- metrics ---------------------------------------------------------------------------


