"""Selectors: the customer list starts from the row rule (``restrict``)."""

from __future__ import annotations

import pytest

from customers.models import Customer
from customers.selectors import customers_for_list
from customers.services.access import customer_access_open_lead

from .factories import CustomerFactory


@pytest.fixture
def book(world):
    """Open leads reach the customer rule as grants (kept by leads through
    customers.services.access); a closed lead leaves none."""
    own_a = CustomerFactory(owner=world.advisor_a)
    own_a2 = CustomerFactory(owner=world.advisor_a2)
    own_b = CustomerFactory(owner=world.advisor_b)
    nobody = CustomerFactory(owner=None)
    team_lead_open = CustomerFactory(owner=None)
    customer_access_open_lead(customer_id=team_lead_open.pk, team_id=world.team_a.pk)
    team_lead_closed = CustomerFactory(owner=None)
    other_team_lead = CustomerFactory(owner=None)
    customer_access_open_lead(customer_id=other_team_lead.pk, team_id=world.team_b.pk)
    return [own_a, own_a2, own_b, nobody, team_lead_open, team_lead_closed, other_team_lead]


@pytest.mark.parametrize(
    "who", ["advisor_a", "advisor_a2", "lead_a", "advisor_b", "manager_x", "rm_x", "compliance", "admin"]
)
def test_list_rows_equal_the_plain_rule(world, book, who):
    user = getattr(world, who)
    fast = set(customers_for_list(user=user).values_list("pk", flat=True))
    rule = set(Customer.objects.plain_view_rule(user).values_list("pk", flat=True))
    assert fast == rule


def test_advisor_sees_own_and_team_open_leads(world, book):
    own_a, _own_a2, _own_b, _nobody, team_lead_open, _closed, _other = book
    pks = set(customers_for_list(user=world.advisor_a).values_list("pk", flat=True))
    assert pks == {own_a.pk, team_lead_open.pk}
