"""Fixtures of the call tests.

The compliance scan of a call note and the rescoring a call causes are recorded rather
than run (``recorded``), so tests assert they were asked for with the right ids; the
integration tests undo the recorders and run everything for real.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from calls import services
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory
from org.models import Holiday, HolidayKind
from scoring.tasks import rescore_customer


@pytest.fixture(autouse=True)
def tomorrow_is_a_working_day(db):
    """Callbacks are planned on working days only (org.calendar). Tests plan one for
    "tomorrow 10:00", relative to today or to the last working day's noon: a weekend
    day among those is made a make-up working day (调休), so the tests do not depend on
    the day they run."""
    today = timezone.localdate()
    for day in (today - dt.timedelta(days=n) for n in range(-2, 4)):
        if day.weekday() >= 5:
            Holiday.objects.get_or_create(date=day, defaults={"kind": HolidayKind.WORKDAY, "name": "调休"})


@pytest.fixture(autouse=True)
def recorded(monkeypatch):
    """Record scan requests and rescoring instead of running them."""
    calls = SimpleNamespace(scans=[], rescored=[])

    def request_scan(**kwargs):
        calls.scans.append(kwargs)

    def rescore(args=(), kwargs=None, **options):
        calls.rescored.append(args[0])

    monkeypatch.setattr(services, "request_scan", request_scan)
    monkeypatch.setattr(rescore_customer, "apply_async", rescore)
    return calls


@pytest.fixture
def at_noon():
    """The latest 12:00 Beijing time of a working day at least an hour ago: inside the
    default call hours, with room for a test's calls up to 12:59 to be in the past."""
    local = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    if local > timezone.localtime() - dt.timedelta(hours=1):
        local -= dt.timedelta(days=1)
    while local.weekday() >= 5:  # a working day: nurture touches are planned on those only
        local -= dt.timedelta(days=1)
    return local.astimezone(dt.UTC)


@pytest.fixture
def callable_customer(world):
    """A customer of team A with phone-marketing consent and a valid C3 assessment."""
    customer = CustomerFactory(owner=world.advisor_a, home_branch=world.branch_x)
    ContactPreferenceFactory(customer=customer, consent=True)
    return customer
