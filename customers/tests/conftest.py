"""Fixtures of the customer tests."""

from __future__ import annotations

import importlib

import pytest


@pytest.fixture(autouse=True)
def portrait_permissions(db):
    """The reveal/export permissions granted to role groups by migration 0004.

    Browser tests run with transaction=True and flush the database afterwards, which
    also drops rows that migrations created; granting again keeps later tests honest.
    """
    from django.apps import apps

    migration = importlib.import_module("customers.migrations.0004_portrait_permissions")
    migration.grant(apps, None)
