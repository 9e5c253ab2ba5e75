"""The campaign manager's journey in headless Chromium: a segment with a live count, a
campaign with an SMS step, a call-task step, a wait and a branch drawn as the flow
diagram, blocked until compliance approves the script, launched by a second person, who
then edits the scheduled journey in a new version and publishes it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

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
    steps = page.locator('[data-testid="steps"] tbody tr[data-testid="step-row"]')
    # the step editor swaps the journey section in place (htmx): wait for each new row
    page.select_option("#id_kind", "send")
    page.select_option("#id_channel", "sms")
    page.select_option("#id_script", str(sms.pk))
    page.click('[data-testid="add-step"]')
    expect(steps).to_have_count(1)
    page.select_option("#id_kind", "call_task")
    page.select_option("#id_script", str(call.pk))
    page.click('[data-testid="add-step"]')
    expect(steps).to_have_count(2)
    page.select_option("#id_kind", "wait")
    page.fill("#id_wait", "3")
    page.select_option("#id_wait_unit", "days")
    page.click('[data-testid="add-step"]')
    expect(steps).to_have_count(3)
    # a branch on the SMS reply: yes ends the journey, no goes back to the wait
    page.select_option("#id_kind", "branch")
    page.select_option("#id_condition", "replied")
    page.select_option("#id_yes_position", "")
    page.select_option("#id_no_position", "3")
    page.click('[data-testid="add-step"]')
    expect(steps).to_have_count(4)
    diagram = page.locator('[data-testid="journey-diagram"] svg')
    expect(diagram.locator("g.jd-step")).to_have_count(4)
    assert diagram.locator('[data-from="4"][data-to="end"].jd-arrow-yes').count() == 1
    assert diagram.locator('path[data-from="4"][data-to="3"].jd-arrow-no').count() == 1
    assert "到期提醒短信" in diagram.inner_html() and "当前 0 · 经过 0" in diagram.inner_html()
    labels = diagram.locator("text.jd-label").all_text_contents()
    assert "是" in labels and "否" in labels
    assert page.locator('[data-testid="journey-table"] tbody tr').count() == 4
    # the wait made a message: the loop would have no wait, so the edit is refused and says why
    page.locator('[data-testid="edit-step"]').nth(2).click()
    page.select_option("#id_edit-kind", "send")
    page.select_option("#id_edit-channel", "sms")
    page.select_option("#id_edit-script", str(sms.pk))
    page.click('[data-testid="save-step"]')
    expect(page.locator('[data-testid="step-edit-form"] [data-testid="form-errors"]')).to_contain_text("没有等待的循环")
    page.click('[data-testid="step-edit-form"] a')
    expect(steps).to_have_count(4)
    assert "到期外呼话术" in page.locator('[data-testid="unapproved-scripts"]').inner_text()
    assert page.locator('[data-testid="funnel-members"]').inner_text() == "6"
    page.screenshot(path=f"{SHOTS}/2-campaign-draft.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 2400})  # the whole diagram below the sticky bar
    diagram.screenshot(path=f"{SHOTS}/2b-journey-diagram.png")
    page.set_viewport_size({"width": 1280, "height": 900})
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

    # the scheduled journey is edited in version 2; publishing it is for new entrants
    second.select_option("#id_kind", "wait")
    second.fill("#id_wait", "12")
    second.select_option("#id_wait_unit", "hours")
    second.click('[data-testid="add-step"]')
    banner = second.locator('[data-testid="version-banner"]')
    expect(banner).to_contain_text("正在编辑第 2 版")
    expect(banner).to_contain_text("第 1 步（发送消息）：0 人")
    expect(second.locator('[data-testid="journey-draft-diagram"] g.jd-step')).to_have_count(5)
    # after the branch nobody reaches the new wait: the editor says so
    expect(second.locator('[data-testid="unreachable"]')).to_contain_text("没有客户会走到第 5 步")
    second.screenshot(path=f"{SHOTS}/4-draft-version.png", full_page=True)
    second.click('[data-testid="publish"]')
    expect(second.locator('[data-testid="version-banner"]')).to_have_count(0)
    expect(second.locator('[data-testid="journey-diagram"] g.jd-step')).to_have_count(5)
    assert Campaign.objects.get(pk=campaign.pk).journey_version == 2
