"""Pages that say what to do next: notifications settle when their work is done and never
ask authors to review themselves; only valid actions are offered; every action says what
it did; the advisor sees today's completed calls; the help lists every shortcut."""

from __future__ import annotations

from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from calls.tests.factories import CallLogFactory
from compliance.models import ScriptPurpose
from compliance.services import scripts as script_services
from core.models import Notification
from customers.models import Tag
from customers.services import privacy
from customers.tests.factories import CustomerFactory, ProductFactory
from leads.models import Lead, LeadTransition
from leads.tests.factories import LeadFactory
from org.roles import Role
from org.tests.factories import make_staff
from referrals import services as referral_services
from referrals.models import RejectReason
from referrals.tests.factories import high_lead
from scoring.reasons import _templates, phrase, top_reasons

from .walk import CJK, visible_text

BODY = (
    "您好，这款稳健理财产品风险等级为R2，属于非保本浮动收益型产品，业绩比较基准不代表实际收益。"
    "理财非存款、产品有风险、投资须谨慎。"
)


@pytest.fixture(autouse=True)
def _keep_the_language():
    """English requests activate English in this thread (LocaleMiddleware does not
    switch back): the tests that follow start in the language they started in."""
    before = translation.get_language()
    yield
    translation.activate(before)


def _submitted(author):
    version = script_services.script_create(
        actor=author, title="稳健理财介绍", purpose=ScriptPurpose.PRODUCT_INTRO, body=BODY, product=ProductFactory()
    )
    return script_services.script_submit_for_review(actor=author, version=version)


def _unread(user, key: str) -> int:
    return Notification.objects.filter(recipient=user, event_key=key, read_at__isnull=True).count()


@pytest.fixture
def officer2(world):
    return make_staff(Role.COMPLIANCE, username="compliance_b", display_name="合规 二号")


def test_an_author_is_not_asked_to_review_their_own_script(world, officer2):
    version = _submitted(world.compliance)  # an officer writes a script
    key = f"script.submitted:{version.pk}"
    assert _unread(world.compliance, key) == 0
    assert _unread(officer2, key) == 1


def test_review_requests_settle_for_every_officer_once_decided(world, officer2):
    version = _submitted(world.lead_a)
    key = f"script.submitted:{version.pk}"
    assert _unread(world.compliance, key) == 1 and _unread(officer2, key) == 1
    script_services.script_approve(actor=officer2, version=version, comment="ok", acknowledge_medium=True)
    assert _unread(world.compliance, key) == 0 and _unread(officer2, key) == 0  # nobody is left asked

    rejected = _submitted(world.lead_a)
    script_services.script_reject(actor=world.compliance, version=rejected, comment="缺少风险揭示")
    assert _unread(officer2, f"script.submitted:{rejected.pk}") == 0


def test_referral_notifications_settle_with_their_stage(world):
    lead = high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)
    referral = referral_services.referral_create(actor=world.advisor_a, lead=lead, needs_summary="50 万到期")
    created = f"referral:{referral.pk}:created"
    assert _unread(world.manager_x, created) == 1
    referral_services.referral_accept(actor=world.manager_x, referral=referral, rm=world.rm_x)
    assert _unread(world.manager_x, created) == 0  # reviewed: the request is settled
    assigned = f"referral:{referral.pk}:assigned:{world.rm_x.pk}"
    assert _unread(world.rm_x, assigned) == 1
    referral_services.referral_follow_up(actor=world.rm_x, referral=referral, kind="attempt", reached=True)
    assert _unread(world.rm_x, assigned) == 0  # first contact made
    assert _unread(world.advisor_a, f"referral:{referral.pk}:accepted") == 1  # news, not work: kept


def test_submitted_version_offers_no_draft_editing_and_the_author_no_approval(client_for, world):
    version = _submitted(world.compliance)
    html = client_for(world.compliance).get(reverse("compliance:script_detail", args=[version.script_id])).content
    html = html.decode()
    assert "继续编辑草稿" not in html and 'data-testid="revise"' not in html
    assert 'data-testid="awaiting-review"' in html
    review = client_for(world.compliance).get(reverse("compliance:version_review", args=[version.pk])).content
    assert b'data-testid="approve"' not in review and b'data-testid="approve-self"' in review


def test_claiming_says_which_lead_was_claimed(client_for, world):
    lead = LeadFactory(team=world.team_a, customer=CustomerFactory(name="张三丰"))
    response = client_for(world.advisor_a).post(reverse("calls:claim", args=[lead.pk]), follow=True)
    text = "\n".join(visible_text(response.content.decode()))
    assert "已领取线索：张**" in text and "张三丰" not in text.split("已领取线索")[1].splitlines()[0]


def test_referral_actions_say_what_was_done(client_for, world):
    lead = high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)
    referral = referral_services.referral_create(actor=world.advisor_a, lead=lead, needs_summary="50 万到期")
    response = client_for(world.manager_x).post(
        reverse("referrals:accept", args=[referral.pk]), {"rm": world.rm_x.pk}, follow=True
    )
    html = response.content.decode()
    assert "已受理" in html and "已保存。" not in html
    assert world.rm_x.staff_profile.display_name in html


def test_completed_today_lists_the_advisors_calls(client_for, world):
    mine = CallLogFactory(
        lead=LeadFactory(team=world.team_a, owner=world.advisor_a), advisor=world.advisor_a, duration_seconds=185
    )
    CallLogFactory(lead=LeadFactory(team=world.team_a), advisor=world.advisor_a2)  # a teammate's
    CallLogFactory(
        lead=LeadFactory(team=world.team_a),
        advisor=world.advisor_a,
        started_at=timezone.now() - timezone.timedelta(days=2),
    )
    html = client_for(world.advisor_a).get(reverse("calls:queue"), {"tab": "done"}).content.decode()
    assert 'data-testid="done-table"' in html and 'data-count="done">1<' in html
    assert mine.customer.customer_no in html and "3:05" in html


def test_completed_today_when_empty_says_what_to_do(client_for, world):
    html = client_for(world.advisor_a).get(reverse("calls:queue"), {"tab": "done"}).content.decode()
    assert "今天还没有记录通话" in html


def test_help_lists_every_page_shortcut(client_for, world):
    html = client_for(world.advisor_a).get("/").content.decode()
    help_box = html[html.index('id="shortcuts-help"') :]
    for key in ('data-shortcut-key="n"', 'data-shortcut-key="1-8"', 'data-shortcut-key="ctrl-enter"'):
        assert key in help_box
    assert "领取下一条线索" in help_box and "保存通话记录" in help_box


def test_tags_are_named_in_the_readers_language(db):
    tag = Tag.objects.create(
        code="pension_planning_x", name="养老规划", name_en="Retirement planning", category="preference"
    )
    with translation.override("en"):
        assert str(tag) == "Retirement planning"
    with translation.override("zh-hans"):
        assert str(tag) == "养老规划"
    bare = Tag.objects.create(code="bare", name="代发工资", category="behaviour")
    with translation.override("en"):
        assert str(bare) == "代发工资"  # no English name yet: the bank's name


def test_access_log_names_staff_by_name_and_employee_number(client_for, world):
    customer = CustomerFactory(owner=world.advisor_a)
    privacy.access_record(user=world.advisor_a, customer=customer, kind="view")
    html = client_for(world.compliance).get(reverse("customers:access_log")).content.decode()
    text = "\n".join(visible_text(html))
    assert "王顾问" in text and world.advisor_a.staff_profile.employee_no in text
    assert "advisor_a" not in text


def test_a_leads_history_tells_what_the_branch_did_in_words(world):
    lead = high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)
    referral = referral_services.referral_create(actor=world.advisor_a, lead=lead, needs_summary="50 万到期")
    referral_services.referral_reject(actor=world.manager_x, referral=referral, reason=RejectReason.UNREACHABLE)
    reason = LeadTransition.objects.filter(lead=lead).latest("occurred_at").reason
    assert reason.startswith("支行拒绝了转介") and ":" not in reason.replace("：", "")


@pytest.mark.parametrize("actor_language", ["zh-hans", "en"])
def test_a_leads_history_reads_in_the_readers_language(world, client_for, actor_language):
    """The history's reasons were stored in the language of whoever acted: Chinese on
    the English call screen (or English on the Chinese one)."""
    lead = high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)
    with translation.override(actor_language):
        referral = referral_services.referral_create(actor=world.advisor_a, lead=lead, needs_summary="50 万到期")
        referral_services.referral_reject(actor=world.manager_x, referral=referral, reason=RejectReason.UNREACHABLE)
    with translation.override("en"):
        unreachable = str(RejectReason.UNREACHABLE.label)
    rejected = LeadTransition.objects.filter(lead=lead).latest("occurred_at")
    assert rejected.reason_en == f"Branch rejected the referral: {unreachable}"
    assert rejected.reason.startswith("支行拒绝了转介") and not CJK.search(rejected.reason_en)
    client = client_for(world.advisor_a)
    client.cookies["django_language"] = "en"
    english = client.get(reverse("calls:call", args=[lead.pk])).content.decode()
    assert rejected.reason_en in english and rejected.reason not in english
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(reverse("calls:call", args=[lead.pk])).content.decode()
    assert rejected.reason in chinese and rejected.reason_en not in chinese


def test_lead_reasons_follow_the_readers_language(client_for, world):
    lead = LeadFactory(
        team=world.team_a,
        owner=world.advisor_a,
        reasons=[
            {"code": "aum_inflow", "text": "近 90 天资产增长 12%", "text_en": "AUM growth of 12% in the last 90 days"}
        ],
    )
    client = client_for(world.advisor_a)
    assert "近 90 天资产增长 12%" in client.get(reverse("calls:call", args=[lead.pk])).content.decode()
    client.cookies["django_language"] = "en"
    html = client.get(reverse("calls:call", args=[lead.pk])).content.decode()
    assert "AUM growth of 12% in the last 90 days" in html and "资产增长" not in html


def test_the_scorer_writes_reasons_in_both_languages():
    reasons = top_reasons(
        np.array([1.2]),
        [("inflow", "aum_change_90d", "aum_change_90d")],
        lambda f: 0.2,
        _templates(),
        None,
        _templates("en"),
    )
    assert reasons[0]["text"] != reasons[0]["text_en"] and "20" in reasons[0]["text_en"]


@pytest.mark.parametrize(
    ("code", "value"),
    [
        ("aum_change_30d", None),
        ("aum_change_90d", None),
        ("aum", None),
        ("age", None),
        ("tier", "unheard_of"),
        ("city", "上海"),
        ("holdings_count", 2.5e7),
        ("days_to_next_maturity", None),
    ],
)
def test_a_reason_in_english_has_no_chinese_but_the_customers_own_values(code, value):
    """Unknown values, features' names and large numbers were written in Chinese into
    the English reason too (近 90 天资产变化：未知)."""
    english = phrase(code, value, _templates("en"))
    chinese = phrase(code, value, _templates())
    assert not CJK.search(english.replace("上海", "")), english
    assert CJK.search(chinese) and english != chinese


def test_the_demo_writes_every_reason_in_both_languages(world):
    call_command("seed_demo", customers=40, seed=5, stdout=StringIO())
    reasons = [r for row in Lead.objects.values_list("reasons", flat=True) for r in row]
    assert reasons and all(r.get("text_en") and not CJK.search(r["text_en"]) for r in reasons)
