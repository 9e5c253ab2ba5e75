"""The script approval journey in headless Chromium, with screenshots under /tmp/shots/7/.

advisor submits a script containing "保本" → the officer sees it highlighted, cannot approve,
rejects with a comment → the advisor revises with the disclosure → the officer approves →
the script is in the library. (That the call screen then shows it is the calls app's to
test: ``calls/tests``.)
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone

from compliance.models import Flag, FlagStatus, Script, ScriptReview, VersionStatus
from compliance.surveillance import request_scan
from customers.tests.factories import CustomerFactory, ProductFactory

SHOTS = "/tmp/shots/7"

BAD = "王先生您好，这款稳健理财是保本的，风险等级R2，年化收益不错。"
GOOD = (
    "王先生您好，这款稳健理财风险等级为R2，属于非保本浮动收益型产品，业绩比较基准不代表实际收益。"
    "理财非存款、产品有风险、投资须谨慎。"
)


def switch_user(page, login, user):
    page.context.clear_cookies()
    login(user)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_script_approval_journey(world, page, login, live_server):
    os.makedirs(SHOTS, exist_ok=True)
    product = ProductFactory(name="稳健理财A", type="wealth", risk_level=2)
    base = live_server.url

    # 1. the advisor proposes a script that promises principal
    login(world.advisor_a)
    page.goto(f"{base}/compliance/scripts/")
    page.click('[data-testid="propose-script"]')
    page.fill("#id_title", "稳健理财A 产品介绍")
    page.select_option("#id_product", label=str(product))
    page.select_option("#id_purpose", "product_intro")
    page.fill("#id_body", BAD)
    page.click('[data-testid="submit-for-review"]')
    page.wait_for_selector('[data-testid="latest-status"]')
    assert page.locator('[data-testid="latest-status"]').inner_text() == "已提交审核"
    page.screenshot(path=f"{SHOTS}/1-advisor-submitted.png", full_page=True)

    # 2. the officer sees the hit highlighted and cannot approve; rejects with a comment
    switch_user(page, login, world.compliance)
    page.goto(f"{base}/compliance/review/scripts/")
    page.click('[data-testid="pending-table"] a:has-text("稳健理财A 产品介绍")')
    mark = page.locator('[data-testid="highlighted-text"] mark[data-severity="high"]')
    assert mark.first.inner_text() == "保本"
    assert page.locator('[data-testid="approve"]').is_disabled()
    assert "无法批准" in page.locator('[data-testid="approve-blocked"]').inner_text()
    assert "理财非存款、产品有风险、投资须谨慎" in page.locator('[data-testid="findings"]').inner_text()
    page.screenshot(path=f"{SHOTS}/2-officer-review-blocked.png", full_page=True)
    page.fill("#reject-comment", "请删除“保本”表述，并补充“理财非存款、产品有风险、投资须谨慎”。")
    page.click('[data-testid="reject"]')
    page.wait_for_url(f"{base}/compliance/review/scripts/")

    # 3. the advisor reads the comment and revises with the disclosure
    switch_user(page, login, world.advisor_a)
    page.goto(f"{base}/compliance/scripts/")
    page.click('[data-testid="my-scripts"] a:has-text("稳健理财A 产品介绍")')
    assert "请删除“保本”表述" in page.locator('[data-testid="review-comment"]').inner_text()
    page.screenshot(path=f"{SHOTS}/3-advisor-rejected.png", full_page=True)
    page.click('[data-testid="revise"]')
    assert "请删除“保本”表述" in page.locator('[data-testid="previous-comments"]').inner_text()
    page.fill("#id_body", GOOD)
    page.click('[data-testid="submit-for-review"]')
    page.wait_for_selector('[data-testid="latest-status"]')

    # 4. the officer approves the clean version (the diff shows what changed)
    switch_user(page, login, world.compliance)
    page.goto(f"{base}/compliance/review/scripts/")
    page.click('[data-testid="pending-table"] a:has-text("稳健理财A 产品介绍")')
    assert page.locator('[data-testid="no-findings"]').is_visible()
    assert page.locator('[data-testid="approve"]').is_enabled()
    page.screenshot(path=f"{SHOTS}/4-officer-review-clean.png", full_page=True)
    page.fill("#approve-comment", "符合要求")
    page.click('[data-testid="approve"]')
    page.wait_for_url(f"{base}/compliance/review/scripts/")

    # 5. the script is in the library
    switch_user(page, login, world.advisor_a)
    page.goto(f"{base}/compliance/scripts/")
    library = page.locator('[data-testid="library-table"]')
    assert "稳健理财A 产品介绍" in library.inner_text()
    assert "保本的" not in library.inner_text()
    page.screenshot(path=f"{SHOTS}/5-library.png", full_page=True)

    script = Script.objects.get(title="稳健理财A 产品介绍")
    statuses = list(script.versions.order_by("number").values_list("status", flat=True))
    assert statuses == [VersionStatus.REJECTED, VersionStatus.APPROVED]
    actions = list(ScriptReview.objects.filter(version__script=script).values_list("action", flat=True))
    assert actions == ["submit", "reject", "submit", "approve"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_officer_reviews_flags_and_advisor_sees_feedback(world, page, login, live_server):
    os.makedirs(SHOTS, exist_ok=True)
    base = live_server.url
    customer = CustomerFactory(name="李秀英", owner=world.advisor_a)
    notes = [
        "客户担心亏损，我说这款产品是保本的，不会亏本。",
        "客户问收益，我说<b>预期收益率</b>4%，到期一定能拿到。",
        "客户的朋友在别家银行，说那边不靠谱。",  # a third party's words: a false positive
    ]
    for i, text in enumerate(notes):
        # As the calls app hands in a call note: the snapshot, a link back, the scan on commit.
        request_scan(
            source="call_note",
            object_id=500 + i,
            text=text,
            advisor_id=world.advisor_a.pk,
            customer_id=customer.pk,
            occurred_at=timezone.now() - dt.timedelta(days=i),
            source_url=f"/calls/notes/{500 + i}/",
        )

    login(world.compliance)
    page.goto(f"{base}/compliance/review/")
    table = page.locator('[data-testid="flag-table"]')
    assert "保本" in table.inner_text()
    page.screenshot(path=f"{SHOTS}/7-review-queue.png", full_page=True)

    first = Flag.objects.get(match="保本")
    page.click(f'[data-testid="flag-table"] a[href="/compliance/flags/{first.pk}/"]')
    assert page.locator('[data-testid="highlighted-text"] mark').first.inner_text() == "保本"
    assert page.locator('[data-testid="source-link"]').get_attribute("href") == "/calls/notes/500/"
    page.click('[data-testid="claim"]')
    page.select_option("#id_outcome", "coaching")
    page.fill("#id_comment", "不得承诺保本，请参加合规话术培训。")
    page.click('[data-testid="close"]')
    page.wait_for_selector('[data-testid="outcome"]')
    page.screenshot(path=f"{SHOTS}/8-flag-closed.png", full_page=True)

    # the disparaging hit was a third party's words: bulk close as a false positive
    page.goto(f"{base}/compliance/review/?category=disparaging")
    page.locator('[data-testid="flag-table"] input[name="flag_ids"]').first.check()
    page.fill("#bulk-reason", "客户原话，非理财经理陈述")
    page.click('[data-testid="bulk-close"]')
    page.wait_for_load_state()
    assert Flag.objects.get(category="disparaging").status == FlagStatus.CLOSED

    # rescan with progress
    page.goto(f"{base}/compliance/review/rescan/")
    today = timezone.localdate()
    page.fill("#id_date_from", (today - dt.timedelta(days=7)).isoformat())
    page.fill("#id_date_to", today.isoformat())
    page.click('[data-testid="rescan-form"] button[type="submit"]')
    page.wait_for_selector('.wb-job[data-status="succeeded"]')
    page.screenshot(path=f"{SHOTS}/9-rescan.png", full_page=True)

    page.goto(f"{base}/compliance/reports/")
    page.wait_for_function("() => window.Chart && Chart.getChart('weekly-chart') !== undefined")
    page.screenshot(path=f"{SHOTS}/10-reports.png", full_page=True)

    page.goto(f"{base}/compliance/lexicon/?category=guarantee")
    page.screenshot(path=f"{SHOTS}/11-lexicon.png", full_page=True)

    switch_user(page, login, world.advisor_a)
    page.goto(f"{base}/compliance/feedback/")
    feedback = page.locator('[data-testid="my-flag-table"]').inner_text()
    assert "请参加合规话术培训" in feedback
    assert "预期收益率" not in feedback  # still under review: not shown to the advisor
    page.screenshot(path=f"{SHOTS}/12-advisor-feedback.png", full_page=True)
