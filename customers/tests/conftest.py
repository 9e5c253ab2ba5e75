"""Fixtures of the customer tests."""

from __future__ import annotations

import pytest
from django.apps import apps

from customers.apps import CustomersConfig
from customers.extensions import LIST_FILTERS, PORTRAIT_FACTS, PORTRAIT_TABS
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


@pytest.fixture(autouse=True)
def portrait_alone(monkeypatch):
    """The portrait as this app renders it alone: the tabs and facts the apps above
    register (``customers.extensions``) are left out here and tested in those apps; a
    test that needs one registers it."""
    monkeypatch.setattr(PORTRAIT_TABS, "_entries", [])
    monkeypatch.setattr(PORTRAIT_FACTS, "_entries", [])


@pytest.fixture(autouse=True)
def list_alone(monkeypatch):
    """The customer list with its own conditions only: those the apps above register
    (scores, campaigns) are tested in those apps (scoring/tests, campaigns/tests)."""
    monkeypatch.setattr(LIST_FILTERS, "_entries", [])
