"""Dispatch: send the messages that are due, through each channel's adapter.

A run claims due messages in chunks (``SELECT … FOR UPDATE SKIP LOCKED``, so workers
running side by side take different rows and never wait on each other), marks them
*sending* and counts the attempt, commits, sends each one outside any transaction (a
gateway's latency never holds a row lock), then records every outcome of the chunk in
one transaction with its audit event:

- sent → *sent*, with the adapter, the gateway's id and the time; the ledger slot is used;
- a transient error → back to *queued* with ``send_after`` moved by the backoff (the
  retry is a rescheduled row, no worker sleeps), until ``WORKBENCH_CHANNEL_MAX_ATTEMPTS``;
- a permanent error, or the last attempt → *failed*, the ledger slot given back.

``last_error`` keeps the reason in words. While a message is *sending*, ``send_after``
holds the end of its lease: a worker killed mid-send leaves it *sending*, and once the
lease is over the next run claims it again; the gateway's idempotency key (the
message's key) makes that second send safe. A run twice over the same ids sends each
message once: a sent message is no longer due.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from customers.services.ledger import ledger_mark_used, ledger_release

from ..models import Campaign, CampaignStatus, Message, MessageStatus
from .base import Adapter, PermanentError, TransientError, adapter_name_for
from .outbox import OutboxAdapter
from .smtp import SmtpAdapter
from .webhook import WebhookAdapter

logger = logging.getLogger(__name__)

ADAPTERS: dict[str, type] = {"outbox": OutboxAdapter, "smtp": SmtpAdapter, "webhook": WebhookAdapter}
# Claimable: waiting (queued, or held for the contact window) or sending with its lease over.
CLAIMABLE = (MessageStatus.QUEUED, MessageStatus.HELD, MessageStatus.SENDING)
_jitter = secrets.SystemRandom()


@dataclass
class DispatchCounts:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0


@dataclass
class _Outcomes:
    sent: dict[int, tuple[str, str]] = field(default_factory=dict)  # pk -> (adapter, external id)
    retried: dict[int, tuple[str, dt.timedelta]] = field(default_factory=dict)  # pk -> (error, delay)
    failed: dict[int, str] = field(default_factory=dict)  # pk -> error
    unsent: list[int] = field(default_factory=list)  # claimed, but the run's time was up
    adapters: dict[int, str] = field(default_factory=dict)
    ledger: dict[int, int] = field(default_factory=dict)  # pk -> ledger entry id


def retry_delay(attempt: int) -> dt.timedelta:
    """How long to wait after failed attempt ``attempt`` (1, 2, …): base × 2^(attempt-1),
    capped, with "equal jitter" (a random half) so a gateway that was down is not hit
    by every retry in the same second when it comes back."""
    ceiling = min(
        settings.WORKBENCH_CHANNEL_RETRY_MAX_SECONDS,
        settings.WORKBENCH_CHANNEL_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0),
    )
    return dt.timedelta(seconds=ceiling / 2 + _jitter.uniform(0, ceiling / 2))


def messages_due(*, now: dt.datetime):
    """Messages a dispatch run may claim now (not those of a paused campaign)."""
    paused = Campaign.objects.filter(status=CampaignStatus.PAUSED).values("pk")
    return Message.objects.filter(status__in=CLAIMABLE, send_after__lte=now).exclude(campaign_id__in=paused)


def _claim(*, now: dt.datetime, ids, chunk: int) -> list[Message]:
    lease_until = now + dt.timedelta(seconds=settings.WORKBENCH_CHANNEL_SENDING_LEASE_SECONDS)
    with transaction.atomic():
        due = messages_due(now=now)
        if ids is not None:
            due = due.filter(pk__in=ids)
        claimed = list(
            due.select_for_update(skip_locked=True, of=("self",))
            .order_by("send_after", "id")
            .values_list("pk", flat=True)[:chunk]
        )
        if not claimed:
            return []
        Message.objects.filter(pk__in=claimed).update(
            status=MessageStatus.SENDING, send_after=lease_until, attempts=F("attempts") + 1
        )
    return list(
        Message.objects.filter(pk__in=claimed)
        .select_related("campaign")
        .only("pk", "key", "channel", "recipient", "subject", "body", "attempts", "ledger_entry_id", "campaign__code")
        .order_by("send_after", "id")
    )


def _send_all(messages: list[Message], *, deadline: float | None) -> _Outcomes:
    outcomes = _Outcomes()
    adapters: dict[str, Adapter] = {}
    for message in messages:
        if deadline is not None and time.monotonic() > deadline:
            outcomes.unsent.append(message.pk)
            continue
        name = adapter_name_for(message.channel)
        adapter = adapters.get(name) or adapters.setdefault(name, ADAPTERS[name]())
        outcomes.adapters[message.pk] = name
        if message.ledger_entry_id:
            outcomes.ledger[message.pk] = message.ledger_entry_id
        try:
            result = adapter.send(message)
        except PermanentError as exc:
            outcomes.failed[message.pk] = str(exc)
            continue
        except TransientError as exc:
            error = str(exc)
        except Exception:  # a defect in an adapter must not leave the message claimed
            logger.exception("adapter %s failed on message %s", name, message.pk)
            error = _("The adapter failed unexpectedly; see the server log.")
        else:
            outcomes.sent[message.pk] = (name, result.external_id)
            continue
        if message.attempts >= settings.WORKBENCH_CHANNEL_MAX_ATTEMPTS:
            outcomes.failed[message.pk] = _("%(error)s Gave up after %(n)s attempts.") % {
                "error": error,
                "n": message.attempts,
            }
        else:
            outcomes.retried[message.pk] = (error, retry_delay(message.attempts))
    return outcomes


def _case(values: dict[int, str]):
    if len(set(values.values())) == 1:
        return Value(next(iter(values.values())))
    return Case(*(When(pk=pk, then=Value(v)) for pk, v in values.items()))


@transaction.atomic
def _record(outcomes: _Outcomes, *, now: dt.datetime) -> None:
    sending = Message.objects.filter(status=MessageStatus.SENDING)
    if outcomes.sent:
        sending.filter(pk__in=list(outcomes.sent)).update(
            status=MessageStatus.SENT,
            sent_at=now,
            last_error="",
            adapter=_case({pk: a for pk, (a, _x) in outcomes.sent.items()}),
            external_id=_case({pk: x for pk, (_a, x) in outcomes.sent.items()}),
        )
        ledger_mark_used(entry_ids=[outcomes.ledger[pk] for pk in outcomes.sent if pk in outcomes.ledger], at=now)
    for pk, (error, delay) in outcomes.retried.items():
        sending.filter(pk=pk).update(
            status=MessageStatus.QUEUED, send_after=now + delay, last_error=error[:300], adapter=outcomes.adapters[pk]
        )
    by_error: dict[str, list[int]] = defaultdict(list)
    for pk, error in outcomes.failed.items():
        by_error[error].append(pk)
    for error, pks in by_error.items():
        sending.filter(pk__in=pks).update(status=MessageStatus.FAILED, last_error=error[:300])
    if outcomes.failed:
        ledger_release(
            entry_ids=[outcomes.ledger[pk] for pk in outcomes.failed if pk in outcomes.ledger], reason="send_failed"
        )
    if outcomes.unsent:
        # Claimed but not tried: back in the queue, the attempt not counted.
        sending.filter(pk__in=outcomes.unsent).update(
            status=MessageStatus.QUEUED, send_after=now, attempts=F("attempts") - 1
        )
    if outcomes.sent or outcomes.retried or outcomes.failed:
        audit_record(
            actor=None,
            verb="message.dispatch",
            target_type="campaigns.message",
            details={
                "sent": sorted(outcomes.sent),
                "retried": sorted(outcomes.retried),
                "failed": sorted(outcomes.failed),
            },
        )


def messages_dispatch(
    *, ids=None, now: dt.datetime | None = None, budget_seconds: float | None = None, chunk: int | None = None
) -> DispatchCounts:
    """Send the due messages (only ``ids`` among them, when given), chunk by chunk,
    until none is due or ``budget_seconds`` have passed. Safe to run twice and side by
    side. Returns what happened."""
    chunk = chunk or settings.WORKBENCH_CHANNEL_DISPATCH_CHUNK
    deadline = time.monotonic() + budget_seconds if budget_seconds is not None else None
    counts = DispatchCounts()
    ids = list(ids) if ids is not None else None
    while deadline is None or time.monotonic() < deadline:
        at = now or timezone.now()
        messages = _claim(now=at, ids=ids, chunk=chunk)
        if not messages:
            break
        outcomes = _send_all(messages, deadline=deadline)
        _record(outcomes, now=now or timezone.now())
        counts.claimed += len(messages)
        counts.sent += len(outcomes.sent)
        counts.retried += len(outcomes.retried)
        counts.failed += len(outcomes.failed)
        if outcomes.unsent:
            break
    return counts
