"""Call tasks placed within advisors' daily capacity, and rebalanced when one is away."""

import datetime as dt

import pytest
from django.test import override_settings

from core.models import AuditEvent
from leads import tasks
from leads.capacity import CallTask, advisors_of, call_tasks_assign, call_tasks_rebalance, left_on_day, local_day
from leads.models import PlannedCall, PlannedCallKind
from leads.tests.factories import LeadFactory, PlannedCallFactory
from org.models import StaffProfile
from org.roles import Role
from org.tests.factories import TeamFactory, make_staff

pytestmark = pytest.mark.django_db

DUE = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
DAY = dt.date(2026, 12, 3)


@pytest.fixture
def team():
    team = TeamFactory()
    owner = make_staff(Role.ADVISOR, team=team, username="cap-owner")
    a = make_staff(Role.ADVISOR, team=team, username="cap-a")
    b = make_staff(Role.ADVISOR, team=team, username="cap-b")
    StaffProfile.objects.filter(user__in=[owner, a, b]).update(daily_call_capacity=2)
    return team, owner, a, b


def tasks_for(team, owner, n):
    return [CallTask(lead=LeadFactory(team=team, owner=owner), due_at=DUE, campaign_id=7) for _ in range(n)]


def per_advisor():
    counts = {}
    for advisor_id in PlannedCall.objects.values_list("advisor__username", flat=True):
        counts[advisor_id] = counts.get(advisor_id, 0) + 1
    return counts


def test_owner_first_then_the_team_by_capacity_left_and_never_over(team):
    team, owner, a, b = team
    PlannedCallFactory(lead=LeadFactory(team=team, owner=a), advisor=a, due_at=DUE)  # a has 1 left
    placement = call_tasks_assign(tasks=tasks_for(team, owner, 6))
    assert len(placement.created) == 5 and len(placement.unplaced) == 1
    assert per_advisor() == {"cap-owner": 2, "cap-a": 2, "cap-b": 2}
    assert set(PlannedCall.objects.filter(campaign_id=7).values_list("kind", flat=True)) == {PlannedCallKind.CAMPAIGN}
    assert left_on_day(advisors_of([team.pk]), DAY) == {owner.pk: 0, a.pk: 0, b.pk: 0}
    # Again: everybody is full, nothing more is created.
    again = call_tasks_assign(tasks=tasks_for(team, owner, 1))
    assert again.created == [] and len(again.unplaced) == 1


def test_capacity_is_per_day(team):
    team, owner, a, b = team
    tomorrow = DUE + dt.timedelta(days=1)
    tasks = [CallTask(lead=LeadFactory(team=team, owner=owner), due_at=d) for d in (DUE, DUE, DUE, tomorrow, tomorrow)]
    placement = call_tasks_assign(tasks=tasks)
    assert len(placement.created) == 5
    assert PlannedCall.objects.filter(advisor=owner).count() == 4  # two each day


@override_settings(WORKBENCH_DAILY_CALL_CAPACITY=1)
def test_default_capacity_applies_without_a_profile_figure(team):
    team, owner, a, b = team
    StaffProfile.objects.filter(user=b).update(daily_call_capacity=None)
    call_tasks_assign(tasks=tasks_for(team, owner, 6))
    assert per_advisor()["cap-b"] == 1


def test_an_absent_owner_gets_nothing_and_their_tasks_move(team):
    team, owner, a, b = team
    placed = call_tasks_assign(tasks=tasks_for(team, owner, 2))
    assert per_advisor() == {"cap-owner": 2}
    StaffProfile.objects.filter(user=owner).update(absent_until=DAY)
    new = call_tasks_assign(tasks=tasks_for(team, owner, 1))
    assert new.created[0].advisor_id != owner.pk
    result = call_tasks_rebalance(day=DAY)
    assert result == {"moved": 2, "stuck": 0}
    assert not PlannedCall.objects.filter(advisor=owner).exists()
    assert max(per_advisor().values()) <= 2
    assert AuditEvent.objects.filter(verb="planned_calls.rebalance").count() == 1
    # Running it again moves nothing more and records nothing.
    assert call_tasks_rebalance(day=DAY) == {"moved": 0, "stuck": 0}
    assert AuditEvent.objects.filter(verb="planned_calls.rebalance").count() == 1
    assert {p.pk for p in placed.created} <= set(PlannedCall.objects.values_list("pk", flat=True))


def test_rebalance_leaves_what_nobody_can_take(team):
    team, owner, a, b = team
    StaffProfile.objects.filter(user__in=[owner, a, b]).update(daily_call_capacity=1)
    StaffProfile.objects.filter(user=owner).update(daily_call_capacity=3)
    call_tasks_assign(tasks=tasks_for(team, owner, 3))
    StaffProfile.objects.filter(user=owner).update(absent_until=DAY + dt.timedelta(days=2))
    assert call_tasks_rebalance(day=DAY) == {"moved": 2, "stuck": 1}
    assert PlannedCall.objects.filter(advisor=owner).count() == 1


def test_the_day_is_the_local_date():
    assert local_day(dt.datetime(2026, 12, 2, 17, 0, tzinfo=dt.UTC)) == dt.date(2026, 12, 3)


def test_the_beat_task_rebalances_today(team, monkeypatch):
    team, owner, a, b = team
    call_tasks_assign(tasks=tasks_for(team, owner, 1))
    StaffProfile.objects.filter(user=owner).update(absent_until=DAY)
    monkeypatch.setattr(tasks.timezone, "now", lambda: DUE)
    assert tasks.rebalance_call_tasks.apply().get() == {"moved": 1, "stuck": 0}
    assert tasks.rebalance_call_tasks.apply().get() == {"moved": 0, "stuck": 0}
