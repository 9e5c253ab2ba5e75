"""Planned calls that keep customers on pace: within each advisor's capacity, and a
second run plans nothing more."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as django_settings

from cadence.models import CadencePlan
from cadence.services import cadence_plan_calls
from cadence.tasks import plan_calls
from core.models import AuditEvent
from customers.models import Channel, TouchKind
from customers.tests.factories import ContactPreferenceFactory
from leads.models import Lead, PlannedCall, PlannedCallStatus
from org.models import StaffProfile

from .factories import TouchFactory, WealthCustomerFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 6, 10, 10, 0, tzinfo=SHANGHAI)  # a Wednesday, day 161


def _capacity(world, **per_advisor):
    for name, n in per_advisor.items():
        StaffProfile.objects.filter(user=getattr(world, name)).update(daily_call_capacity=n)


def test_calls_are_planned_within_capacity_and_once(world):
    _capacity(world, advisor_a=1, advisor_a2=1, advisor_b=0)
    behind = [WealthCustomerFactory(owner=world.advisor_a, home_branch=world.branch_x) for _ in range(5)]
    result = cadence_plan_calls(now=NOW)
    assert result == {"planned": 2, "waiting": 3, "do_not_disturb": 0}
    planned = PlannedCall.objects.filter(status=PlannedCallStatus.PLANNED)
    per_advisor = Counter(planned.values_list("advisor_id", flat=True))
    assert per_advisor == {world.advisor_a.pk: 1, world.advisor_a2.pk: 1}  # the owner first, then the team
    assert set(planned.values_list("customer_id", flat=True)) <= {c.pk for c in behind}
    assert CadencePlan.objects.count() == 2
    assert {p.touch for p in CadencePlan.objects.all()} == {"themed"}  # the longest overdue
    assert AuditEvent.objects.filter(verb="cadence.plan_calls").count() == 1
    leads = Lead.objects.count()

    again = cadence_plan_calls(now=NOW)
    assert again["planned"] == 0
    assert PlannedCall.objects.count() == 2 and Lead.objects.count() == leads  # no lead opened for nothing
    assert AuditEvent.objects.filter(verb="cadence.plan_calls").count() == 1


def test_a_customer_on_phone_do_not_disturb_is_not_planned(world):
    _capacity(world, advisor_a=5)
    resting = WealthCustomerFactory(owner=world.advisor_a)
    due = WealthCustomerFactory(owner=world.advisor_a)
    ContactPreferenceFactory(
        customer=resting, channel=Channel.PHONE, consent=False, dnd_until=NOW + dt.timedelta(days=90)
    )
    ContactPreferenceFactory(customer=due, channel=Channel.PHONE, consent=True, dnd_until=NOW - dt.timedelta(days=1))
    result = cadence_plan_calls(now=NOW)
    assert result == {"planned": 1, "waiting": 0, "do_not_disturb": 1}
    assert list(PlannedCall.objects.values_list("customer_id", flat=True)) == [due.pk]  # an ended DND counts no more


def test_more_capacity_the_next_day_plans_the_rest_and_still_one_each(world):
    _capacity(world, advisor_a=2, advisor_a2=0, advisor_b=0)
    customers = [WealthCustomerFactory(owner=world.advisor_a) for _ in range(3)]
    assert cadence_plan_calls(now=NOW)["planned"] == 2
    assert cadence_plan_calls(now=NOW + dt.timedelta(days=1))["planned"] == 1
    assert cadence_plan_calls(now=NOW + dt.timedelta(days=2))["planned"] == 0  # each has one planned
    assert sorted(CadencePlan.objects.values_list("customer_id", flat=True)) == sorted(c.pk for c in customers)
    for day in (NOW, NOW + dt.timedelta(days=1)):
        start = day.replace(hour=0)
        on_day = PlannedCall.objects.filter(due_at__gte=start, due_at__lt=start + dt.timedelta(days=1))
        assert on_day.count() <= 2


def test_a_customer_on_pace_gets_no_call_until_the_next_touch_nears(world):
    _capacity(world, advisor_a=10)
    customer = WealthCustomerFactory(owner=world.advisor_a)
    at = dt.datetime(2026, 5, 6, 10, 0, tzinfo=SHANGHAI)
    for i in range(4):
        TouchFactory(customer=customer, occurred_at=at + dt.timedelta(minutes=i))
    TouchFactory(customer=customer, touch_kind=TouchKind.REVIEW, occurred_at=at, channel=Channel.BRANCH_VISIT,
                 meeting="in_person")  # fmt: skip
    TouchFactory(customer=customer, touch_kind=TouchKind.REVIEW, occurred_at=at)
    # 6 themed, 2 reviews, 1 face to face: the next (7th themed) is due 1 August.
    assert cadence_plan_calls(now=NOW)["planned"] == 0
    assert cadence_plan_calls(now=dt.datetime(2026, 7, 27, 10, 0, tzinfo=SHANGHAI))["planned"] == 1  # within 7 days


def test_done_calls_free_the_customer_for_the_next_touch(world):
    _capacity(world, advisor_a=5)
    WealthCustomerFactory(owner=world.advisor_a)
    assert cadence_plan_calls(now=NOW)["planned"] == 1
    PlannedCall.objects.update(status=PlannedCallStatus.DONE)
    # Still behind (the call was not a touch): planned again the next run.
    assert cadence_plan_calls(now=NOW + dt.timedelta(hours=1))["planned"] == 1


def test_the_beat_task_is_idempotent_and_scheduled(world):
    _capacity(world, advisor_a=3)
    for _ in range(2):
        WealthCustomerFactory(owner=world.advisor_a)
    first = plan_calls.delay().get()
    second = plan_calls.delay().get()
    assert second["planned"] == 0
    assert PlannedCall.objects.count() == first["planned"]
    assert django_settings.CELERY_BEAT_SCHEDULE["cadence-plan-calls"]["task"] == "cadence.plan_calls"


def test_nobody_with_capacity_plans_nothing_and_opens_no_lead(world):
    _capacity(world, advisor_a=0, advisor_a2=0, advisor_b=0)
    WealthCustomerFactory(owner=world.advisor_a)
    assert cadence_plan_calls(now=NOW) == {"planned": 0, "waiting": 1, "do_not_disturb": 0}
    assert not Lead.objects.exists()
