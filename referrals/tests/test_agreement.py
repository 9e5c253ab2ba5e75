"""The SLA figures agree with the overdue referrals listed, before the first sweep."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals.models import SlaBreach
from referrals.tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def test_overdue_referral_counts_before_the_sweep(world, client_for):
    past = timezone.now() - dt.timedelta(days=3)
    late = ReferralFactory(branch=world.branch_x, review_due_at=past)
    ReferralFactory(branch=world.branch_x, review_due_at=timezone.now() + dt.timedelta(days=1))
    assert not SlaBreach.objects.exists()  # the sweep has not run
    assert late.is_overdue
    html = client_for(world.manager_x).get(reverse("referrals:dashboard")).content.decode()
    assert re.search(r'data-kpi="sla_breaches">1<', html)
    assert re.search(r'data-kpi="overdue_now">1<', html)
    listed = html[html.index('data-testid="overdue"') :]
    assert listed.count(reverse("referrals:detail", args=[late.pk])) == 1
    tabs = client_for(world.manager_x).get(reverse("referrals:list") + "?tab=overdue").content.decode()
    assert reverse("referrals:detail", args=[late.pk]) in tabs
