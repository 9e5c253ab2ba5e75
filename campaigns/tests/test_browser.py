"""The campaign manager's journey in headless Chromium: a segment with a live count, a
campaign with an SMS step and a call-task step, blocked until compliance approves the
script, launched by a second person."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign, CampaignStatus
from campaigns.tests.factories import approved_script, draft_script
from compliance.services import scripts as script_services
from customers.models import Tier
from customers.tests.factories import CustomerFactory

SHOTS = "/tmp/shots/12"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_segment_live_count_then_build_and_launch(world, page, login, live_server, browser):
    for _i in range(4):
        CustomerFactory(tier=Tier.BASE)
    for _i in range(2):
        CustomerFactory(tier=Tier.WEALTH)
    sms = approved_script(world, title="到期提醒短信")
    call = draft_script(world, title="到期外呼话术", author=world.campaigner)

    login(world.campaigner)
    page.goto(f"{live_server.url}/campaigns/segments/new/")
    page.fill("#id_name", "基础及财富客户")
    page.select_option("#id_g0-tier", "base")
    page.wait_for_function("() => document.querySelector('[data-testid=live-count]').innerText.trim() === '4'")
    page.click('[data-testid="add-group"]')
    page.select_option("#id_g1-tier", "wealth")
    page.wait_for_function("() => document.querySelector('[data-testid=live-count]').innerText.trim() === '6'")
    assert page.locator('[data-testid="sample"] tbody tr').count() == 6
    page.screenshot(path=f"{SHOTS}/1-segment-builder.png", full_page=True)
    page.click('[data-testid="save-segment"]')
    assert page.locator('[data-testid="member-count"]').inner_text() == "6"

    page.goto(f"{live_server.url}/campaigns/new/")
    page.fill("#id_name", "理财到期提醒")
    page.select_option("#id_audience", label="基础及财富客户")
    page.click('[data-testid="save-campaign"]')
    page.select_option("#id_kind", "send")
    page.select_option("#id_channel", "sms")
    page.select_option("#id_script", str(sms.pk))
    page.click('[data-testid="add-step"]')
    page.select_option("#id_kind", "call_task")
    page.select_option("#id_script", str(call.pk))
    page.click('[data-testid="add-step"]')
    assert page.locator('[data-testid="steps"] tbody tr').count() == 2
    assert "到期外呼话术" in page.locator('[data-testid="unapproved-scripts"]').inner_text()
    assert page.locator('[data-testid="funnel-members"]').inner_text() == "6"
    page.screenshot(path=f"{SHOTS}/2-campaign-draft.png", full_page=True)
    page.click('[data-testid="submit"]')
    assert page.locator('[data-testid="campaign-status"]').inner_text() == "草稿"  # blocked
    campaign = Campaign.objects.get(name="理财到期提醒")

    # compliance approves the call script; the author may submit but not approve
    version = call.versions.get()
    script_services.script_submit_for_review(actor=world.campaigner, version=version)
    script_services.script_approve(actor=world.compliance, version=version, acknowledge_medium=True)
    page.reload()
    page.click('[data-testid="submit"]')
    assert page.locator('[data-testid="campaign-status"]').inner_text() == "待审批"
    assert page.locator('[data-testid="approve"]').count() == 0

    second = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900}).new_page()
    second.goto(f"{live_server.url}/login/")
    second.fill("#id_username", world.campaigner2.username)
    second.fill("#id_password", "demo-pass-123")
    second.click("button[type=submit]")
    second.wait_for_url(f"{live_server.url}/")
    second.goto(f"{live_server.url}/campaigns/")
    second.click(f'[data-testid="awaiting-approval"] a[href="/campaigns/{campaign.pk}/"]')
    second.click('[data-testid="approve"]')
    assert second.locator('[data-testid="campaign-status"]').inner_text() == "已排期"
    second.screenshot(path=f"{SHOTS}/3-approved.png", full_page=True)
    assert Campaign.objects.get(pk=campaign.pk).launch_approved_by == world.campaigner2
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SCHEDULED
