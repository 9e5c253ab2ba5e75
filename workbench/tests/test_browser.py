"""The shell in headless Chromium: log-in page, an advisor's home, the language switch."""

import os
from pathlib import Path

import pytest

from customers.tests.factories import CustomerFactory
from leads.tests.factories import LeadFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp/shots/foundation"))


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_login_page_renders_in_chinese(page, live_server):
    page.goto(f"{live_server.url}/login/")
    assert page.locator("h1").inner_text() == "登录"
    assert page.locator("label[for=id_username]").inner_text() == "用户名"
    _shot(page, "login")


def test_advisor_logs_in_and_sees_their_home(page, live_server, login, world):
    CustomerFactory.create_batch(4, owner=world.advisor_a)
    LeadFactory(team=world.team_a)
    login(world.advisor_a)
    stats = page.locator("[data-testid=home-stats]")
    assert "我的客户" in stats.inner_text()
    # My four and the customer of my team's open lead, as on the customer list.
    assert page.locator('[data-stat="customers"] .wb-stat-value').inner_text() == "5"
    assert page.locator("[data-testid=role-badge]").inner_text() == "远程理财经理"
    _shot(page, "advisor-home-zh")
    with page.expect_navigation():
        page.select_option("#language-form select", "en")
    assert "Customers in my book" in page.locator("[data-testid=home-stats]").inner_text()
    _shot(page, "advisor-home-en")


def test_wrong_password_then_lockout_message(page, live_server, world):
    for _ in range(5):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", "advisor_b")
        page.fill("#id_password", "wrong-password")
        page.click("button[type=submit]")
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", "advisor_b")
    page.fill("#id_password", "demo-pass-123")
    page.click("button[type=submit]")
    assert "登录失败次数过多" in page.locator("[data-testid=lockout]").inner_text()
    _shot(page, "lockout")


def test_keyboard_shortcuts_help_and_go_to(page, live_server, login, world):
    login(world.compliance)
    page.keyboard.press("?")
    help_dialog = page.locator("#shortcuts-help")
    help_dialog.wait_for(state="visible")
    assert "审计日志" in help_dialog.inner_text()
    _shot(page, "shortcuts-help")
    help_dialog.locator(".btn-close").click()
    help_dialog.wait_for(state="hidden")
    page.keyboard.press("g")
    page.keyboard.press("a")
    page.wait_for_url(f"{live_server.url}/shell/audit/")
    assert page.locator("h1").inner_text() == "审计日志"
