"""Root fixtures: one user per role, in a small world of two teams and two branches.

``world`` builds: team A (advisor_a, advisor_a2, lead_a) and team B (advisor_b);
branch X (manager_x, rm_x) and branch Y (manager_y); a compliance officer, two campaign
managers (campaigner, campaigner2) and an admin.
"""

from __future__ import annotations

import os
import shutil
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import translation

from core.testing import CHECKED, rules_in_project
from org.apps import OrgConfig
from org.roles import Role, grant_role_permissions
from org.tests.factories import BranchFactory, TeamFactory, make_staff


def _restore_role_permissions() -> None:
    """Transactional tests (browser journeys) flush the tables, which drops what the data
    migrations granted; grant it again (once per flush: one query otherwise)."""
    if Group.objects.filter(name="role:compliance", permissions__codename="view_all_jobs").exists():
        return
    grant_role_permissions(apps, "org", OrgConfig.role_permissions)
    grant_role_permissions(apps, "core", OrgConfig.core_role_permissions, custom=OrgConfig.core_custom_permissions)
    for config in apps.get_app_configs():
        if getattr(config, "role_permissions", None) and config.label != "org":
            grant_role_permissions(
                apps, config.label, config.role_permissions, custom=getattr(config, "custom_permissions", None)
            )


@pytest.fixture
def role_permissions(db):
    """The roles' permissions, as the data migrations grant them (for tests that build
    their own world, such as the demo, instead of ``world``)."""
    _restore_role_permissions()


@pytest.fixture
def world(db):
    _restore_role_permissions()
    team_a = TeamFactory(code="TA", name="远程一组")
    team_b = TeamFactory(code="TB", name="远程二组")
    branch_x = BranchFactory(code="BX", name="浦东支行")
    branch_y = BranchFactory(code="BY", name="徐汇支行")
    return SimpleNamespace(
        team_a=team_a,
        team_b=team_b,
        branch_x=branch_x,
        branch_y=branch_y,
        advisor_a=make_staff(Role.ADVISOR, username="advisor_a", team=team_a, display_name="王顾问"),
        advisor_a2=make_staff(Role.ADVISOR, username="advisor_a2", team=team_a),
        lead_a=make_staff(Role.TEAM_LEAD, username="lead_a", team=team_a),
        advisor_b=make_staff(Role.ADVISOR, username="advisor_b", team=team_b),
        manager_x=make_staff(Role.BRANCH_MANAGER, username="manager_x", branch=branch_x),
        rm_x=make_staff(Role.BRANCH_RM, username="rm_x", branch=branch_x),
        manager_y=make_staff(Role.BRANCH_MANAGER, username="manager_y", branch=branch_y),
        compliance=make_staff(Role.COMPLIANCE, username="compliance"),
        campaigner=make_staff(Role.CAMPAIGN_MANAGER, username="campaigner", display_name="陈策略"),
        campaigner2=make_staff(Role.CAMPAIGN_MANAGER, username="campaigner2"),
        admin=make_staff(Role.ADMIN, username="admin"),
    )


@pytest.fixture
def advisor(world):
    return world.advisor_a


@pytest.fixture
def team_lead(world):
    return world.lead_a


@pytest.fixture
def branch_manager(world):
    return world.manager_x


@pytest.fixture
def branch_rm(world):
    return world.rm_x


@pytest.fixture
def compliance_officer(world):
    return world.compliance


@pytest.fixture
def admin_user(world):
    return world.admin


@pytest.fixture
def client_for(client):
    """Log the test client in as a user: ``client_for(user).get(...)``."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def pytest_collection_modifyitems(config, items):
    if shutil.which(CHROMIUM) or os.path.exists(CHROMIUM):
        return
    browser_tests = [item for item in items if "browser" in item.keywords]
    if not browser_tests:
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}: browser tests skipped")
    for item in browser_tests:
        item.add_marker(skip)
    config.issue_config_time_warning(
        pytest.PytestWarning(f"BROWSER TESTS SKIPPED: Chromium not found at {CHROMIUM}"), stacklevel=2
    )


@pytest.fixture(scope="session")
def browser():
    """A headless Debian Chromium driven by Playwright (never `playwright install`)."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    # Every journey doubles as a Content-Security-Policy check: Chromium logs each refused
    # inline script, handler or style on the console.
    violations: list[str] = []
    pg.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    pg.csp_violations = violations
    yield pg
    context.close()
    assert not violations, f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def login(page, live_server):
    """Log in through the real form: ``login(user)`` (password demo-pass-123)."""

    def _login(user, password: str = "demo-pass-123"):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    return _login


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts and ends in the default language: a request made in English
    leaves English active in the thread (LocaleMiddleware), which would otherwise carry
    into whichever test runs next."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Cached figures (home page, counts) never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def pytest_sessionfinish(session, exitstatus):
    """A full, green run must have checked every row rule against its predicate: each
    (model, action) of a RestrictedQuerySet through core.testing.assert_rule_agrees."""
    option = session.config.option
    partial = (
        option.collectonly
        or option.keyword
        or option.markexpr
        or session.config.args
        not in (
            [],
            [str(session.config.rootpath)],
        )
    )
    if exitstatus != 0 or partial:
        return  # a partial run (some files, -k, -m) checks only what it ran
    missing = sorted(rules_in_project() - CHECKED)
    if missing:
        session.config.get_terminal_writer().line(
            "Row rules no test compared with their predicate (core.testing.assert_rule_agrees): "
            + ", ".join(f"{m} {a!r}" for m, a in missing),
            red=True,
        )
        session.exitstatus = 1
