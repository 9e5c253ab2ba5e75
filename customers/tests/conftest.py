"""Fixtures of the customer tests."""

from __future__ import annotations

import pytest
from django.apps import apps

from customers.apps import CustomersConfig
from org.roles import grant_role_permissions


@pytest.fixture(autouse=True)
def portrait_permissions(db):
    """The reveal/export permissions granted to role groups by customers' migration.

    Browser tests run with transaction=True and flush the database afterwards, which
    also drops rows that migrations created; granting again keeps later tests honest.
    """
    grant_role_permissions(
        apps, "customers", CustomersConfig.role_permissions, custom=CustomersConfig.custom_permissions
    )
