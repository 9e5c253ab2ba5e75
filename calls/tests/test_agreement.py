"""Pairs of figures that once disagreed on the pages an advisor works from."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import Channel, Direction
from customers.tests.factories import CustomerFactory, InteractionFactory
from leads.tests.factories import LeadFactory
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
