"""The main pages of every role under the Content-Security-Policy, in headless Chromium.

The root ``page`` fixture fails a test on any policy violation Chromium logs; here each
role walks its main pages, the charts must still be drawn, and the scripted behaviours
that used to be inline (language switch, tab switch) must still work.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from customers.tests.factories import AssetSnapshotFactory, CustomerFactory
from leads.tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _walk(page, base: str, paths: list[str]) -> None:
    for path in paths:
        response = page.goto(f"{base}{path}")
        assert response.status == 200, path
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")


def test_advisor_pages_run_under_the_policy(page, login, live_server, world):
    customer = CustomerFactory(owner=world.advisor_a, aum=Decimal("300000"))
    today = timezone.localdate()
    for d in range(0, 120, 10):
        AssetSnapshotFactory(customer=customer, date=today - dt.timedelta(days=d), aum=Decimal(300000 + d))
    lead = LeadFactory(customer=customer, team=world.team_a, owner=world.advisor_a)
    login(world.advisor_a)
    _walk(page, live_server.url, ["/", "/customers/", "/leads/", f"/leads/{lead.pk}/", "/referrals/"])
    page.goto(f"{live_server.url}/customers/{customer.pk}/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('aum-chart'))")
    page.click("[data-tab=interactions]")
    page.wait_for_selector("[data-tab=interactions].active")
    # the language switch (was an inline onchange) still submits
    page.select_option("#language-form select", "en")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.csp_violations == []


def test_team_lead_compliance_branch_and_admin_pages_run_under_the_policy(page, login, live_server, world, browser):
    login(world.lead_a)
    _walk(page, live_server.url, ["/leads/metrics/", "/scoring/", "/compliance/reports/", "/customers/imports/"])
    page.goto(f"{live_server.url}/leads/metrics/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('kpi-chart'))")

    for user, paths in (
        (
            world.compliance,
            ["/compliance/review/", "/compliance/scripts/", "/compliance/lexicon/", "/customers/access-log/"],
        ),
        (world.manager_x, ["/referrals/", "/referrals/dashboard/"]),
        (world.admin, ["/shell/audit/", "/shell/jobs/", "/admin/", "/api/docs/"]),
    ):
        page.context.clear_cookies()
        login(user)
        _walk(page, live_server.url, paths)
    page.goto(f"{live_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info")  # the split view's script ran
    assert page.csp_violations == []
