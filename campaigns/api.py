"""REST API of the channel gateways (DRF), mounted under /api/ by workbench.api_urls.

- ``POST /api/channels/receipts/``: a delivery receipt (delivered / failed), a reply or
  a click for one sent message, named by the gateway's id for it (``external_id``).
- ``POST /api/channels/bot-sessions/``: the finished AI-bot session a message started:
  it becomes the customer's interaction (transcript and intents), and a lead for the
  advisor to confirm when the campaign's step lists one of its intents.

Both are idempotent: posting the same report again answers 200 and changes nothing.
Callers are the gateways' integration clients (a DRF token of their service user) with
the ``channels:write`` scope (``campaigns.access.can_report_receipts``). Bad input is a
400 naming each field in the caller's language.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.response import Response

from customers.models import Channel

from .access import can_report_receipts
from .channels.receipts import ReceiptEvent, bot_session_record, message_receipt_record


class ReportsReceipts(permissions.BasePermission):
    message = _("This client lacks the channels scope.")

    def has_permission(self, request, view):
        return can_report_receipts(request.user)


class AwareDateTimeField(serializers.DateTimeField):
    """A time with its zone: a gateway's clock is not ours, so a bare time is refused
    rather than guessed."""

    def to_internal_value(self, value):
        try:
            parsed = parse_datetime(value.strip()) if isinstance(value, str) else None
        except ValueError:  # well-formed but impossible ("2026-13-01"): DRF's own message
            parsed = None
        if parsed is not None and timezone.is_naive(parsed):
            raise serializers.ValidationError(_("The time must include a time zone."))
        return super().to_internal_value(value)


# The channels a gateway sends (a phone call or a branch visit has no receipts).
SENT_CHANNELS = [
    (value, label) for value, label in Channel.choices if value not in (Channel.PHONE, Channel.BRANCH_VISIT)
]


class ReceiptSerializer(serializers.Serializer):
    external_id = serializers.CharField(
        max_length=100, help_text="The gateway's id of the message (its answer to the send)."
    )
    event = serializers.ChoiceField(choices=ReceiptEvent.choices)
    channel = serializers.ChoiceField(
        choices=SENT_CHANNELS,
        required=False,
        default="",
        help_text="The message's channel: needed only where two gateways' ids may be the same.",
    )
    occurred_at = AwareDateTimeField(help_text="When it happened, with a time zone.")
    error = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    text = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", help_text="A reply's text (replies only)."
    )


class BotTurnSerializer(serializers.Serializer):
    speaker = serializers.ChoiceField(choices=["bot", "customer", "agent"])
    text = serializers.CharField(max_length=5000, allow_blank=True, trim_whitespace=False)
    at = serializers.DateTimeField(required=False)


class BotSessionSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=100, help_text="The gateway's id of the AI-bot message.")
    session_id = serializers.CharField(max_length=64)
    started_at = AwareDateTimeField()
    summary = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    turns = BotTurnSerializer(many=True, min_length=1, max_length=500)
    intents = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list, max_length=50
    )


def _errors(exc: DjangoValidationError) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}


ReceiptAnswer = inline_serializer(
    "ReceiptAnswer",
    {"message": serializers.IntegerField(), "status": serializers.CharField(), "changed": serializers.BooleanField()},
)
BotSessionAnswer = inline_serializer(
    "BotSessionAnswer",
    {
        "message": serializers.IntegerField(),
        "interaction": serializers.IntegerField(),
        "created": serializers.BooleanField(),
        "lead": serializers.IntegerField(allow_null=True),
    },
)


@extend_schema(
    summary="Report a delivery receipt, a reply or a click", request=ReceiptSerializer, responses={200: ReceiptAnswer}
)
@api_view(["POST"])
@permission_classes([ReportsReceipts])
def receipt_create(request):
    """Apply one report about a sent message; the same report again changes nothing (``changed`` false)."""
    s = ReceiptSerializer(data=request.data)
    if not s.is_valid():
        return Response(s.errors, status=400)
    try:
        result = message_receipt_record(actor=request.user, **s.validated_data)
    except DjangoValidationError as exc:
        return Response(_errors(exc), status=400)
    return Response({"message": result.message.pk, "status": result.message.status, "changed": result.changed})


@extend_schema(
    summary="Push the AI-bot session a message started",
    request=BotSessionSerializer,
    responses={201: BotSessionAnswer, 200: BotSessionAnswer},
)
@api_view(["POST"])
@permission_classes([ReportsReceipts])
def bot_session_create(request):
    """Record the session as the customer's interaction (201), or answer the one already
    recorded under this session id (200); a lead is opened by the step's rule."""
    s = BotSessionSerializer(data=request.data)
    if not s.is_valid():
        return Response(s.errors, status=400)
    d = s.validated_data
    turns = [{k: (v.isoformat() if k == "at" else v) for k, v in t.items()} for t in d["turns"]]
    try:
        result = bot_session_record(
            actor=request.user,
            external_id=d["external_id"],
            session_id=d["session_id"],
            started_at=d["started_at"],
            turns=turns,
            intents=d["intents"],
            summary=d["summary"],
        )
    except DjangoValidationError as exc:
        return Response(_errors(exc), status=400)
    return Response(
        {
            "message": result.message.pk,
            "interaction": result.interaction.pk,
            "created": result.created,
            "lead": result.lead.pk if result.lead is not None else None,
        },
        status=201 if result.created else 200,
    )


urlpatterns = [
    path("channels/receipts/", receipt_create, name="api-channel-receipts"),
    path("channels/bot-sessions/", bot_session_create, name="api-channel-bot-sessions"),
]
