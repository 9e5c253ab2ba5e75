"""Advisors' daily call capacity, and call tasks placed within it.

A campaign call task goes to the customer's owner first; when the owner is away or full for
the day it goes to the team member with the most capacity left (then the lowest id, so the
result is reproducible). Nobody is ever given more planned calls on a day than their
capacity (``StaffProfile.daily_call_capacity``, else ``WORKBENCH_DAILY_CALL_CAPACITY``);
tasks nobody can take that day are returned unplaced, so the caller (the campaign's entry
throttle) keeps them for the next day instead of flooding the call centre.

A day is the local date of ``due_at`` in the call-hours time zone. Planned calls of every
kind count against the day (a callback takes a slot like a campaign task).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count

from core.audit import audit_record
from org.calendar import call_hours
from org.models import StaffProfile
from org.roles import Role

from .models import Lead, PlannedCall, PlannedCallKind, PlannedCallStatus

COUNTED = (PlannedCallStatus.PLANNED, PlannedCallStatus.DONE)


@dataclass(frozen=True)
class CallTask:
    """One call task to place: the lead it works and the window it is due in."""

    lead: Lead
    due_at: dt.datetime
    due_until: dt.datetime | None = None
    campaign_id: int | None = None
    campaign_step_id: int | None = None
    enrolment_id: int | None = None
    script_version_id: int | None = None
    note: str = ""


@dataclass
class Placement:
    created: list[PlannedCall] = field(default_factory=list)
    unplaced: list[CallTask] = field(default_factory=list)


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(call_hours()[2]).date()


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = call_hours()[2]
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def capacity_of(profile: StaffProfile) -> int:
    if profile.daily_call_capacity is not None:
        return profile.daily_call_capacity
    return settings.WORKBENCH_DAILY_CALL_CAPACITY


def is_absent(profile: StaffProfile, day: dt.date) -> bool:
    return profile.absent_until is not None and profile.absent_until >= day


def advisors_of(team_ids, *, lock: bool = False) -> list[StaffProfile]:
    qs = StaffProfile.objects.filter(team_id__in=list(team_ids), role=Role.ADVISOR, user__is_active=True)
    return list((qs.select_for_update() if lock else qs).order_by("user_id"))


def left_on_day(profiles: list[StaffProfile], day: dt.date) -> dict[int, int]:
    """Slots left on ``day`` for each present advisor of ``profiles`` (one query)."""
    return {
        plan.profile.user_id: plan.left for plan in capacity_day_plans(profiles=profiles, day=day) if not plan.absent
    }


def _members(profiles: list[StaffProfile]) -> dict[int, list[int]]:
    members: dict[int, list[int]] = defaultdict(list)
    for p in profiles:
        members[p.team_id].append(p.user_id)
    return members


def _choose(owner_id: int | None, members: list[int], left: dict[int, int]) -> int | None:
    if owner_id is not None and left.get(owner_id, 0) > 0:
        return owner_id
    best = None
    for user_id in members:
        if left.get(user_id, 0) > 0 and (best is None or left[user_id] > left[best]):
            best = user_id
    return best


@transaction.atomic
def call_tasks_assign(*, tasks: list[CallTask]) -> Placement:
    """Create a planned call for each task an advisor can take on its day, in the order
    given (the caller sorts by due date and priority). Returns what was created and what
    could not be placed. Rows of the advisors concerned are locked, so two launches
    placing tasks at once never overfill one advisor."""
    placement = Placement()
    if not tasks:
        return placement
    profiles = advisors_of({t.lead.team_id for t in tasks if t.lead.team_id is not None}, lock=True)
    members = _members(profiles)
    left_by_day: dict[dt.date, dict[int, int]] = {}
    rows = []
    for task in sorted(tasks, key=lambda t: t.due_at):
        day = local_day(task.due_at)
        if day not in left_by_day:
            left_by_day[day] = left_on_day(profiles, day)
        left = left_by_day[day]
        advisor_id = _choose(task.lead.owner_id, members.get(task.lead.team_id, []), left)
        if advisor_id is None:
            placement.unplaced.append(task)
            continue
        left[advisor_id] -= 1
        rows.append(
            PlannedCall(
                lead=task.lead,
                customer_id=task.lead.customer_id,
                advisor_id=advisor_id,
                kind=PlannedCallKind.CAMPAIGN,
                due_at=task.due_at,
                due_until=task.due_until,
                note=task.note,
                campaign_id=task.campaign_id,
                campaign_step_id=task.campaign_step_id,
                enrolment_id=task.enrolment_id,
                script_version_id=task.script_version_id,
            )
        )
    placement.created = PlannedCall.objects.bulk_create(rows)
    return placement


@transaction.atomic
def call_tasks_rebalance(*, day: dt.date, actor=None) -> dict[str, int]:
    """Move the planned campaign tasks of advisors absent on ``day`` to present team
    members with capacity left (the most first). Tasks nobody can take stay where they
    are and are counted as ``stuck`` for the team lead. Running it again moves nothing
    more. Each team with something moved or stuck gets one audit event with its counts."""
    start, end = _day_bounds(day)
    team_ids = set(
        StaffProfile.objects.filter(role=Role.ADVISOR, absent_until__gte=day, team__isnull=False).values_list(
            "team_id", flat=True
        )
    )
    profiles = advisors_of(team_ids, lock=True)
    left = left_on_day(profiles, day)
    members = _members(profiles)
    absent = [p for p in profiles if is_absent(p, day)]
    tasks = PlannedCall.objects.select_for_update().filter(
        advisor_id__in=[p.user_id for p in absent],
        kind=PlannedCallKind.CAMPAIGN,
        status=PlannedCallStatus.PLANNED,
        due_at__gte=start,
        due_at__lt=end,
    )
    team_of = {p.user_id: p.team_id for p in absent}
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"moved": 0, "stuck": 0})
    changed = []
    for planned in tasks.order_by("due_at", "id"):
        team_id = team_of[planned.advisor_id]
        advisor_id = _choose(None, members[team_id], left)
        if advisor_id is None:
            counts[team_id]["stuck"] += 1
            continue
        left[advisor_id] -= 1
        planned.advisor_id = advisor_id
        changed.append(planned)
        counts[team_id]["moved"] += 1
    PlannedCall.objects.bulk_update(changed, ["advisor"])
    for team_id, result in sorted(counts.items()):
        audit_record(
            actor=actor,
            verb="planned_calls.rebalance",
            target_type="org.team",
            target_id=team_id,
            details={"day": day.isoformat(), **result},
        )
    return {
        "moved": sum(c["moved"] for c in counts.values()),
        "stuck": sum(c["stuck"] for c in counts.values()),
    }


@dataclass
class DayPlan:
    """One advisor's day: capacity, planned calls by kind, made, left, and absence."""

    profile: StaffProfile
    capacity: int
    absent: bool
    by_kind: dict[str, int]
    done: int
    planned: int
    left: int


def capacity_day_plans(*, profiles: list[StaffProfile], day: dt.date) -> list[DayPlan]:
    """The team lead's capacity view of ``day`` for ``profiles`` (one query)."""
    start, end = _day_bounds(day)
    rows = (
        PlannedCall.objects.filter(
            advisor_id__in=[p.user_id for p in profiles], status__in=COUNTED, due_at__gte=start, due_at__lt=end
        )
        .values_list("advisor_id", "kind", "status")
        .annotate(n=Count("id"))
    )
    by_advisor: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    done: dict[int, int] = defaultdict(int)
    for advisor_id, kind, status, n in rows:
        by_advisor[advisor_id][kind] += n
        if status == PlannedCallStatus.DONE:
            done[advisor_id] += n
    plans = []
    for p in profiles:
        kinds = {kind: by_advisor[p.user_id].get(kind, 0) for kind in PlannedCallKind.values}
        planned = sum(kinds.values())
        absent = is_absent(p, day)
        capacity = capacity_of(p)
        plans.append(
            DayPlan(
                profile=p,
                capacity=capacity,
                absent=absent,
                by_kind=kinds,
                done=done[p.user_id],
                planned=planned,
                left=0 if absent else max(0, capacity - planned),
            )
        )
    return plans
