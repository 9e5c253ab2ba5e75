"""Nurture touches and callbacks are planned inside call hours on working days
(``org.calendar``) and never start their life overdue."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from customers.tests.factories import CustomerFactory
from leads import services
from leads.models import PlannedCall, PlannedCallKind
from leads.tests.factories import LeadFactory
from org.calendar import Calendar
from org.models import Holiday

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def _at(y, m, d, h, mi=0):
    return dt.datetime(y, m, d, h, mi, tzinfo=SH)


@pytest.mark.parametrize(
    ("when", "slot"),
    [
        (_at(2026, 12, 2, 10, 30), _at(2026, 12, 2, 10, 30)),  # Wednesday in hours: as is
        (_at(2026, 12, 2, 7, 0), _at(2026, 12, 2, 9, 0)),  # before opening: 09:00 that day
        (_at(2026, 12, 2, 21, 0), _at(2026, 12, 3, 9, 0)),  # at closing: next morning
        (_at(2026, 12, 4, 23, 39), _at(2026, 12, 7, 9, 0)),  # Friday night: Monday
        (_at(2026, 12, 5, 1, 59), _at(2026, 12, 7, 9, 0)),  # Saturday: Monday
        (_at(2026, 12, 31, 22, 0), _at(2027, 1, 4, 9, 0)),  # New Year's Day off, then a weekend
    ],
)
def test_next_call_slot(when, slot):
    Holiday.objects.create(date=dt.date(2027, 1, 1), name="元旦")
    cal = Calendar.load()
    assert cal.next_call_slot(when) == slot
    assert cal.in_call_slot(slot)


def test_nurture_touches_are_planned_in_call_slots(world):
    lead = LeadFactory(team=world.team_a, customer=CustomerFactory(), owner=world.advisor_a, status="nurturing")
    friday_night = _at(2026, 12, 4, 22, 15)
    plan = services.nurture_plan_start(actor=world.advisor_a, lead=lead, now=friday_night)
    touch = PlannedCall.objects.get(lead=lead, kind=PlannedCallKind.NURTURE, status="planned")
    assert touch.due_at == _at(2026, 12, 7, 9, 0) == plan.next_touch_at
    assert touch.due_at > friday_night  # not overdue the moment it is created


def test_a_callback_outside_call_hours_is_refused_with_the_next_possible_time(world):
    lead = LeadFactory(team=world.team_a, customer=CustomerFactory(), owner=world.advisor_a)
    with pytest.raises(ValidationError) as exc:
        services.callback_plan(actor=world.advisor_a, lead=lead, due_at=_at(2099, 12, 5, 3, 0))  # a Saturday night
    message = exc.value.message_dict["callback_at"][0]
    assert "2099-12-07 09:00" in message
    assert not PlannedCall.objects.filter(lead=lead).exists()
    ok = services.callback_plan(actor=world.advisor_a, lead=lead, due_at=_at(2099, 12, 7, 15, 0))
    assert ok.due_at == _at(2099, 12, 7, 15, 0)
