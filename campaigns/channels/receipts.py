"""What the gateways report back about a message: delivery receipts, replies, clicks and
AI-bot sessions. Each names the message by the gateway's id for it (``external_id``).

Every report is idempotent: a receipt already applied changes nothing and writes no
audit event, so a gateway may post it again as often as it likes. A change is audited in
its own transaction.

An AI-bot session becomes the customer's :class:`~customers.models.Interaction` (its
transcript and intents, by the customers app's service, idempotent by session id); when
the message's step lists intents of interest (``CampaignStep.lead_intents``, the
campaign's lead rule) and the session reports one, a lead is opened for the customer's
advisor to confirm (by the leads app's service, which keeps one open lead per customer).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from customers.models import Channel, Direction, Interaction
from customers.services.interactions import interaction_record
from leads.models import Grade, Lead
from leads.services import leads_propose

from ..models import Message, MessageStatus


class ReceiptEvent(models.TextChoices):
    DELIVERED = "delivered", gettext_lazy("Delivered")
    FAILED = "failed", gettext_lazy("Failed")
    REPLIED = "replied", gettext_lazy("Replied")
    CLICKED = "clicked", gettext_lazy("Clicked")


@dataclass
class ReceiptResult:
    message: Message
    changed: bool


@dataclass
class BotSessionResult:
    message: Message
    interaction: Interaction
    created: bool
    lead: Lead | None


def _check_time(at: dt.datetime, field: str) -> None:
    if at is None or timezone.is_naive(at):
        raise ValidationError({field: _("The time must include a time zone.")})
    if at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({field: _("The time is in the future.")})


def message_by_external_id(external_id: str, *, channel: str = "") -> Message:
    """The message the gateway knows as ``external_id`` (on ``channel``, when gateways'
    ids may collide), locked for the update."""
    messages = Message.objects.select_for_update().filter(external_id=external_id)
    if channel:
        messages = messages.filter(channel=channel)
    found = list(messages[:2]) if external_id else []
    if not found:
        raise ValidationError({"external_id": _("No message was sent with this gateway id.")})
    if len(found) > 1:
        raise ValidationError({"external_id": _("Several messages carry this gateway id; name the channel too.")})
    return found[0]


def _mark_delivered(message: Message, at: dt.datetime, updates: dict) -> None:
    if message.status == MessageStatus.SENT:
        updates["status"] = MessageStatus.DELIVERED
    if message.delivered_at is None:
        updates["delivered_at"] = at


@transaction.atomic
def message_receipt_record(
    *,
    actor,
    external_id: str,
    event: str,
    occurred_at: dt.datetime,
    error: str = "",
    text: str = "",
    channel: str = "",
) -> ReceiptResult:
    """Apply one report about a sent message; ``changed`` is False when it was known."""
    if event not in ReceiptEvent.values:
        raise ValidationError({"event": _("Unknown event %(value)r.") % {"value": event}})
    _check_time(occurred_at, "occurred_at")
    message = message_by_external_id(external_id, channel=channel)
    updates: dict = {}
    if event == ReceiptEvent.DELIVERED:
        if message.status == MessageStatus.FAILED:
            # The gateway's later word: it did get through.
            updates.update(status=MessageStatus.DELIVERED, last_error="")
        _mark_delivered(message, occurred_at, updates)
    elif event == ReceiptEvent.FAILED:
        if message.status == MessageStatus.DELIVERED:
            raise ValidationError({"event": _("The message was delivered; a failure cannot be reported after that.")})
        if message.status != MessageStatus.FAILED:
            reason = error.strip() or _("The gateway reported the message undeliverable.")
            updates.update(status=MessageStatus.FAILED, last_error=reason[:300])
    elif event == ReceiptEvent.REPLIED:
        if message.replied_at is None:
            updates["replied_at"] = occurred_at
            _mark_delivered(message, occurred_at, updates)  # a reply proves delivery
            if text.strip():
                interaction_record(
                    actor=actor,
                    customer=message.customer,
                    channel=message.channel,
                    direction=Direction.INBOUND,
                    occurred_at=occurred_at,
                    summary=text.strip(),
                    external_id=f"reply-{message.pk}",
                )
    elif message.clicked_at is None:
        updates["clicked_at"] = occurred_at
        _mark_delivered(message, occurred_at, updates)
    if not updates:
        return ReceiptResult(message=message, changed=False)
    Message.objects.filter(pk=message.pk).update(**updates)
    for name, value in updates.items():
        setattr(message, name, value)
    audit_record(
        actor=actor,
        verb="message.receipt",
        target=message,
        details={"event": event, "external_id": external_id, "customer_id": message.customer_id},
    )
    return ReceiptResult(message=message, changed=True)


def _lead_reasons(message: Message, intents: list[str]) -> list[dict]:
    words = {}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            words[language] = _("The AI bot of campaign %(campaign)s heard: %(intents)s") % {
                "campaign": message.campaign.name if message.campaign_id else "—",
                "intents": ", ".join(intents),
            }
    return [{"code": "campaign_bot_intent", "text": words["zh-hans"], "text_en": words["en"], "intents": intents}]


@transaction.atomic
def bot_session_record(
    *,
    actor,
    external_id: str,
    session_id: str,
    started_at: dt.datetime,
    turns: list[dict],
    intents: list[str],
    summary: str = "",
) -> BotSessionResult:
    """Record the AI-bot session a message started; open a lead when the step's rule asks."""
    _check_time(started_at, "started_at")
    message = message_by_external_id(external_id)
    if message.channel != Channel.AI_BOT:
        raise ValidationError({"external_id": _("This message was not sent through the AI bot.")})
    interaction, created = interaction_record(
        actor=actor,
        customer=message.customer,
        channel=Channel.AI_BOT,
        direction=Direction.OUTBOUND,
        occurred_at=started_at,
        summary=summary,
        transcript=turns,
        intents=intents,
        external_id=session_id,
    )
    if not created:
        if interaction.customer_id != message.customer_id:
            raise ValidationError({"session_id": _("This session id belongs to another customer's session.")})
        return BotSessionResult(message=message, interaction=interaction, created=False, lead=None)

    updates: dict = {}
    if message.replied_at is None and any(t.get("speaker") == "customer" for t in interaction.transcript or []):
        updates["replied_at"] = started_at
        _mark_delivered(message, started_at, updates)
    if updates:
        Message.objects.filter(pk=message.pk).update(**updates)
        for name, value in updates.items():
            setattr(message, name, value)

    wanted = set(message.step.lead_intents or []) if message.step_id else set()
    matched = [i for i in interaction.intents if i in wanted]
    lead = None
    if matched:
        now = timezone.now()
        leads_propose(
            candidates=[(message.customer_id, None, Grade.MID, _lead_reasons(message, matched), "", "campaign")],
            now=now,
        )
        lead = Lead.objects.open().filter(customer_id=message.customer_id).first()
    audit_record(
        actor=actor,
        verb="message.bot_session",
        target=message,
        details={
            "customer_id": message.customer_id,
            "interaction_id": interaction.pk,
            "intents": interaction.intents,
            "lead_id": lead.pk if lead is not None else None,
        },
    )
    return BotSessionResult(message=message, interaction=interaction, created=True, lead=lead)
