"""The advisor's journey in headless Chromium: claim, read, confirm, call, see the callback."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from calls.models import CallLog
from calls.tests.factories import CallLogFactory, disposition
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory, InteractionFactory
from leads import models as m
from leads.tests.factories import LeadFactory, PlannedCallFactory

SHOTS = "/tmp/shots/5"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_advisor_claims_confirms_calls_and_sees_callback(world, page, login, live_server, settings):
    settings.WORKBENCH_CALL_HOURS_START = "00:00"  # the test may run at night
    settings.WORKBENCH_CALL_HOURS_END = "23:59"
    disposition("effective")
    customer = CustomerFactory(name="陈美玲", home_branch=world.branch_x)
    ContactPreferenceFactory(customer=customer, consent=True)
    InteractionFactory(
        customer=customer,
        channel="ai_bot",
        occurred_at=timezone.now() - dt.timedelta(days=1),
        summary="AI 外呼：理财到期提醒",
        transcript=[
            {"speaker": "bot", "text": "陈女士您好，您持有的稳健理财 12 天后到期，需要了解续投方案吗？"},
            {"speaker": "customer", "text": "可以，我想要风险低一点的，<b>最好</b>能灵活取用。"},
            {"speaker": "bot", "text": "好的，稍后会有专属理财经理与您联系。"},
        ],
    )
    lead = LeadFactory(customer=customer, team=world.team_a, score=72.5, proposed_grade="mid")
    LeadFactory(team=world.team_a, score=30.0)

    login(world.advisor_a)
    page.goto(f"{live_server.url}/leads/")
    page.screenshot(path=f"{SHOTS}/1-queue.png", full_page=True)
    assert page.locator('[data-count="confirm"]').inner_text() == "2"
    page.keyboard.press("n")  # Claim next
    page.wait_for_url(f"{live_server.url}/leads/{lead.pk}/")
    transcript = page.locator('[data-testid="transcript"]')
    assert "我想要风险低一点的，<b>最好</b>能灵活取用。" in transcript.inner_text()  # escaped, not bold
    page.screenshot(path=f"{SHOTS}/2-call-screen.png", full_page=True)

    page.check("#id_grade_1")  # mid
    page.click('[data-testid="confirm-submit"]')
    page.wait_for_selector('[data-testid="confirmed-grade"]')
    assert page.locator('[data-testid="lead-status"]').inner_text() == "培育中"

    page.keyboard.press("3")  # disposition 3: connected – asked to call back
    page.select_option("#id_next_action", "callback")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    page.fill("#id_callback_at", f"{tomorrow.isoformat()}T10:00")
    page.fill("#id_notes", "客户明天上午方便，想听听稳健型产品")
    page.screenshot(path=f"{SHOTS}/3-call-form.png", full_page=True)
    page.locator("#id_notes").press("Control+Enter")
    page.wait_for_url(f"{live_server.url}/leads/?tab=today")
    assert "已安排在" in page.locator("#messages").inner_text()
    page.select_option("#id_when", "tomorrow")
    row = page.locator('[data-testid="today-table"] tbody tr', has_text="陈**").first
    row.wait_for()
    assert "回拨" in row.inner_text() and f"{tomorrow:%m-%d} 10:00" in row.inner_text()
    page.screenshot(path=f"{SHOTS}/4-todays-calls.png", full_page=True)

    call = CallLog.objects.get(lead=lead)
    assert call.disposition.code == "callback" and call.next_action == "callback"
    planned = m.PlannedCall.objects.get(lead=lead, kind="callback")
    assert timezone.localtime(planned.due_at).replace(tzinfo=None) == dt.datetime.combine(tomorrow, dt.time(10))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_team_lead_sees_metrics_chart_and_advisor_home_kpis(world, page, login, live_server, browser):
    lead = LeadFactory(team=world.team_a, owner=world.advisor_a)
    now = timezone.now()
    # Today's calls, even when the test runs in the first minutes after midnight.
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    earlier = max(now - dt.timedelta(minutes=5), midnight + dt.timedelta(seconds=1))
    for code in ("effective", "effective", "effective", "no_answer", "callback"):
        CallLogFactory(lead=lead, advisor=world.advisor_a, started_at=earlier, disposition=disposition(code))
    PlannedCallFactory(lead=lead, advisor=world.advisor_a, due_at=earlier, status="done")
    PlannedCallFactory(lead=lead, advisor=world.advisor_a, due_at=now + dt.timedelta(minutes=1))
    login(world.lead_a)
    page.goto(f"{live_server.url}/leads/metrics/")
    page.wait_for_function("() => window.Chart && Chart.getChart(document.getElementById('kpi-chart'))")
    row = page.locator(f'[data-testid="kpi-advisors"] tr[data-advisor="{world.advisor_a.pk}"]')
    assert "60%" in row.inner_text()  # 3 effective of 5 dialled
    page.screenshot(path=f"{SHOTS}/5-team-metrics.png", full_page=True)

    other = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    other.goto(f"{live_server.url}/login/")
    other.fill("#id_username", world.advisor_a.username)
    other.fill("#id_password", "demo-pass-123")
    other.click("button[type=submit]")
    other.wait_for_url(f"{live_server.url}/")
    kpis = other.locator('[data-testid="home-call-kpis"]')
    assert kpis.locator('[data-kpi="effective_rate"]').inner_text() == "60%"
    assert kpis.locator('[data-kpi="execution_rate"]').inner_text() in ("50%", "100%")
    other.screenshot(path=f"{SHOTS}/6-advisor-home.png", full_page=True)
    other.context.close()
