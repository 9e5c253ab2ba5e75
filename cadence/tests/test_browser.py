"""The cadence pages and the portrait bar in headless Chromium, in Chinese and English,
with screenshots (looked at when the pages change)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from customers.models import Channel, Meeting, TouchKind

from .factories import TouchFactory, WealthCustomerFactory

SHOTS = Path("/tmp/shots/cadence")


def _book(world):
    yesterday = timezone.now() - dt.timedelta(days=1)
    served = WealthCustomerFactory(owner=world.advisor_a, home_branch=world.branch_x, name="周慧敏")
    for i in range(9):
        TouchFactory(customer=served, occurred_at=yesterday - dt.timedelta(days=20 * i))
    TouchFactory(customer=served, touch_kind=TouchKind.REVIEW, occurred_at=yesterday, channel=Channel.BRANCH_VISIT,
                 meeting=Meeting.IN_PERSON)  # fmt: skip
    TouchFactory(customer=served, touch_kind=TouchKind.REVIEW, occurred_at=yesterday - dt.timedelta(days=90))
    TouchFactory(customer=served, touch_kind=TouchKind.REVIEW, occurred_at=yesterday - dt.timedelta(days=180),
                 channel=Channel.WECHAT, meeting=Meeting.VIDEO)  # fmt: skip
    TouchFactory(customer=served, touch_kind=TouchKind.REPORT, occurred_at=yesterday, channel=Channel.EMAIL)
    behind = WealthCustomerFactory(owner=world.advisor_a, home_branch=world.branch_x, name="李建国")
    TouchFactory(customer=behind, occurred_at=yesterday)
    WealthCustomerFactory(owner=world.advisor_a2, home_branch=world.branch_y)
    WealthCustomerFactory(owner=world.advisor_b, home_branch=world.branch_x)
    return served, behind


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_cadence_pages_and_portrait_bar_in_both_languages(world, page, login, live_server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_default_timeout(30_000)  # the first page of a fresh live server compiles templates
    served, behind = _book(world)
    login(world.lead_a)
    for lang in ("zh-hans", "en"):
        page.context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
        page.goto(f"{live_server.url}/cadence/")
        assert page.locator('[data-testid="cadence-row"]').count() == 2  # the team's two advisors
        page.screenshot(path=str(SHOTS / f"overview-{lang}.png"), full_page=True)
        page.goto(f"{live_server.url}/cadence/teams/")
        page.screenshot(path=str(SHOTS / f"teams-{lang}.png"), full_page=True)
        page.goto(f"{live_server.url}/cadence/advisors/{world.advisor_a.pk}/")
        rows = page.locator('[data-testid="cadence-customer"]')
        assert rows.count() == 2
        assert "李**" in rows.first.inner_text()  # the one behind comes first, masked
        page.screenshot(path=str(SHOTS / f"advisor-{lang}.png"), full_page=True)
        page.goto(f"{live_server.url}/customers/{served.pk}/")
        bar = page.locator('[data-testid="cadence-bar"]')
        assert bar.locator('[data-testid="cadence-touch"]').count() == 4
        assert "12/12" in bar.inner_text() and "2/2" in bar.inner_text()
        # The bars' widths are data, set from data-width by the page's script (no inline style).
        width = bar.locator(".progress-bar").first.evaluate("el => el.style.width")
        assert width == "100%"
        bar.screenshot(path=str(SHOTS / f"portrait-bar-{lang}.png"))
        page.screenshot(path=str(SHOTS / f"portrait-{lang}.png"))
    page.context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_server.url}])
    page.goto(f"{live_server.url}/cadence/advisors/{world.advisor_b.pk}/")
    assert "404" in page.title() or page.locator('[data-testid="cadence-customers"]').count() == 0
