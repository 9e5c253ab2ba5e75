"""What calls shows on a referral's page: the advisors' latest calls with the customer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.referral_panel import calls_panel_context
from calls.tests.factories import CallLogFactory, disposition
from referrals.extensions import REFERRAL_PANELS
from referrals.tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db


def test_the_panel_is_registered():
    panel = REFERRAL_PANELS.get("calls")
    assert panel is not None and panel.template == "calls/_referral_calls.html"


def test_referral_page_shows_the_advisors_call_notes_escaped(world, client_for):
    referral = ReferralFactory(branch=world.branch_x, lead__team=world.team_a, from_advisor=world.advisor_a)
    CallLogFactory(
        lead=referral.lead,
        advisor=world.advisor_a,
        started_at=timezone.now() - dt.timedelta(hours=2),
        disposition=disposition("effective"),
        notes="客户想面谈<script>alert(1)</script>，周三下午方便",
    )
    html = client_for(world.manager_x).get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    assert 'data-panel="calls"' in html and 'data-testid="referral-calls"' in html
    assert "客户想面谈&lt;script&gt;alert(1)&lt;/script&gt;，周三下午方便" in html
    assert "<script>alert(1)</script>" not in html
    assert "王顾问" in html and "接通-有效沟通" in html


def test_the_panel_shows_the_20_latest_calls_of_the_customer(world):
    referral = ReferralFactory(branch=world.branch_x, lead__team=world.team_a, from_advisor=world.advisor_a)
    now = timezone.now()
    calls = [
        CallLogFactory(lead=referral.lead, advisor=world.advisor_a, started_at=now - dt.timedelta(hours=i))
        for i in range(22)
    ]
    CallLogFactory(advisor=world.advisor_a)  # another customer's call
    shown = calls_panel_context(None, referral)["calls"]
    assert shown == calls[:20]
