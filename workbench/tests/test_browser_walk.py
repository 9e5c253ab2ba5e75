"""Every role logs in through the form and opens every page of the project in Chinese and
in English; each page is screenshotted (``SCREENSHOT_DIR``, default /tmp/shots/walk) for
a person to look at, and checked for what a screenshot shows at a glance: the page
answered and it is no wider than the window (a wide table scrolls inside its box instead
of pushing the page sideways). The words on the pages are checked by the language walk.

The pages come from the URL resolver (``walk.urls_for``), as in the language walk.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from .walk import urls_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/shots/walk"))
ROLES = ["advisor1", "lead1", "manager_sh01", "rm_sh01_1", "compliance1", "admin"]

# Fragments polled or swapped in by htmx, and downloads: not pages of their own.
NOT_PAGES = {
    "workbench:job_progress",
    "workbench:notification_badge",
    "customers:import_status",
    "customers:import_errors",
    "customers:export",
    "referrals:export",
    "compliance:reports_export",
    "compliance:lexicon_try",
    "scoring:cutoffs_preview",
}


def _pages(user) -> list[tuple[str, str]]:
    """The user's pages that answer a GET with HTML (actions answer 405 to a browser's visit)."""
    client = Client()
    client.force_login(user)
    seen_tab = False
    out = []
    for name, url in urls_for(user):
        if name in NOT_PAGES:
            continue
        response = client.get(url)
        if response.status_code not in (200, 403, 404) or "text/html" not in response.get("Content-Type", ""):
            continue
        if name == "customers:tab":  # the portrait's tabs: one is enough for the layout
            if seen_tab:
                continue
            seen_tab = True
        out.append((name, url))
    return out


@pytest.fixture
def demo(role_permissions):
    call_command("seed_demo", customers=150, seed=5, today=dt.date.today(), stdout=StringIO())


def test_every_role_every_page_both_languages(page, live_server, login, demo):
    users = get_user_model().objects
    problems: list[str] = []
    shots = 0
    for username in ROLES:
        user = users.get(username=username)
        page.context.clear_cookies()
        login(user)
        urls = _pages(user)
        for lang in ("zh-hans", "en"):
            page.context.add_cookies([{"name": "django_language", "value": lang, "url": live_server.url}])
            for _name, url in urls:
                response = page.goto(f"{live_server.url}{url}")
                status = response.status if response else 0
                if status >= 500:
                    problems.append(f"{username} {lang} {url}: {status}")
                    continue
                slug = re.sub(r"[^a-z0-9]+", "-", url.strip("/")) or "home"
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / f"{username}--{lang}--{slug}.png"), full_page=True)
                shots += 1
                width = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                if width > 2:
                    problems.append(f"{username} {lang} {url}: {width}px wider than the window")
    assert shots > 100
    assert not problems, "\n".join(problems)


def test_compliance_sees_the_audit_log_in_the_walks_world(client, demo):
    """The walk's world has the roles' permissions: an officer's audit log is not empty."""
    client.force_login(get_user_model().objects.get(username="compliance1"))
    assert "演示数据" in client.get("/shell/audit/").content.decode()
