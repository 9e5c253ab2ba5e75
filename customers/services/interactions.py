"""Writes of the customer's timeline: interactions on every channel, AI-bot transcripts."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.tasks import enqueue

from ..models import (
    Channel,
    Customer,
    Direction,
    Interaction,
    InteractionIntent,
    Meeting,
    TouchKind,
)

TRANSCRIPT_SPEAKERS = ("bot", "customer", "agent")


def _validate_transcript(transcript) -> list[dict] | None:
    if transcript is None:
        return None
    if not isinstance(transcript, list):
        raise ValidationError({"transcript": _("The transcript must be a list of turns.")})
    turns = []
    for i, turn in enumerate(transcript):
        if not isinstance(turn, dict) or not isinstance(turn.get("text"), str):
            raise ValidationError({"transcript": _("Turn %(n)s must have a text.") % {"n": i + 1}})
        speaker = turn.get("speaker", "customer")
        if speaker not in TRANSCRIPT_SPEAKERS:
            raise ValidationError(
                {"transcript": _("Turn %(n)s has an unknown speaker %(speaker)r.") % {"n": i + 1, "speaker": speaker}}
            )
        clean = {"speaker": speaker, "text": turn["text"]}
        if turn.get("at"):
            clean["at"] = str(turn["at"])
        turns.append(clean)
    return turns


def transcript_text(transcript: list[dict] | None) -> str:
    """A transcript as plain lines ``speaker: text`` (what the surveillance scanner reads)."""
    return "\n".join(f"{t.get('speaker', '')}: {t.get('text', '')}" for t in transcript or [])


@transaction.atomic
def interaction_record(
    *,
    actor,
    customer: Customer,
    channel: str,
    direction: str = Direction.OUTBOUND,
    occurred_at: dt.datetime,
    summary: str = "",
    transcript: list[dict] | None = None,
    intents: list[str] | None = None,
    external_id: str | None = None,
    touch_kind: str = TouchKind.NONE,
    meeting: str | None = None,
) -> tuple[Interaction, bool]:
    """Record one touch with a customer; returns ``(interaction, created)``.

    Idempotent by ``external_id``: a second call with the same id returns the first
    interaction unchanged. Keeps ``Customer.last_contact_at`` at the latest touch.
    """
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel %(value)r.") % {"value": channel}})
    if direction not in Direction.values:
        raise ValidationError({"direction": _("Unknown direction %(value)r.") % {"value": direction}})
    if occurred_at is None or timezone.is_naive(occurred_at):
        raise ValidationError({"occurred_at": _("The time must include a time zone.")})
    if occurred_at > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("The time is in the future.")})
    if touch_kind not in TouchKind.values:
        raise ValidationError({"touch_kind": _("Unknown kind of touch %(value)r.") % {"value": touch_kind}})
    if meeting is None:
        meeting = Meeting.IN_PERSON if channel == Channel.BRANCH_VISIT else Meeting.NONE
    if meeting not in Meeting.values:
        raise ValidationError({"meeting": _("Unknown meeting %(value)r.") % {"value": meeting}})
    turns = _validate_transcript(transcript)
    intents = [str(i) for i in (intents or [])]
    external_id = (external_id or "").strip() or None

    if external_id:
        existing = Interaction.objects.filter(external_id=external_id).first()
        if existing is not None:
            return existing, False

    staff = actor if getattr(actor, "is_authenticated", False) and hasattr(actor, "staff_profile") else None
    try:
        with transaction.atomic():
            interaction = Interaction.objects.create(
                customer=customer,
                channel=channel,
                direction=direction,
                occurred_at=occurred_at,
                actor=staff,
                summary=summary or "",
                transcript=turns,
                intents=intents,
                external_id=external_id,
                touch_kind=touch_kind,
                meeting=meeting,
            )
            InteractionIntent.objects.bulk_create(
                InteractionIntent(interaction=interaction, customer=customer, intent=code, occurred_at=occurred_at)
                for code in dict.fromkeys(code[:64] for code in intents if code)
            )
    except IntegrityError:
        # A concurrent delivery of the same session won the race.
        existing = Interaction.objects.filter(external_id=external_id).first() if external_id else None
        if existing is None:
            raise
        return existing, False

    Customer.objects.filter(pk=customer.pk).filter(
        Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=occurred_at)
    ).update(last_contact_at=occurred_at, updated_at=timezone.now())
    if customer.last_contact_at is None or customer.last_contact_at < occurred_at:
        customer.last_contact_at = occurred_at

    audit_record(
        actor=actor,
        verb="interaction.record",
        target=interaction,
        details={"customer_id": customer.pk, "channel": channel, "external_id": external_id},
    )

    # Work of the apps above, by task name with ids: an AI-bot session changes the
    # customer's score; any text goes to compliance surveillance.
    if channel == Channel.AI_BOT:
        enqueue("scoring.rescore_customer", customer.pk)
    if (summary or "").strip() or turns:
        enqueue("compliance.scan_interaction", interaction.pk)
    return interaction, True
