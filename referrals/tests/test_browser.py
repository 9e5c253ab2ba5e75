"""The referral journey across three users in headless Chromium (screenshots in /tmp/shots/6/)."""

import os
import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from customers.tests.factories import ProductFactory
from leads.models import LeadStatus
from referrals import services
from referrals.models import Referral, ReferralStatus

from .factories import high_lead

SHOTS = "/tmp/shots/6"  # noqa: S108 (screenshots for a human to look at)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_refer_accept_convert_journey(world, page, login, live_server):
    os.makedirs(SHOTS, exist_ok=True)
    product = ProductFactory(code="WM-180", name="稳健理财 180 天", risk_level=2)
    lead = high_lead(
        advisor=world.advisor_a, team=world.team_a, branch=world.branch_x, status=LeadStatus.NEW, name="张晓梅"
    )

    # 1. The advisor reads the lead on the call screen and confirms it as high: the queues
    #    feature routes it to the branch through referral_create.
    login(world.advisor_a)
    page.goto(f"{live_server.url}{reverse('calls:call', args=[lead.pk])}")
    page.check("[data-testid=confirm-form] input[name=grade][value=high]")
    page.fill("[data-testid=confirm-form] [name=note]", "50 万理财下月到期，希望到网点面谈资产配置")
    page.screenshot(path=f"{SHOTS}/0-advisor-confirms-high.png", full_page=True)
    page.click("[data-testid=confirm-submit]")
    expect(page.locator("[data-testid=confirmed-grade]")).to_be_visible()
    referral = Referral.objects.get(lead=lead)
    assert referral.needs_summary == "50 万理财下月到期，希望到网点面谈资产配置"
    page.goto(f"{live_server.url}/referrals/")
    row = page.locator(f'tr[data-referral="{referral.pk}"]')
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "pending")
    page.screenshot(path=f"{SHOTS}/1-advisor-referred.png", full_page=True)

    # 2. The branch manager sees it in the inbox, opens it and accepts, assigning the RM.
    page.context.clear_cookies()
    login(world.manager_x)
    page.goto(f"{live_server.url}/referrals/")
    expect(page.locator('[data-tab="inbox"].active')).to_be_visible()
    page.screenshot(path=f"{SHOTS}/2a-manager-inbox.png", full_page=True)
    page.locator(f'tr[data-referral="{referral.pk}"] a').first.click()
    expect(page.locator("[data-testid=needs-summary]")).to_contain_text("50 万理财下月到期")
    expect(page.locator("[data-testid=ai-highlight]").first).to_contain_text("<script>alert(1)</script>")
    page.select_option("#id_rm", str(world.rm_x.pk))
    page.screenshot(path=f"{SHOTS}/2-manager-review.png", full_page=True)
    page.click("[data-testid=accept-form] button[type=submit]")
    expect(page.locator("[data-testid=referral-status] [data-status]")).to_have_attribute("data-status", "accepted")
    expect(page.locator("[data-testid=assigned-rm]")).to_contain_text("rm_x")

    # 3. The RM records the contact and the conversion of 200,000 CNY.
    page.context.clear_cookies()
    login(world.rm_x)
    page.goto(f"{live_server.url}/referrals/")
    page.locator(f'tr[data-referral="{referral.pk}"] a').first.click()
    page.select_option("#id_fu-kind", "attempt")
    page.select_option("#id_fu-reached", "1")
    page.fill("#id_fu-note", "已电话联系，约周五到网点")
    page.click("[data-testid=follow-up-form] button[type=submit]")
    expect(page.locator("[data-testid=referral-status] [data-status]")).to_have_attribute("data-status", "contacted")
    page.select_option("#id_out-outcome", "converted")
    page.select_option("#id_out-product", str(product.pk))
    page.fill("#id_out-amount", "200000")
    page.fill("#id_out-note", "客户购买稳健理财")
    page.screenshot(path=f"{SHOTS}/3-rm-outcome.png", full_page=True)
    page.click("[data-testid=outcome-form] button[type=submit]")
    expect(page.locator("[data-testid=converted]")).to_contain_text("200,000.00")

    # 4. The advisor sees it converted, with the branch's notes, and has a notification.
    page.context.clear_cookies()
    login(world.advisor_a)
    expect(page.locator("#notif-badge")).to_have_text(re.compile(r"\d"))
    page.goto(f"{live_server.url}/referrals/")
    expect(page.locator(f'tr[data-referral="{referral.pk}"] [data-status]')).to_have_attribute(
        "data-status", "converted"
    )
    page.screenshot(path=f"{SHOTS}/4-advisor-list.png", full_page=True)
    page.locator(f'tr[data-referral="{referral.pk}"] a').first.click()
    expect(page.locator("[data-testid=converted]")).to_contain_text("200,000.00")
    expect(page.locator("[data-testid=follow-ups]")).to_contain_text("约周五到网点")
    expect(page.locator("[data-testid=outcome-form]")).to_have_count(0)
    page.screenshot(path=f"{SHOTS}/5-advisor-converted.png", full_page=True)
    assert Referral.objects.get(pk=referral.pk).status == ReferralStatus.CONVERTED

    # HQ view: the team lead sees the funnel with the converted amount.
    page.context.clear_cookies()
    login(world.lead_a)
    page.goto(f"{live_server.url}/referrals/dashboard/")
    expect(page.locator("[data-kpi=converted_amount]")).to_have_text("¥200,000")
    expect(page.locator("[data-testid=by-branch]")).to_contain_text(world.branch_x.name)
    page.screenshot(path=f"{SHOTS}/6-team-lead-dashboard.png", full_page=True)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_branch_manager_bulk_accepts_from_the_inbox(world, page, login, live_server):
    os.makedirs(SHOTS, exist_ok=True)
    refs = [
        services.referral_create(
            actor=world.advisor_a, lead=high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)
        )
        for _ in range(3)
    ]
    login(world.manager_x)
    page.goto(f"{live_server.url}/referrals/?tab=inbox")
    page.check("[data-select-all]")
    page.locator(f'tr[data-referral="{refs[2].pk}"] input[name=ids]').uncheck()
    page.select_option("[data-testid=bulk-form] select[name=rm]", str(world.rm_x.pk))
    page.screenshot(path=f"{SHOTS}/7-bulk-accept.png", full_page=True)
    page.click("[data-testid=bulk-form] button[type=submit]")
    expect(page.locator("#messages")).to_contain_text("2")
    statuses = dict(Referral.objects.filter(pk__in=[r.pk for r in refs]).values_list("pk", "status"))
    assert statuses == {refs[0].pk: "accepted", refs[1].pk: "accepted", refs[2].pk: "pending"}
    page.screenshot(path=f"{SHOTS}/8-after-bulk-accept.png", full_page=True)
