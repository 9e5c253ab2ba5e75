"""Pairs of figures that once disagreed on the pages an advisor works from."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from calls import services
from calls.tests.factories import disposition
from customers.models import Channel, Direction, Interaction
from customers.tests.factories import CustomerFactory, InteractionFactory
from leads.tests.factories import LeadFactory
from referrals import services as referral_services
from referrals.tests.factories import high_lead
from scoring.features import features_for_customer
from scoring.reasons import _templates, phrase

pytestmark = pytest.mark.django_db


def test_one_ai_conversation_has_one_round_count_everywhere(world, client_for):
    """The portrait said 14 (every turn, the bot's too), the lead's reason 5: a round is
    now one thing the customer said, on the portrait, the call screen and the reason."""
    customer = CustomerFactory(owner=world.advisor_a)
    turns = [{"speaker": "bot", "text": "您好"}]
    for q in ("最近有什么稳健的理财？", "收益多少？", "起购金额是多少"):
        turns += [{"speaker": "customer", "text": q}, {"speaker": "bot", "text": "好的"}]
    InteractionFactory(
        customer=customer,
        channel=Channel.AI_BOT,
        direction=Direction.INBOUND,
        transcript=turns,
        intents=["ask_wealth_product"],
        occurred_at=timezone.now() - dt.timedelta(days=2),
    )
    lead = LeadFactory(team=world.team_a, customer=customer, owner=world.advisor_a)
    client = client_for(world.advisor_a)
    portrait = client.get(reverse("customers:tab", args=[customer.pk, "interactions"])).content.decode()
    call = client.get(reverse("calls:call", args=[lead.pk])).content.decode()
    assert 'data-rounds="3"' in portrait and "3 轮对话" in portrait
    assert 'data-rounds="3"' in call and "3 轮对话" in call
    rounds = features_for_customer(customer_id=customer.pk, as_of=timezone.now())["ai_rounds"]
    assert rounds == 3
    assert phrase("ai_rounds", rounds, _templates()) == "近 90 天与 AI 助手对话 3 轮"


def _log(world, lead, at, key, **kw):
    entry = {"idempotency_key": key, "disposition": disposition("effective"), "started_at": at, **kw}
    return services.call_log_create(
        actor=world.advisor_a, lead=lead, entry=services.CallEntry(**entry), now=at + dt.timedelta(minutes=5)
    )


def test_lead_history_lists_each_call_once_and_a_service_call_with_its_reason(
    world, client_for, callable_customer, at_noon
):
    lead = LeadFactory(team=world.team_a, customer=callable_customer, owner=world.advisor_a)
    marketing, _ = _log(world, lead, at_noon, "m-1")
    service, _ = _log(
        world, lead, at_noon + dt.timedelta(minutes=30), "s-1", purpose="service", service_reason="挂失后补卡进度"
    )
    html = client_for(world.advisor_a).get(reverse("calls:call", args=[lead.pk])).content.decode()
    history = html[html.index('data-testid="past-calls"') :]
    history = history[: history.index("</ul>")]
    assert history.count("<li") == 2  # two calls, each once (not again as a phone contact)
    assert f'data-call="{service.pk}" data-purpose="service"' in history and "挂失后补卡进度" in history
    assert f'data-call="{marketing.pk}" data-purpose="marketing"' in history
    assert "服务外呼" in history and "营销外呼" in history
    timeline = Interaction.objects.get(pk=service.interaction_id).summary
    assert "挂失后补卡进度" in timeline


def test_last_contact_and_the_contact_list_agree(world, client_for):
    customer = CustomerFactory(owner=world.advisor_a, last_contact_at=timezone.now() - dt.timedelta(days=5))
    lead = LeadFactory(team=world.team_a, customer=customer, owner=world.advisor_a)
    html = client_for(world.advisor_a).get(reverse("calls:call", args=[lead.pk])).content.decode()
    # No interaction rows but a last contact on record: the list says so instead of "no contact yet".
    assert "尚无联系记录" not in html
    InteractionFactory(customer=customer, channel=Channel.AI_BOT, direction=Direction.INBOUND, summary="AI 咨询")
    html = client_for(world.advisor_a).get(reverse("calls:call", args=[lead.pk])).content.decode()
    assert 'data-testid="no-contact"' not in html and "AI 咨询" in html
    # and the other way round: a listed contact with no recorded last contact
    fresh = CustomerFactory(owner=world.advisor_a, last_contact_at=None)
    InteractionFactory(customer=fresh, channel=Channel.SMS, summary="到期提醒短信")
    other = LeadFactory(team=world.team_a, customer=fresh, owner=world.advisor_a)
    html = client_for(world.advisor_a).get(reverse("calls:call", args=[other.pk])).content.decode()
    last = html[html.index('data-testid="last-contact"') :][:80]
    assert "尚无联系记录" not in last and "到期提醒短信" in html


def test_masking_is_the_same_on_every_page(world, client_for):
    """The list and portrait showed 张**, the queue, call screen and referral pages the full
    name: every page now follows docs/masking.md."""
    lead = high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x, name="欧阳明月", gender="F")
    referral = referral_services.referral_create(actor=world.advisor_a, lead=lead)
    customer = lead.customer
    advisor = client_for(world.advisor_a)
    pages = {
        "queue": advisor.get(reverse("calls:queue") + "?tab=referred").content.decode(),
        "call": advisor.get(reverse("calls:call", args=[lead.pk])).content.decode(),
        "portrait": advisor.get(reverse("customers:detail", args=[customer.pk])).content.decode(),
        "customers": advisor.get(reverse("customers:list")).content.decode(),
    }
    manager = client_for(world.manager_x)
    pages["referrals"] = manager.get(reverse("referrals:list")).content.decode()
    pages["referral"] = manager.get(reverse("referrals:detail", args=[referral.pk])).content.decode()
    for name, html in pages.items():
        assert "欧阳明月" not in html, name
        assert "欧***" in html, name
    assert "欧女士" in pages["call"] and "欧女士" in pages["referral"]
