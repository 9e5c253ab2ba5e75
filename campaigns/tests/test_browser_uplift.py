"""The uplift model's page in headless Chromium: the Qini curve drawn by the local Chart.js
from its json_script data, no script error (so no Content-Security-Policy violation), and a
segment set to keep its top members by predicted uplift."""

from __future__ import annotations

import pytest

from campaigns.services.segments import segment_save
from campaigns.tests.test_uplift import fast_version

SHOTS = "/tmp/shots/13"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_uplift_page_draws_the_qini_curve(world, page, login, live_server):
    fast_version(world.campaigner)
    segment = segment_save(actor=world.campaigner, name="全部客户", definition={"groups": [{}]})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(world.campaigner)
    page.goto(f"{live_server.url}/campaigns/uplift/")
    page.wait_for_selector('[data-testid="qini-chart"][data-rendered="1"]')
    assert "Qini" in page.locator('[data-testid="qini"]').inner_text()
    assert "高于 0" in page.locator('[data-testid="verdict"]').inner_text()
    page.screenshot(path=f"{SHOTS}/uplift.png", full_page=True)
    page.goto(f"{live_server.url}/campaigns/segments/{segment.pk}/")
    page.select_option("#uplift-keep", "top_percent")
    page.fill("#uplift-value", "20")
    page.click('[data-testid="uplift-save"]')
    assert "前 20%" in page.locator('[data-testid="uplift-keep-now"]').inner_text()
    page.screenshot(path=f"{SHOTS}/segment_uplift.png", full_page=True)
    assert errors == []
