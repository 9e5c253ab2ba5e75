"""Selectors: the list's fast visibility rule equals visible_to for every role."""

from __future__ import annotations

import pytest

from customers.models import Customer
from customers.selectors import customers_for_list
from leads.models import LeadStatus
from leads.tests.factories import LeadFactory

from .factories import CustomerFactory


@pytest.fixture
def book(world):
    own_a = CustomerFactory(owner=world.advisor_a)
    own_a2 = CustomerFactory(owner=world.advisor_a2)
    own_b = CustomerFactory(owner=world.advisor_b)
    nobody = CustomerFactory(owner=None)
    team_lead_open = CustomerFactory(owner=None)
    LeadFactory(customer=team_lead_open, team=world.team_a, status=LeadStatus.NEW)
    team_lead_closed = CustomerFactory(owner=None)
    LeadFactory(customer=team_lead_closed, team=world.team_a, status=LeadStatus.WON)
    other_team_lead = CustomerFactory(owner=None)
    LeadFactory(customer=other_team_lead, team=world.team_b, status=LeadStatus.CONTACTING)
    return [own_a, own_a2, own_b, nobody, team_lead_open, team_lead_closed, other_team_lead]


@pytest.mark.parametrize(
    "who", ["advisor_a", "advisor_a2", "lead_a", "advisor_b", "manager_x", "rm_x", "compliance", "admin"]
)
def test_list_rows_equal_visible_to(world, book, who):
    user = getattr(world, who)
    fast = set(customers_for_list(user=user).values_list("pk", flat=True))
    rule = set(Customer.objects.visible_to(user).values_list("pk", flat=True))
    assert fast == rule


def test_advisor_sees_own_and_team_open_leads(world, book):
    own_a, _own_a2, _own_b, _nobody, team_lead_open, _closed, _other = book
    pks = set(customers_for_list(user=world.advisor_a).values_list("pk", flat=True))
    assert pks == {own_a.pk, team_lead_open.pk}
