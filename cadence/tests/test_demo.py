"""The demo world gives the cadence figures: touches this year and calls planned."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from cadence.models import CadencePlan
from cadence.selectors import advisor_summaries, touch_counts
from customers.models import Customer
from org.models import StaffProfile

pytestmark = pytest.mark.django_db


def test_seed_demo_gives_cadence_progress(role_permissions):
    today = timezone.localdate()
    call_command("seed_demo", customers=300, seed=7, today=today, stdout=StringIO())
    wealth = Customer.objects.filter(tier__in=["wealth", "private"])
    assert wealth.exists()
    counts = touch_counts(customers=wealth.values("id"), year=today.year)
    assert counts and any(c["review"] for c in counts.values())
    admin = StaffProfile.objects.filter(role="admin").first().user
    rows, total = advisor_summaries(admin, today=today)
    assert total.customers == wealth.count() and rows
    if today.timetuple().tm_yday > 31 and today.weekday() < 5:
        assert CadencePlan.objects.exists()
