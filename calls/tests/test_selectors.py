"""Call metrics on known data, and the queue membership rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from calls import selectors
from calls.tests.factories import CallLogFactory, disposition
from leads import models as m
from leads.tests.factories import LeadFactory, PlannedCallFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=SH)


@pytest.fixture
def day():
    return timezone.localdate() - dt.timedelta(days=2)


@pytest.fixture
def known_day(world, day):
    """advisor_a on ``day``: 4 planned calls (3 done, 1 still planned; a cancelled one does
    not count), 5 dialled calls of which 4 effective, 1 conversion of 80,000."""
    a = world.advisor_a
    lead = LeadFactory(team=world.team_a, owner=a)
    PlannedCallFactory(lead=lead, advisor=a, due_at=_at(day, 10), status="done")
    PlannedCallFactory(lead=lead, advisor=a, due_at=_at(day, 11), status="done")
    PlannedCallFactory(lead=lead, advisor=a, due_at=_at(day, 14), status="done")
    PlannedCallFactory(lead=lead, advisor=a, due_at=_at(day, 16), status="planned")
    PlannedCallFactory(lead=lead, advisor=a, due_at=_at(day, 17), status="cancelled")
    for hour in (10, 11, 14):
        CallLogFactory(lead=lead, advisor=a, started_at=_at(day, hour), disposition=disposition("effective"))
    CallLogFactory(
        lead=lead,
        advisor=a,
        started_at=_at(day, 15),
        disposition=disposition("effective"),
        next_action="won",
        won_amount=Decimal("80000"),
    )
    CallLogFactory(lead=lead, advisor=a, started_at=_at(day, 16), disposition=disposition("no_answer"))
    # Another advisor's call and a call on another day do not count.
    CallLogFactory(lead=lead, advisor=world.advisor_a2, started_at=_at(day, 12))
    CallLogFactory(lead=lead, advisor=a, started_at=_at(day - dt.timedelta(days=1), 12))
    return lead


def test_advisor_kpis_arithmetic(world, known_day, day):
    k = selectors.advisor_kpis(user=world.advisor_a, day=day)
    assert (k.planned, k.planned_done) == (4, 3)
    assert k.execution_rate == pytest.approx(0.75)
    assert (k.dialled, k.connected, k.effective) == (5, 4, 4)
    assert k.effective_rate == pytest.approx(0.8)
    assert k.effective_on_target is True  # 80% meets the ≥ 80% target
    assert (k.conversions, k.amount) == (1, Decimal("80000"))


def test_zero_division_day_gives_no_rate(world):
    k = selectors.advisor_kpis(user=world.advisor_a, day=timezone.localdate() - dt.timedelta(days=30))
    assert (k.planned, k.dialled) == (0, 0)
    assert k.execution_rate is None and k.effective_rate is None and k.effective_on_target is None
    assert k.amount == Decimal("0")


def test_backlog_counts(world):
    now = timezone.now()
    lead = LeadFactory(team=world.team_a, owner=world.advisor_a)
    PlannedCallFactory(lead=lead, advisor=world.advisor_a, kind="callback", due_at=now - dt.timedelta(hours=1))
    PlannedCallFactory(lead=lead, advisor=world.advisor_a, kind="nurture", due_at=now - dt.timedelta(days=2))
    PlannedCallFactory(lead=lead, advisor=world.advisor_a, kind="nurture", due_at=now + dt.timedelta(days=2))
    k = selectors.advisor_kpis(user=world.advisor_a, now=now)
    assert k.callbacks_due == 1 and k.overdue_touches == 1


def test_team_kpis_per_advisor_and_period(world, known_day, day):
    data = selectors.team_kpis(user=world.lead_a, start=day - dt.timedelta(days=1), end=day, period="day")
    rows = {r.key: r for r in data["advisors"]}
    assert set(rows) == {world.advisor_a.pk, world.advisor_a2.pk}  # team A only, not advisor_b
    a = rows[world.advisor_a.pk].kpis
    assert (a.dialled, a.effective, a.planned, a.planned_done) == (6, 5, 4, 3)
    assert rows[world.advisor_a2.pk].kpis.dialled == 1
    periods = {r.key: r.kpis for r in data["periods"]}
    assert periods[day].dialled == 6 and periods[day - dt.timedelta(days=1)].dialled == 1
    assert periods[day].execution_rate == pytest.approx(0.75)
    assert periods[day - dt.timedelta(days=1)].execution_rate is None  # nothing planned that day
    assert data["total"].kpis.dialled == 7
    week = selectors.team_kpis(user=world.lead_a, start=day - dt.timedelta(days=1), end=day, period="week")
    assert sum(r.kpis.dialled for r in week["periods"]) == 7


def test_override_rate_per_advisor(world, day):
    for overridden in (True, False, False, True):
        lead = LeadFactory(team=world.team_a)
        m.GradeDecision.objects.create(
            lead=lead,
            advisor=world.advisor_a,
            proposed_grade="mid",
            confirmed_grade="low" if overridden else "mid",
            overridden=overridden,
            reason_code="transcript_weaker" if overridden else "",
        )
    data = selectors.team_kpis(user=world.lead_a, start=timezone.localdate(), end=timezone.localdate())
    row = next(r for r in data["advisors"] if r.key == world.advisor_a.pk)
    assert (row.decisions, row.overrides, row.override_rate) == (4, 2, 0.5)
    other = next(r for r in data["advisors"] if r.key == world.advisor_a2.pk)
    assert other.override_rate is None


def test_team_kpis_scope_for_advisor_is_self(world):
    data = selectors.team_kpis(user=world.advisor_b, start=timezone.localdate(), end=timezone.localdate())
    assert [r.key for r in data["advisors"]] == [world.advisor_b.pk]
    assert (
        selectors.team_kpis(user=world.manager_x, start=timezone.localdate(), end=timezone.localdate())["advisors"]
        == []
    )


def test_queue_membership(world):
    mine = LeadFactory(team=world.team_a, owner=world.advisor_a, score=70)
    unclaimed = LeadFactory(team=world.team_a, score=80)
    colleague = LeadFactory(team=world.team_a, owner=world.advisor_a2, score=90)
    other_team = LeadFactory(team=world.team_b, score=99)
    pooled = LeadFactory(team=world.team_a, status="pooled", confirmed_grade="low")
    nurturing = LeadFactory(team=world.team_a, status="nurturing", owner=world.advisor_a)
    assert list(selectors.leads_to_confirm(user=world.advisor_a)) == [unclaimed, mine]
    assert set(selectors.leads_to_confirm(user=world.lead_a)) == {mine, unclaimed, colleague}
    assert list(selectors.leads_to_confirm(user=world.advisor_b)) == [other_team]
    assert list(selectors.leads_pool(user=world.advisor_a2)) == [pooled]
    assert list(selectors.leads_nurturing(user=world.advisor_a)) == [nurturing]
    assert list(selectors.leads_nurturing(user=world.advisor_a2)) == []
    counts = selectors.queue_counts(user=world.advisor_a)
    assert counts == {"confirm": 2, "today": 0, "done": 0, "nurturing": 1, "pool": 1, "referred": 0}
