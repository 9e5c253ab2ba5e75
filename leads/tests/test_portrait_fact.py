"""What leads shows in the customer portrait's header: the next planned callback."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from customers.extensions import PORTRAIT_FACTS
from customers.tests.factories import CustomerFactory
from leads.models import PlannedCallStatus
from leads.portrait import next_callback_value
from leads.tests.factories import LeadFactory, PlannedCallFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def test_next_callback_is_registered_first():
    fact = PORTRAIT_FACTS.get("next_callback")
    assert fact is not None and fact.order == 10 and str(fact.label) in ("Next callback", "下次回访")


def test_next_callback_is_the_earliest_planned_call(world):
    customer = CustomerFactory(owner=world.advisor_a)
    assert next_callback_value(customer) is None
    lead = LeadFactory(customer=customer, team=world.team_a, owner=world.advisor_a)
    PlannedCallFactory(lead=lead, advisor=world.advisor_a, due_at=dt.datetime(2030, 5, 2, 10, 0, tzinfo=SH))
    PlannedCallFactory(lead=lead, advisor=world.advisor_a, due_at=dt.datetime(2030, 5, 1, 15, 30, tzinfo=SH))
    PlannedCallFactory(
        lead=lead,
        advisor=world.advisor_a,
        due_at=dt.datetime(2030, 4, 1, 9, 0, tzinfo=SH),
        status=PlannedCallStatus.DONE,
    )
    assert next_callback_value(customer) == "2030-05-01 15:30"


def test_portrait_header_shows_the_next_callback(world, client_for):
    customer = CustomerFactory(owner=world.advisor_a)
    lead = LeadFactory(customer=customer, team=world.team_a, owner=world.advisor_a)
    PlannedCallFactory(lead=lead, advisor=world.advisor_a, due_at=dt.datetime(2030, 5, 1, 15, 30, tzinfo=SH))
    html = client_for(world.advisor_a).get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "下次回访" in html and "2030-05-01 15:30" in html
