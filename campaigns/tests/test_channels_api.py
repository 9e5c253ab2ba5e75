"""The gateways' API: receipts, replies, clicks and AI-bot sessions; idempotent, restricted
to clients with the channels scope, 400 with a clear message on bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from campaigns.models import CampaignStatus, CampaignStep, MessageStatus, StepKind
from campaigns.services import journey
from campaigns.tests.factories import approved_script, make_campaign
from core.models import AuditEvent
from customers.models import Direction, IntegrationClient, Interaction
from leads.models import Lead, LeadSource, LeadStatus
from org.tests.factories import UserFactory

from .channel_servers import make_message

pytestmark = pytest.mark.django_db

RECEIPTS = "/api/channels/receipts/"
SESSIONS = "/api/channels/bot-sessions/"


def client_with(scopes):
    user = UserFactory()
    IntegrationClient.objects.create(name=f"gateway-{user.pk}", user=user, scopes=scopes)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return api


@pytest.fixture
def gateway():
    return client_with(["channels:write"])


def _sent(**fields):
    fields.setdefault("status", MessageStatus.SENT)
    fields.setdefault("external_id", f"gw-{timezone.now().timestamp()}")
    fields.setdefault("sent_at", timezone.now() - dt.timedelta(minutes=5))
    return make_message(**fields)


def _at(minutes_ago=1):
    return (timezone.now() - dt.timedelta(minutes=minutes_ago)).isoformat()


def test_routes_are_mounted_where_the_docs_say():
    assert reverse("api-channel-receipts") == RECEIPTS
    assert reverse("api-channel-bot-sessions") == SESSIONS


def test_a_delivery_receipt_marks_the_message_once(gateway):
    message = _sent()
    body = {"external_id": message.external_id, "event": "delivered", "occurred_at": _at()}
    first = gateway.post(RECEIPTS, body, format="json")
    assert first.status_code == 200 and first.json() == {"message": message.pk, "status": "delivered", "changed": True}
    message.refresh_from_db()
    delivered_at = message.delivered_at
    assert message.status == MessageStatus.DELIVERED and delivered_at is not None
    assert AuditEvent.objects.filter(verb="message.receipt", target_id=str(message.pk)).count() == 1

    again = gateway.post(RECEIPTS, {**body, "occurred_at": _at(0)}, format="json")
    assert again.status_code == 200 and again.json()["changed"] is False
    message.refresh_from_db()
    assert message.delivered_at == delivered_at
    assert AuditEvent.objects.filter(verb="message.receipt").count() == 1


def test_a_failure_receipt_keeps_its_reason_and_cannot_undo_a_delivery(gateway):
    failing = _sent()
    answer = gateway.post(
        RECEIPTS,
        {"external_id": failing.external_id, "event": "failed", "occurred_at": _at(), "error": "空号"},
        format="json",
    )
    assert answer.status_code == 200
    failing.refresh_from_db()
    assert failing.status == MessageStatus.FAILED and failing.last_error == "空号"

    delivered = _sent(status=MessageStatus.DELIVERED, delivered_at=timezone.now())
    refused = gateway.post(
        RECEIPTS, {"external_id": delivered.external_id, "event": "failed", "occurred_at": _at()}, format="json"
    )
    assert refused.status_code == 400 and "event" in refused.json()
    delivered.refresh_from_db()
    assert delivered.status == MessageStatus.DELIVERED


def test_a_reply_is_an_inbound_interaction_and_proves_delivery(gateway):
    message = _sent()
    body = {"external_id": message.external_id, "event": "replied", "occurred_at": _at(), "text": "好的，请联系我"}
    assert gateway.post(RECEIPTS, body, format="json").json()["changed"] is True
    assert gateway.post(RECEIPTS, body, format="json").json()["changed"] is False
    message.refresh_from_db()
    assert message.replied_at and message.delivered_at and message.status == MessageStatus.DELIVERED
    [reply] = Interaction.objects.filter(customer=message.customer)
    assert reply.direction == Direction.INBOUND and reply.summary == "好的，请联系我" and reply.channel == "sms"


def test_a_click_is_recorded_once(gateway):
    message = _sent()
    body = {"external_id": message.external_id, "event": "clicked", "occurred_at": _at()}
    assert gateway.post(RECEIPTS, body, format="json").json()["changed"] is True
    message.refresh_from_db()
    clicked_at = message.clicked_at
    assert gateway.post(RECEIPTS, {**body, "occurred_at": _at(0)}, format="json").json()["changed"] is False
    message.refresh_from_db()
    assert message.clicked_at == clicked_at is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "external_id"),
        ({"external_id": "EXT", "event": "opened", "occurred_at": "2026-11-20T10:00:00+08:00"}, "event"),
        ({"external_id": "EXT", "event": "delivered", "occurred_at": "yesterday"}, "occurred_at"),
        ({"external_id": "EXT", "event": "delivered", "occurred_at": "2026-11-20T10:00:00"}, "occurred_at"),
        ({"external_id": "EXT", "event": "delivered", "occurred_at": "2026-13-01T10:00:00+08:00"}, "occurred_at"),
        ({"external_id": "EXT", "event": "delivered", "occurred_at": "2099-01-01T10:00:00+08:00"}, "occurred_at"),
        ({"external_id": "nobody", "event": "delivered", "occurred_at": "2026-11-20T10:00:00+08:00"}, "external_id"),
        ({"external_id": "x" * 101, "event": "delivered", "occurred_at": "2026-11-20T10:00:00+08:00"}, "external_id"),
    ],
)
def test_bad_receipts_are_400_and_change_nothing(gateway, body, field):
    message = _sent(external_id="EXT")
    answer = gateway.post(RECEIPTS, body, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400, answer.content
    assert field in answer.json() and all(answer.json()[field])
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.delivered_at is None
    assert not AuditEvent.objects.filter(verb="message.receipt").exists()


def test_when_two_gateways_share_an_id_the_channel_tells_them_apart(gateway):
    sms = _sent(channel="sms", external_id="10001")
    wechat = _sent(channel="wechat", recipient="o6_bmjrPTlm6_2sgVt7hMZOPfL2M", external_id="10001")
    body = {"external_id": "10001", "event": "delivered", "occurred_at": _at()}
    ambiguous = gateway.post(RECEIPTS, body, format="json")
    assert ambiguous.status_code == 400 and "external_id" in ambiguous.json()
    assert gateway.post(RECEIPTS, {**body, "channel": "wechat"}, format="json").json()["message"] == wechat.pk
    sms.refresh_from_db()
    wechat.refresh_from_db()
    assert (sms.status, wechat.status) == (MessageStatus.SENT, MessageStatus.DELIVERED)
    assert gateway.post(RECEIPTS, {**body, "channel": "phone"}, format="json").status_code == 400


def test_a_body_that_is_no_object_or_no_json_is_400(gateway):
    assert gateway.post(RECEIPTS, [1, 2], format="json").status_code == 400
    assert gateway.post(RECEIPTS, "{not json", content_type="application/json").status_code == 400


def test_the_unknown_time_zone_message_is_in_the_callers_language(gateway):
    message = _sent(external_id="EXT-ZH")
    answer = gateway.post(
        RECEIPTS,
        {"external_id": message.external_id, "event": "delivered", "occurred_at": "2099-01-01T10:00:00+08:00"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert answer.status_code == 400
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answer.json()["occurred_at"][0])


@pytest.mark.parametrize("url", [RECEIPTS, SESSIONS])
def test_only_gateway_clients_with_the_scope_may_report(world, client, url):
    assert APIClient().post(url, {}, format="json").status_code in (401, 403)
    assert client_with(["interactions:write"]).post(url, {}, format="json").status_code == 403
    inactive = client_with(["channels:write"])
    IntegrationClient.objects.filter(scopes=["channels:write"]).update(active=False)
    assert inactive.post(url, {}, format="json").status_code == 403
    for user in (world.campaigner, world.advisor_a, world.compliance):
        api = APIClient()
        api.force_authenticate(user)
        assert api.post(url, {}, format="json").status_code == 403
    admin = APIClient()
    admin.force_authenticate(world.admin)
    assert admin.post(url, {}, format="json").status_code == 400  # allowed, and the body is empty


# --- AI-bot sessions ----------------------------------------------------------------------------


def _bot_message(world, *, lead_intents=("ask_fund",)):
    campaign = make_campaign(world, status=CampaignStatus.RUNNING, name="长尾客户智能外呼")
    step = CampaignStep.objects.create(
        campaign=campaign, position=2, kind=StepKind.SEND, channel="ai_bot", lead_intents=list(lead_intents)
    )
    return _sent(channel="ai_bot", campaign=campaign, step=step, external_id=f"BOT-CALL-{campaign.pk}")


def _session(message, **overrides):
    return {
        "external_id": message.external_id,
        "session_id": f"S-{message.pk}",
        "started_at": _at(3),
        "summary": "客户咨询基金定投",
        "turns": [
            {"speaker": "bot", "text": "您好，我是光大银行智能助理。"},
            {"speaker": "customer", "text": "我想了解一下基金定投。"},
        ],
        "intents": ["ask_fund", "maturity"],
        **overrides,
    }


def test_a_bot_session_becomes_an_interaction_and_by_the_rule_a_lead(world, gateway):
    message = _bot_message(world)
    answer = gateway.post(SESSIONS, _session(message), format="json")
    assert answer.status_code == 201, answer.content
    data = answer.json()
    interaction = Interaction.objects.get(pk=data["interaction"])
    assert interaction.customer_id == message.customer_id and interaction.channel == "ai_bot"
    assert interaction.intents == ["ask_fund", "maturity"] and interaction.rounds == 1
    assert interaction.external_id == f"S-{message.pk}"
    lead = Lead.objects.get(pk=data["lead"])
    assert (lead.customer_id, lead.source, lead.status) == (message.customer_id, LeadSource.CAMPAIGN, LeadStatus.NEW)
    assert lead.reasons[0]["intents"] == ["ask_fund"] and "长尾客户智能外呼" in lead.reasons[0]["text"]
    message.refresh_from_db()
    assert message.replied_at is not None and message.status == MessageStatus.DELIVERED
    assert AuditEvent.objects.filter(verb="message.bot_session", target_id=str(message.pk)).count() == 1

    again = gateway.post(SESSIONS, _session(message), format="json")
    assert again.status_code == 200 and again.json() == {**data, "created": False, "lead": None}
    assert Interaction.objects.count() == 1 and Lead.objects.count() == 1
    assert AuditEvent.objects.filter(verb="message.bot_session").count() == 1


def test_a_session_without_an_intent_of_interest_opens_no_lead(world, gateway):
    message = _bot_message(world, lead_intents=["ask_human"])
    answer = gateway.post(SESSIONS, _session(message), format="json")
    assert answer.status_code == 201 and answer.json()["lead"] is None
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"turns": []}, "turns"),
        ({"turns": [{"speaker": "robot", "text": "hi"}]}, "turns"),
        ({"started_at": "2026-11-20T10:00:00"}, "started_at"),
        ({"external_id": "unknown"}, "external_id"),
        ({"intents": "ask_fund"}, "intents"),
    ],
)
def test_bad_sessions_are_400_and_change_nothing(world, gateway, change, field):
    message = _bot_message(world)
    answer = gateway.post(SESSIONS, _session(message, **change), format="json")
    assert answer.status_code == 400 and field in answer.json(), answer.content
    assert not Interaction.objects.exists() and not Lead.objects.exists()


def test_a_session_for_an_sms_message_is_refused(world, gateway):
    message = _sent(channel="sms", external_id="SMS-1")
    answer = gateway.post(SESSIONS, _session(message), format="json")
    assert answer.status_code == 400 and "external_id" in answer.json()
    assert not Interaction.objects.exists()


# --- the lead rule on a step ------------------------------------------------------------------


def test_a_campaign_manager_names_the_intents_on_an_ai_bot_step(world, client_for):
    campaign = make_campaign(world, author=world.campaigner)
    script = approved_script(world)
    answer = client_for(world.campaigner).post(
        reverse("campaigns:step_add", args=[campaign.pk]),
        {"kind": "send", "channel": "ai_bot", "script": script.pk, "lead_intents": "ask_fund，ask_human, maturity"},
    )
    assert answer.status_code == 302
    step = CampaignStep.objects.get(campaign=campaign, channel="ai_bot")
    assert step.lead_intents == ["ask_fund", "ask_human", "maturity"]
    event = AuditEvent.objects.filter(verb="campaign.add_step").latest("pk")
    assert event.details["lead_intents"] == ["ask_fund", "ask_human", "maturity"]
    page = client_for(world.campaigner).get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert 'data-testid="step-lead-intents"' in page and "ask_fund、ask_human、maturity" in page


@pytest.mark.parametrize(
    ("fields", "intents"),
    [({"kind": "send", "channel": "sms"}, ["ask_fund"]), ({"kind": "send", "channel": "ai_bot"}, ["x" * 51])],
)
def test_the_lead_rule_is_refused_where_it_cannot_apply(world, fields, intents):
    campaign = make_campaign(world, author=world.campaigner)
    before = CampaignStep.objects.count()
    with pytest.raises(ValidationError) as refused:
        journey.journey_step_add(
            actor=world.campaigner, campaign=campaign, script=approved_script(world), lead_intents=intents, **fields
        )
    assert "lead_intents" in refused.value.message_dict
    assert CampaignStep.objects.count() == before
