"""The dispatcher: what is due, claiming, idempotency, killed-worker recovery, the ledger,
the audit trail, backoff and the Celery task."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone

from campaigns.channels import dispatch
from campaigns.channels.base import recipient_masked
from campaigns.channels.dispatch import messages_dispatch, retry_delay
from campaigns.models import CampaignStatus, Message, MessageStatus
from campaigns.tasks import dispatch_messages
from campaigns.tests.factories import make_campaign
from core.models import AuditEvent
from customers.models import ContactLedgerEntry, LedgerSource, LedgerStatus

from .channel_servers import GatewayServer, make_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def gateway(settings):
    with GatewayServer(secret="k") as server:
        settings.WORKBENCH_CHANNEL_ADAPTERS = {"sms": "webhook"}
        settings.WORKBENCH_CHANNEL_WEBHOOKS = {"sms": {"url": server.url, "secret": "k"}}
        settings.WORKBENCH_WEBHOOK_TIMEOUT_SECONDS = 2
        yield server


def _ledger_entry(customer, key):
    return ContactLedgerEntry.objects.create(
        customer=customer,
        channel="sms",
        status=LedgerStatus.RESERVED,
        source=LedgerSource.CAMPAIGN,
        slot_at=timezone.now(),
        key=key,
    )


def test_run_twice_sends_once(gateway):
    messages = [make_message() for _ in range(3)]
    first = messages_dispatch()
    second = messages_dispatch()
    assert (first.sent, second.claimed) == (3, 0)
    assert len(gateway.requests) == 3
    for message in messages:
        message.refresh_from_db()
        assert message.status == MessageStatus.SENT and message.attempts == 1


def test_the_task_run_twice_sends_once(gateway):
    message = make_message()
    assert dispatch_messages(message_ids=[message.pk])["sent"] == 1
    assert dispatch_messages(message_ids=[message.pk])["claimed"] == 0
    assert len(gateway.requests) == 1


def test_ids_send_only_those(settings):
    settings.WORKBENCH_CHANNEL_ADAPTERS = {}
    chosen, other = make_message(), make_message()
    assert messages_dispatch(ids=[chosen.pk]).sent == 1
    chosen.refresh_from_db()
    other.refresh_from_db()
    assert chosen.status == MessageStatus.SENT and other.status == MessageStatus.QUEUED


def test_only_due_messages_of_unpaused_campaigns_go(world):
    later = make_message(send_after=timezone.now() + dt.timedelta(hours=2))
    held = make_message(status=MessageStatus.HELD)  # its window has opened (send_after passed)
    paused = make_message(campaign=make_campaign(world, status=CampaignStatus.PAUSED))
    running = make_message(campaign=make_campaign(world, status=CampaignStatus.RUNNING))
    done = make_message(status=MessageStatus.CANCELLED)
    messages_dispatch()
    for message in (later, held, paused, running, done):
        message.refresh_from_db()
    status = {m.pk: m.status for m in (later, held, paused, running, done)}
    assert status == {
        later.pk: MessageStatus.QUEUED,
        held.pk: MessageStatus.SENT,
        paused.pk: MessageStatus.QUEUED,
        running.pk: MessageStatus.SENT,
        done.pk: MessageStatus.CANCELLED,
    }


def test_a_message_left_sending_by_a_killed_worker_is_sent_again_after_the_lease(gateway, settings):
    message = make_message()
    now = timezone.now()
    # A worker claims the message, sends it and is killed before it records the answer.
    [claimed] = dispatch._claim(now=now, ids=None, chunk=10)
    dispatch.WebhookAdapter().send(claimed)
    message.refresh_from_db()
    assert message.status == MessageStatus.SENDING and message.attempts == 1

    # Within the lease nobody touches it.
    assert messages_dispatch(now=now + dt.timedelta(seconds=10)).claimed == 0
    # After it, the next run sends it again under the same key; the gateway delivers once.
    lease = settings.WORKBENCH_CHANNEL_SENDING_LEASE_SECONDS
    counts = messages_dispatch(now=now + dt.timedelta(seconds=lease + 1))
    message.refresh_from_db()
    assert counts.sent == 1 and message.status == MessageStatus.SENT and message.attempts == 2
    assert [r["headers"]["Idempotency-Key"] for r in gateway.requests] == [message.key, message.key]
    assert gateway.delivered == {message.key: "gw-1"} and message.external_id == "gw-1"


def test_a_run_out_of_time_puts_the_rest_back_uncounted(settings):
    settings.WORKBENCH_CHANNEL_ADAPTERS = {}
    messages = [make_message() for _ in range(3)]
    claimed = dispatch._claim(now=timezone.now(), ids=None, chunk=10)
    outcomes = dispatch._send_all(claimed, deadline=0)  # the time is up before the first
    dispatch._record(outcomes, now=timezone.now())
    for message in messages:
        message.refresh_from_db()
        assert message.status == MessageStatus.QUEUED and message.attempts == 0


def test_sent_uses_the_ledger_slot_and_a_failure_gives_it_back(gateway):
    gateway.script = [200, 400]
    ok, bad = make_message(), make_message()
    for message in (ok, bad):
        message.ledger_entry_id = _ledger_entry(message.customer, f"ledger-{message.key}").pk
        message.save(update_fields=["ledger_entry_id"])
    messages_dispatch()
    statuses = dict(ContactLedgerEntry.objects.values_list("pk", "status"))
    assert statuses == {ok.ledger_entry_id: LedgerStatus.USED, bad.ledger_entry_id: LedgerStatus.RELEASED}


def test_each_chunk_is_audited_with_what_happened(gateway):
    gateway.script = [200, 400, 503]
    messages = [make_message() for _ in range(3)]
    messages_dispatch()
    [event] = AuditEvent.objects.filter(verb="message.dispatch")
    assert event.details == {"sent": [messages[0].pk], "failed": [messages[1].pk], "retried": [messages[2].pk]}
    assert messages_dispatch().claimed == 0
    assert AuditEvent.objects.filter(verb="message.dispatch").count() == 1


def test_chunks_cover_everything_due(settings):
    settings.WORKBENCH_CHANNEL_ADAPTERS = {}
    for _ in range(7):
        make_message()
    counts = messages_dispatch(chunk=3)
    assert (counts.claimed, counts.sent) == (7, 7)
    assert AuditEvent.objects.filter(verb="message.dispatch").count() == 3


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 12])
def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings, attempt):
    settings.WORKBENCH_CHANNEL_RETRY_BASE_SECONDS = 10
    settings.WORKBENCH_CHANNEL_RETRY_MAX_SECONDS = 600
    ceiling = min(600, 10 * 2 ** (attempt - 1))
    delays = {retry_delay(attempt).total_seconds() for _ in range(50)}
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len(delays) > 1  # jittered, not one fixed value


def test_dispatch_is_on_the_beat_schedule():
    entry = django_settings.CELERY_BEAT_SCHEDULE["campaigns-dispatch-messages"]
    assert entry["task"] == dispatch_messages.name == "campaigns.dispatch_messages"


@pytest.mark.parametrize(
    ("recipient", "shown"),
    [
        ("13812345678", "138****5678"),
        ("zhang.san@example.com", "z***@example.com"),
        ("o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "o6" + "*" * 24 + "2M"),
        ("", "—"),
    ],
)
def test_recipients_are_masked(recipient, shown):
    assert recipient_masked(recipient) == shown


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SKIP LOCKED is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_side_by_side_workers_claim_different_messages():
    messages = [make_message() for _ in range(4)]
    claimed_by_other: list[int] = []

    def other_worker():
        try:
            claimed_by_other.extend(m.pk for m in dispatch._claim(now=timezone.now(), ids=None, chunk=10))
        finally:
            connection.close()

    with transaction.atomic():
        # This worker is in the middle of claiming the first two.
        list(Message.objects.select_for_update().filter(pk__in=[m.pk for m in messages[:2]]))
        thread = threading.Thread(target=other_worker)
        thread.start()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert sorted(claimed_by_other) == sorted(m.pk for m in messages[2:])
