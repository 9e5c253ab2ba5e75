"""A walk over each dashboard in headless Chromium, in Chinese and in English: the cards,
the charts drawn from the page's data, a click through to the records behind a figure,
and a screenshot of each page (looked at)."""

from __future__ import annotations

import datetime as dt

import pytest

from .conftest import WEEK_START

SHOTS = "/tmp/shots/dashboards"
QUERY = f"?period=week&end={(WEEK_START + dt.timedelta(days=2)).isoformat()}"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_walk_over_each_dashboard(known, page, login, live_server, lang):
    w = known.world
    # The first page of a session starts the live server's static files and templates.
    page.goto(f"{live_server.url}/login/", timeout=60_000)
    for user, paths in (
        (w.admin, ["/dashboards/", "/dashboards/operations/", "/dashboards/branch/"]),
        (w.lead_a, ["/dashboards/", "/dashboards/operations/"]),
        (w.manager_x, ["/dashboards/branch/"]),
    ):
        page.context.clear_cookies()
        login(user)
        page.context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
        for path in paths:
            page.goto(f"{live_server.url}{path}{QUERY}")
            canvases = page.locator("canvas[data-chart^='dash_']")
            for i in range(canvases.count()):
                page.wait_for_selector(f"canvas[data-chart^='dash_'][data-rendered='1'] >> nth={i}")
            name = path.strip("/").replace("/", "-") or "funnel"
            page.screenshot(path=f"{SHOTS}/{lang}-{user.username}-{name}.png", full_page=True)
    # Click a figure through to its records (the team lead's proposed leads).
    page.context.clear_cookies()
    login(w.lead_a)
    page.context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
    page.goto(f"{live_server.url}/dashboards/{QUERY}")
    shown = page.locator('[data-testid="tile-proposed"]').inner_text()
    assert shown == "5"
    page.click('[data-testid="tile-proposed"]')
    page.wait_for_selector('[data-testid="records-count"]')
    assert page.locator('[data-testid="records-count"]').inner_text() == shown
    assert page.locator('[data-testid="records"] tbody tr').count() == 5
    page.screenshot(path=f"{SHOTS}/{lang}-records.png", full_page=True)
    # The team lead's net new money (advisor_a's transfer in) clicks through to its flows.
    page.goto(f"{live_server.url}/dashboards/operations/{QUERY}")
    tile = page.locator('[data-testid="card-net-new-money"]')
    assert tile.inner_text() == "8.00万"
    tile.click()
    page.wait_for_selector('[data-testid="records-count"]')
    assert page.locator('[data-testid="records-count"]').inner_text() == "1"
    assert page.locator('[data-testid="records-net"]').inner_text() == "¥80,000"
    page.screenshot(path=f"{SHOTS}/{lang}-records-flows.png", full_page=True)
    # Changing the period and showing again swaps the body through htmx and redraws the chart.
    page.goto(f"{live_server.url}/dashboards/{QUERY}")
    page.select_option("#d-period", "month")
    page.click('[data-testid="dashboard-filters"] button[type=submit]')
    page.wait_for_url("**period=month**")
    page.wait_for_selector("canvas[data-chart='dash_funnel'][data-rendered='1']")
