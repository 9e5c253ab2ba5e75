"""The global-holdout pages in headless Chromium: the report's two charts drawn from their
json_script data by the local Chart.js without a script error."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.holdout import is_held_out
from campaigns.models import Arm, Campaign, CampaignStatus, Enrolment
from campaigns.tests.test_holdout import first_draw
from customers.models import AssetSnapshot
from customers.tests.factories import CustomerFactory, HoldingFactory

SHOTS = "/tmp/shots/13-holdout"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_report_draws_its_charts(world, page, login, live_server):
    draw = first_draw(50)
    campaign = Campaign.objects.create(code="G1", name="全量", status=CampaignStatus.RUNNING)
    today = timezone.localdate()
    for i in range(30):
        c = CustomerFactory()
        day = today.replace(day=1) - dt.timedelta(days=30 * (i % 6))
        if not is_held_out(draw, c.pk):
            Enrolment.objects.create(
                campaign=campaign,
                customer=c,
                bucket=9000,
                arm=Arm.TREATMENT,
                entered_at=timezone.now() - dt.timedelta(days=30 * (i % 6)),
            )
        if i % 3 == 0:
            HoldingFactory(customer=c, opened_on=day)
        for back in (0, 40, 80, 120, 160, 200):
            AssetSnapshot.objects.create(
                customer=c, date=today - dt.timedelta(days=back), aum=Decimal(100000 + 500 * i - 90 * back)
            )
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(world.campaigner)
    page.goto(f"{live_server.url}/campaigns/holdout/report/")
    page.wait_for_selector('[data-testid="rate-chart"][data-rendered="1"]')
    page.wait_for_selector('[data-testid="change-chart"][data-rendered="1"]')
    page.screenshot(path=f"{SHOTS}/report.png", full_page=True)
    assert errors == []
