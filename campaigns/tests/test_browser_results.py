"""A campaign's results page in headless Chromium: both charts drawn from their json_script
data by the local Chart.js, no script error, no Content-Security-Policy violation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Arm, Campaign, CampaignStatus, Enrolment, JourneyEvent, JourneyEventKind
from customers.models import AssetSnapshot
from customers.tests.factories import CustomerFactory, ProductFactory

SHOTS = "/tmp/shots/13"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_results_page_draws_both_charts(world, page, login, live_server):
    campaign = Campaign.objects.create(
        code="R1", name="到期续投", status=CampaignStatus.RUNNING, product=ProductFactory(), created_by=world.campaigner
    )
    start = timezone.now() - dt.timedelta(days=120)
    for i in range(12):
        enrolment = Enrolment.objects.create(
            campaign=campaign,
            customer=CustomerFactory(),
            bucket=i,
            arm=Arm.CONTROL if i % 3 == 0 else Arm.TREATMENT,
            entered_at=start + dt.timedelta(days=2 * i),
        )
        if i % 2:
            JourneyEvent.objects.create(
                campaign=campaign, enrolment=enrolment, kind=JourneyEventKind.CONVERTED, at=enrolment.entered_at
            )
        day = timezone.localdate(enrolment.entered_at)
        for offset, aum in ((-1, 1000 * (i + 1)), (30, 1100 * (i + 1) + 37 * (i % 4)), (90, 1300 * (i + 1))):
            AssetSnapshot.objects.create(
                customer=enrolment.customer, date=day + dt.timedelta(days=offset), aum=Decimal(aum)
            )
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(world.campaigner)
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.click('[data-testid="results-link"]')
    page.wait_for_selector('[data-testid="weeks-chart"][data-rendered="1"]')
    page.wait_for_selector('[data-testid="aum-chart"][data-rendered="1"]')
    assert page.locator('[data-testid="interim"]').is_visible()
    assert "尚不显著" in page.locator('[data-testid="uplift"]').inner_text()
    page.screenshot(path=f"{SHOTS}/results.png", full_page=True)
    assert errors == []
