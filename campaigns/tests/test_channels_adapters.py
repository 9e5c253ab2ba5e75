"""The adapters for real: e-mail against a local SMTP server, the signed webhook against a
local HTTP gateway (signature, idempotency key, 4xx/5xx/timeouts), and the outbox."""

from __future__ import annotations

import datetime as dt
import json
import time
from email.header import decode_header, make_header

import pytest
from django.utils import timezone

from campaigns.channels import webhook
from campaigns.channels.dispatch import messages_dispatch
from campaigns.models import MessageStatus

from .channel_servers import GatewayServer, SmtpServer, make_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    with SmtpServer() as server:
        settings.WORKBENCH_CHANNEL_ADAPTERS = {"email": "smtp"}
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_TIMEOUT = 5
        yield server


@pytest.fixture
def gateway(settings):
    with GatewayServer(secret="s3cret-sms") as server:
        settings.WORKBENCH_CHANNEL_ADAPTERS = {"sms": "webhook", "ai_bot": "webhook"}
        settings.WORKBENCH_CHANNEL_WEBHOOKS = {
            "sms": {"url": server.url, "secret": "s3cret-sms"},
            "ai_bot": {"url": server.url, "secret": "s3cret-sms"},
        }
        settings.WORKBENCH_WEBHOOK_TIMEOUT_SECONDS = 0.3
        yield server


# --- e-mail over SMTP ------------------------------------------------------------------------


def test_email_goes_through_smtp_with_its_message_id(smtp):
    message = make_message(channel="email", recipient="zhang@example.com", subject="到期提醒")
    counts = messages_dispatch()
    assert counts.sent == 1
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.adapter == "smtp" and message.attempts == 1
    [received] = smtp.received
    assert received["to"] == ["zhang@example.com"]
    mail = received["message"]
    assert mail["Message-ID"].strip("<>") == message.external_id
    assert mail["X-Workbench-Message-Key"] == message.key
    assert str(make_header(decode_header(mail["Subject"]))) == "到期提醒"
    assert "理财产品将于5月20日到期" in mail.get_payload(decode=True).decode()


def test_a_refused_recipient_fails_for_good(smtp):
    message = make_message(channel="email", recipient="bounce@example.com")
    messages_dispatch()
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED
    assert "550" in message.last_error and message.attempts == 1
    assert smtp.received == []


def test_a_busy_mail_server_is_tried_again_later(smtp):
    message = make_message(channel="email", recipient="busy@example.com")
    before = timezone.now()
    messages_dispatch()
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and "451" in message.last_error
    assert message.send_after > before + dt.timedelta(seconds=10)


def test_an_unreachable_mail_server_is_transient(settings):
    settings.WORKBENCH_CHANNEL_ADAPTERS = {"email": "smtp"}
    with SmtpServer() as closed:
        port = closed.port
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 1
    message = make_message(channel="email", recipient="zhang@example.com")
    messages_dispatch()
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and message.last_error


def test_a_recipient_that_is_no_address_fails_without_a_connection(smtp):
    message = make_message(channel="email", recipient="13812345678")
    messages_dispatch()
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.last_error
    assert smtp.received == []


# --- the signed webhook -----------------------------------------------------------------------


def test_webhook_sends_signed_json_with_the_idempotency_key(gateway):
    message = make_message(channel="sms", recipient="13812345678")
    messages_dispatch()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT and message.adapter == "webhook"
    assert message.external_id == "gw-1"
    [request] = gateway.requests
    assert request["signature_valid"]
    headers = request["headers"]
    assert headers[webhook.IDEMPOTENCY_HEADER] == message.key
    assert headers["Content-Type"].startswith("application/json")
    body = json.loads(request["body"])
    assert body == {
        "key": message.key,
        "channel": "sms",
        "recipient": "13812345678",
        "subject": "",
        "text": message.body,
        "campaign": None,
    }


def test_the_signature_covers_timestamp_and_body_with_the_gateway_secret():
    body = b'{"key":"k1","text":"\xe6\x82\xa8\xe5\xa5\xbd"}'
    now = time.time()
    ts = str(int(now))
    signature = webhook.sign(secret="s3cret", timestamp=ts, body=body)
    assert signature.startswith("sha256=") and len(signature) == len("sha256=") + 64
    assert webhook.signature_valid(secret="s3cret", timestamp=ts, body=body, signature=signature, now=now)
    assert not webhook.signature_valid(secret="other", timestamp=ts, body=body, signature=signature, now=now)
    assert not webhook.signature_valid(secret="s3cret", timestamp=ts, body=body + b" ", signature=signature, now=now)
    assert not webhook.signature_valid(
        secret="s3cret", timestamp=str(int(now) + 1), body=body, signature=signature, now=now
    )
    # an old timestamp is refused even with a matching signature (replay)
    assert not webhook.signature_valid(secret="s3cret", timestamp=ts, body=body, signature=signature, now=now + 301)
    assert not webhook.signature_valid(secret="s3cret", timestamp="soon", body=body, signature=signature, now=now)


def test_a_gateway_with_another_secret_refuses_and_we_try_again(gateway, settings):
    settings.WORKBENCH_CHANNEL_WEBHOOKS = {"sms": {"url": gateway.url, "secret": "wrong"}}
    message = make_message(channel="sms")
    messages_dispatch()
    message.refresh_from_db()
    # 401 is a 4xx: the message fails, and says why
    assert message.status == MessageStatus.FAILED and "401" in message.last_error
    assert gateway.requests[0]["signature_valid"] is False


def test_5xx_is_retried_with_growing_backoff_until_it_goes_through(gateway):
    gateway.script = [503, 500]
    message = make_message(channel="sms")
    now = timezone.now()
    delays = []
    for _ in range(3):
        messages_dispatch(now=now)
        message.refresh_from_db()
        if message.status == MessageStatus.QUEUED:
            delays.append((message.send_after - now).total_seconds())
            now = message.send_after
    assert message.status == MessageStatus.SENT and message.attempts == 3 and message.last_error == ""
    assert len(gateway.requests) == 3
    assert {r["headers"][webhook.IDEMPOTENCY_HEADER] for r in gateway.requests} == {message.key}
    # base 30 s: the first wait in [15, 30], the second in [30, 60]
    assert 15 <= delays[0] <= 30 and 30 <= delays[1] <= 60


def test_4xx_fails_at_once(gateway):
    gateway.script = [422]
    message = make_message(channel="sms")
    counts = messages_dispatch()
    message.refresh_from_db()
    assert counts.failed == 1 and message.status == MessageStatus.FAILED
    assert message.attempts == 1 and "422" in message.last_error
    assert messages_dispatch().claimed == 0


@pytest.mark.parametrize("code", [408, 429])
def test_the_4xx_that_mean_later_are_transient(gateway, code):
    gateway.script = [code]
    message = make_message(channel="sms")
    messages_dispatch()
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and str(code) in message.last_error


def test_a_timeout_is_transient(gateway):
    gateway.script = ["slow"]
    gateway.slow_seconds = 1.0
    message = make_message(channel="sms")
    messages_dispatch()
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and message.attempts == 1
    assert message.last_error


def test_after_the_last_attempt_the_message_fails(gateway, settings):
    settings.WORKBENCH_CHANNEL_MAX_ATTEMPTS = 2
    gateway.script = [500, 500, 500]
    message = make_message(channel="sms")
    now = timezone.now()
    messages_dispatch(now=now)
    message.refresh_from_db()
    messages_dispatch(now=message.send_after)
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.attempts == 2
    assert "500" in message.last_error and "2" in message.last_error


def test_an_unconfigured_gateway_is_transient_and_says_so(settings):
    settings.WORKBENCH_CHANNEL_ADAPTERS = {"wechat": "webhook"}
    settings.WORKBENCH_CHANNEL_WEBHOOKS = {}
    message = make_message(channel="wechat", recipient="o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
    messages_dispatch()
    message.refresh_from_db()
    assert message.status == MessageStatus.QUEUED and message.last_error


# --- the outbox ---------------------------------------------------------------------------------


def test_by_default_every_channel_goes_to_the_outbox(settings):
    settings.WORKBENCH_CHANNEL_ADAPTERS = {}
    messages = [make_message(channel=c) for c in ("sms", "app_push", "wechat", "email", "ai_bot")]
    assert messages_dispatch().sent == 5
    for message in messages:
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT and message.adapter == "outbox"
        assert message.external_id == f"outbox-{message.pk}"
