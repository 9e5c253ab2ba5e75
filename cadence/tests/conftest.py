from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest

from customers.tests.factories import CustomerFactory

from .factories import WealthCustomerFactory


@pytest.fixture
def book(world):
    """Customers of the cadence's tiers across owners, teams and branches, and one of the
    base tier (no cadence)."""
    return SimpleNamespace(
        a=WealthCustomerFactory(owner=world.advisor_a, home_branch=world.branch_x, name="张三丰"),
        a_private=WealthCustomerFactory(owner=world.advisor_a, home_branch=world.branch_y, aum=Decimal("8000000")),
        a2=WealthCustomerFactory(owner=world.advisor_a2, home_branch=world.branch_y),
        b=WealthCustomerFactory(owner=world.advisor_b, home_branch=world.branch_x),
        unowned=WealthCustomerFactory(owner=None, home_branch=world.branch_y),
        base=CustomerFactory(owner=world.advisor_a, home_branch=world.branch_x),
    )
