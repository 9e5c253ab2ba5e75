"""Fixtures campaigns tests share: the default lexicon after a flush, today as a working day."""

import pytest
from django.utils import timezone

from compliance.tests.conftest import default_lexicon  # noqa: F401 - a fixture
from org.models import Holiday, HolidayKind


@pytest.fixture
def today_is_a_working_day(db):
    """A call task is due at the next call slot on a working day (org.calendar); a test
    that calls the customer today and expects the task done needs today to be one. On a
    weekend (in the bank's time zone) today becomes a make-up working day (调休), so the
    test does not depend on the day it runs."""
    today = timezone.localdate()
    if today.weekday() >= 5:
        Holiday.objects.get_or_create(date=today, defaults={"kind": HolidayKind.WORKDAY, "name": "调休"})
