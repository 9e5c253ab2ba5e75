"""The referral page fits a 1366 px laptop screen (the branch's usual one): every table
sits inside its card, the page is no wider than the window, and the status card is on
the first screen beside the portrait, whatever the advisor and the calls wrote (long
notes and summaries wrap instead of stretching their table)."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.urls import reverse
from django.utils import timezone

from calls.tests.factories import CallLogFactory
from customers.tests.factories import HoldingFactory, InteractionFactory, ProductFactory
from referrals.tests.factories import ReferralFactory, high_lead

SHOTS = "/tmp/shots/referral-fit"  # noqa: S108 (screenshots for a human to look at)
LONG = "客户关注到期资金续作，已介绍稳健类理财，客户表示需要和家人商量后再决定，希望下周到网点面谈" * 3


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_referral_page_tables_fit_a_1366_screen(world, page, login, live_server, lang):
    os.makedirs(SHOTS, exist_ok=True)
    lead = high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x, name="张晓梅")
    referral = ReferralFactory(lead=lead, branch=world.branch_x, from_advisor=world.advisor_a, needs_summary=LONG)
    product = ProductFactory(name="稳健理财 180 天（封闭式，按季度付息，到期自动赎回至活期账户）", risk_level=2)
    HoldingFactory(customer=lead.customer, product=product)
    for days in range(1, 4):
        InteractionFactory(customer=lead.customer, summary=LONG, occurred_at=timezone.now() - dt.timedelta(days=days))
        CallLogFactory(
            lead=lead, advisor=world.advisor_a, notes=LONG, started_at=timezone.now() - dt.timedelta(days=days)
        )

    page.set_viewport_size({"width": 1366, "height": 768})
    login(world.manager_x)
    page.context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
    page.goto(f"{live_server.url}{reverse('referrals:detail', args=[referral.pk])}")
    page.screenshot(path=f"{SHOTS}/referral-{lang}.png", full_page=True)

    assert page.locator("[data-testid=referral-calls] table").count() == 1
    widths = page.evaluate(
        """() => [...document.querySelectorAll('#main table')].map(t => ({
            table: Math.ceil(t.getBoundingClientRect().right),
            box: Math.floor(t.closest('.card-body, .card').getBoundingClientRect().right),
        }))"""
    )
    assert len(widths) >= 3  # holdings, contacts, calls
    assert all(w["table"] <= w["box"] + 1 for w in widths), widths
    assert all(w["table"] <= 1366 for w in widths), widths
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    # The status card stands beside the portrait, on the first screen.
    status_top = page.locator("[data-testid=referral-outcome]").bounding_box()["y"]
    assert status_top < 768
