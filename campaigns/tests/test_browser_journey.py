"""A campaign end to end in headless Chromium, with the real enrolment, runner and outbox:
the campaign manager builds the segment (its live count), the campaign and its SMS and
call-task steps, compliance approves the call script, a second person approves the launch, the campaign
starts and its SMS appears in the outbox, an advisor sees the call task with its approved
script and logs a won sale, and the campaign's diagram shows the conversion on its step."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from calls.tests.factories import disposition
from campaigns.channels.dispatch import messages_dispatch
from campaigns.journeys.enrol import in_global_holdout
from campaigns.journeys.runner import journeys_collect_conversions
from campaigns.models import Campaign, CampaignStatus, Message, MessageStatus, Segment
from campaigns.services import journey
from campaigns.tests.factories import approved_script, draft_script
from compliance.services import scripts as script_services
from customers.models import Channel
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory
from leads.models import PlannedCall, PlannedCallStatus

SHOTS = "/tmp/shots/12-journey"


def switch(page, login, user):
    page.context.clear_cookies()
    login(user)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_campaign_from_approval_to_a_won_call_on_its_step(
    world, page, login, live_server, settings, today_is_a_working_day
):
    os.makedirs(SHOTS, exist_ok=True)
    settings.WORKBENCH_CALL_HOURS_START, settings.WORKBENCH_CALL_HOURS_END = "00:00", "23:59"
    disposition("effective")
    base = live_server.url
    people = []
    while len(people) < 2:
        c = CustomerFactory(owner=world.advisor_a, risk_level=5, risk_assessed_at=timezone.now())
        if in_global_holdout(c.pk):
            continue
        for channel in (Channel.SMS, Channel.PHONE):
            ContactPreferenceFactory(customer=c, channel=channel, consent=True)
        people.append(c)
    sms = approved_script(world, title="到期提醒短信")
    call = draft_script(world, title="到期续投外呼话术", author=world.campaigner)
    script_services.script_submit_for_review(actor=world.campaigner, version=call.versions.get())
    # 0. the campaign manager builds the segment (its live count as she picks the owner), the
    #    campaign and its two steps in the browser
    login(world.campaigner)
    page.goto(f"{base}/campaigns/segments/new/")
    page.fill("#id_name", "王顾问的客户")
    page.select_option("#id_g0-owner", str(world.advisor_a.pk))
    page.wait_for_function("() => document.querySelector('[data-testid=live-count]').innerText.trim() === '2'")
    page.screenshot(path=f"{SHOTS}/0-segment-live-count.png", full_page=True)
    page.click('[data-testid="save-segment"]')
    assert page.locator('[data-testid="member-count"]').inner_text() == "2"
    segment = Segment.objects.get(name="王顾问的客户")
    page.goto(f"{base}/campaigns/new/")
    page.fill("#id_name", "到期续投提醒")
    page.select_option("#id_audience", label="王顾问的客户")
    page.click('[data-testid="save-campaign"]')
    campaign = Campaign.objects.get(name="到期续投提醒")
    assert campaign.audience_id == segment.pk
    steps = page.locator('[data-testid="steps"] tbody tr[data-testid="step-row"]')
    page.select_option("#id_kind", "send")
    page.select_option("#id_channel", "sms")
    page.select_option("#id_script", str(sms.pk))
    page.click('[data-testid="add-step"]')
    expect(steps).to_have_count(1)
    page.select_option("#id_kind", "call_task")
    page.select_option("#id_script", str(call.pk))
    page.fill("#id_due_hours", "48")
    page.click('[data-testid="add-step"]')
    expect(steps).to_have_count(2)
    # every member is contacted in this walk (no control group) and leaves once converted
    journey.journey_settings_update(
        actor=world.campaigner, campaign=campaign, exit_rules=["converted"], control_percent=0, daily_entry_limit=None
    )

    # 1. compliance approves the call script
    switch(page, login, world.compliance)
    page.goto(f"{base}/compliance/review/scripts/")
    page.click('[data-testid="pending-table"] a:has-text("到期续投外呼话术")')
    if page.locator("#ack").count():
        page.check("#ack")
    page.fill("#approve-comment", "符合要求")
    page.click('[data-testid="approve"]')
    page.wait_for_url(f"{base}/compliance/review/scripts/")

    # 2. the author asks for approval; a second campaign manager approves and starts it
    switch(page, login, world.campaigner)
    page.goto(f"{base}/campaigns/{campaign.pk}/")
    page.click('[data-testid="submit"]')
    assert page.locator('[data-testid="campaign-status"]').inner_text() == "待审批"
    switch(page, login, world.campaigner2)
    page.goto(f"{base}/campaigns/{campaign.pk}/")
    page.click('[data-testid="approve"]')
    assert page.locator('[data-testid="campaign-status"]').inner_text() == "已排期"
    page.click('[data-testid="start"]')
    assert page.locator('[data-testid="campaign-status"]').inner_text() == "运行中"
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.RUNNING

    # 3. the enrolment ran (the worker's job, eager here): one SMS each, then a call task
    assert Message.objects.filter(campaign=campaign).count() == 2
    messages_dispatch()
    assert set(Message.objects.filter(campaign=campaign).values_list("status", flat=True)) == {MessageStatus.SENT}
    page.goto(f"{base}/campaigns/outbox/")
    outbox = page.locator("main").inner_text()
    assert "到期续投提醒" in outbox and "您好" in outbox
    page.screenshot(path=f"{SHOTS}/1-outbox.png", full_page=True)
    tasks = PlannedCall.objects.filter(campaign_id=campaign.pk)
    assert tasks.count() == 2 and {t.advisor_id for t in tasks} == {world.advisor_a.pk}

    # 4. the advisor sees the task with its approved script and logs a won sale
    switch(page, login, world.advisor_a)
    task = tasks.get(customer=people[0])
    page.goto(f"{base}/leads/?tab=today")
    page.screenshot(path=f"{SHOTS}/2-todays-calls.png", full_page=True)
    page.goto(f"{base}/leads/{task.lead_id}/")
    assert "策略外呼任务：到期续投提醒" in page.locator('[data-testid="campaign-task"]').inner_text()
    assert call.versions.get().body.splitlines()[0] in page.locator('[data-testid="script"]').inner_text()
    page.screenshot(path=f"{SHOTS}/3-call-screen-task.png", full_page=True)
    page.keyboard.press("1")  # the first disposition: an effective conversation
    product = call.product
    page.select_option("#id_products", str(product.pk))
    page.select_option("#id_next_action", "won")
    page.select_option("#id_won_product", str(product.pk))
    page.fill("#id_won_amount", "200000")
    page.fill("#id_notes", "客户同意到期续投")
    page.locator("#id_notes").press("Control+Enter")
    page.wait_for_url(f"{base}/leads/?tab=today")
    task.refresh_from_db()
    assert task.status == PlannedCallStatus.DONE and task.call_log_id is not None

    # 5. the conversion (the beat's collection) shows on the call-task step
    assert journeys_collect_conversions() == 1
    switch(page, login, world.campaigner)
    page.goto(f"{base}/campaigns/{campaign.pk}/")
    rows = page.locator('[data-testid="journey-table"] tbody tr')
    assert "转化 1" in rows.nth(1).inner_text() and "转化 0" in rows.nth(0).inner_text()
    page.screenshot(path=f"{SHOTS}/4-campaign-conversion.png", full_page=True)
