"""REST API for integration clients (core banking, the AI-bot platform), under /api/.

- ``POST /api/ingest/<kind>/`` bulk upsert of customers, holdings, snapshots, risk
  assessments, tags, interactions or fund flows: ``{"rows": [{...}, ...]}`` with the same fields as
  the file import; up to WORKBENCH_API_MAX_ROWS rows per request. All or nothing: one
  invalid row rejects the request with every error and its path (``rows[3].aum``).
- ``POST /api/interactions/`` one finished AI-bot session, idempotent by ``session_id``.

Clients authenticate with a DRF token of their service user and need the scope of the
endpoint (``IntegrationClient.scopes``, e.g. ``customers:write``, ``interactions:write``).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from . import ingest
from .access import has_api_scope
from .models import Channel, Customer, Direction, ImportKind, Meeting, TouchKind
from .services.imports import customers_bulk_upsert
from .services.interactions import interaction_record

SCOPES = {kind: f"{kind}:write" for kind in ImportKind.values}
INTERACTIONS_SCOPE = "interactions:write"


class HasIngestScope(BasePermission):
    message = gettext_lazy("This client lacks the scope for this endpoint.")

    def has_permission(self, request, view) -> bool:
        kind = getattr(view, "kwargs", {}).get("kind")
        scope = SCOPES.get(kind, INTERACTIONS_SCOPE) if kind else INTERACTIONS_SCOPE
        return bool(request.user and request.user.is_authenticated and has_api_scope(request.user, scope))


def _flatten(errors, prefix: str = "") -> list[dict]:
    """DRF's nested error structure as a flat list of ``{"path", "message"}``."""
    out: list[dict] = []
    if isinstance(errors, dict):
        for key, value in errors.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                sub = f"{prefix}[{key}]"  # DRF keys a list's errors by position
            elif key == "non_field_errors":
                sub = prefix
            else:
                sub = f"{prefix}.{key}" if prefix else key
            out += _flatten(value, sub)
    elif isinstance(errors, list):
        if all(isinstance(e, str) for e in errors):
            out += [{"path": prefix, "message": str(e)} for e in errors]
        else:
            for i, value in enumerate(errors):
                if value:
                    out += _flatten(value, f"{prefix}[{i}]")
    else:
        out.append({"path": prefix, "message": str(errors)})
    return out


def _too_many(n: int) -> Response | None:
    limit = settings.WORKBENCH_API_MAX_ROWS
    if n > limit:
        return Response(
            {
                "errors": [
                    {
                        "path": "rows",
                        "message": _("At most %(limit)s rows per request (%(n)s sent).") % {"limit": limit, "n": n},
                    }
                ]
            },
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    return None


BulkResult = inline_serializer(
    "BulkResult",
    {
        "rows": serializers.IntegerField(),
        "created": serializers.IntegerField(),
        "updated": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
    },
)
ErrorList = inline_serializer(
    "ValidationErrors",
    {
        "errors": serializers.ListField(
            child=inline_serializer("FieldError", {"path": serializers.CharField(), "message": serializers.CharField()})
        )
    },
)


@extend_schema(
    summary="Bulk upsert rows of one kind",
    parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=ImportKind.values)],
    request=inline_serializer("BulkRows", {"rows": serializers.ListField(child=serializers.DictField())}),
    responses={200: BulkResult, 400: ErrorList, 413: ErrorList},
)
@api_view(["POST"])
@permission_classes([HasIngestScope])
def bulk_upsert(request, kind: str):
    """Upsert up to WORKBENCH_API_MAX_ROWS rows by their external keys (fields as in the file import)."""
    if kind not in ImportKind.values:
        return Response({"errors": [{"path": "kind", "message": _("Unknown kind.")}]}, status=404)
    rows = request.data.get("rows") if isinstance(request.data, dict) else None
    if not isinstance(rows, list) or not rows:
        return Response({"errors": [{"path": "rows", "message": _("Send a non-empty list of rows.")}]}, status=400)
    if (resp := _too_many(len(rows))) is not None:
        return resp
    schema = ingest.schema_for(kind)
    results: list[ingest.RowResult] = []
    errors: list[dict] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            errors.append({"path": f"rows[{i}]", "message": _("Each row must be an object.")})
            continue
        raw = {k: ("" if v is None else (v if isinstance(v, str) else _to_text(v))) for k, v in row.items()}
        unknown = sorted(set(row) - set(schema.field_names))
        for name in unknown:
            errors.append({"path": f"rows[{i}].{name}", "message": _("Unknown field.")})
        results.append(ingest.clean_row(schema, i, raw, {}))
    ingest.resolve(schema, [r for r in results if r.data is not None], ingest.Lookups(), {})
    for r in results:
        for e in r.errors:
            errors.append({"path": f"rows[{e['line']}].{e['column']}", "message": e["message"]})
    if errors:
        return Response({"errors": errors}, status=400)
    present = set().union(*(set(r.data) for r in results))
    try:
        counts = customers_bulk_upsert(actor=request.user, kind=kind, rows=[r.data for r in results], present=present)
    except DjangoValidationError as exc:
        return Response({"errors": _flatten(exc.message_dict, "rows")}, status=400)
    return Response(
        {"rows": len(rows), "created": counts.created, "updated": counts.updated, "unchanged": counts.unchanged}
    )


def _to_text(v) -> str:
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class TurnSerializer(serializers.Serializer):
    speaker = serializers.ChoiceField(choices=["bot", "customer", "agent"])
    text = serializers.CharField(max_length=5000, allow_blank=True, trim_whitespace=False)
    at = serializers.DateTimeField(required=False)


class AIBotSessionSerializer(serializers.Serializer):
    session_id = serializers.CharField(max_length=64)
    customer_no = serializers.CharField(max_length=32)
    started_at = serializers.DateTimeField()
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.AI_BOT)
    direction = serializers.ChoiceField(choices=Direction.choices, default=Direction.OUTBOUND)
    summary = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    turns = TurnSerializer(many=True, min_length=1, max_length=500)
    intents = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list, max_length=50
    )
    touch_kind = serializers.ChoiceField(
        choices=TouchKind.choices, required=False, allow_blank=True, default=TouchKind.NONE
    )
    meeting = serializers.ChoiceField(
        choices=Meeting.choices, required=False, allow_blank=True, allow_null=True, default=None
    )

    def validate_customer_no(self, value):
        customer = Customer.objects.filter(customer_no=value).first()
        if customer is None:
            raise serializers.ValidationError(_("No customer with this number."))
        self.context["customer"] = customer
        return value


@extend_schema(
    summary="Push a finished AI-bot session",
    request=AIBotSessionSerializer,
    responses={
        201: inline_serializer(
            "SessionCreated", {"id": serializers.IntegerField(), "created": serializers.BooleanField()}
        ),
        200: inline_serializer(
            "SessionKnown", {"id": serializers.IntegerField(), "created": serializers.BooleanField()}
        ),
        400: ErrorList,
    },
)
@api_view(["POST"])
@permission_classes([HasIngestScope])
def interactions_create(request):
    """Record one AI-bot session (all its turns); sending the same session id again is a no-op."""
    s = AIBotSessionSerializer(data=request.data, context={})
    if not s.is_valid():
        return Response({"errors": _flatten(s.errors)}, status=400)
    d = s.validated_data
    try:
        interaction, created = interaction_record(
            actor=request.user,
            customer=s.context["customer"],
            channel=d["channel"],
            direction=d["direction"],
            occurred_at=d["started_at"],
            summary=d["summary"],
            transcript=[{k: (v.isoformat() if k == "at" else v) for k, v in t.items()} for t in d["turns"]],
            intents=d["intents"],
            external_id=d["session_id"],
            touch_kind=d["touch_kind"],
            meeting=d["meeting"],
        )
    except DjangoValidationError as exc:
        renamed = {"started_at" if k == "occurred_at" else k: v for k, v in exc.message_dict.items()}
        return Response({"errors": _flatten(renamed)}, status=400)
    return Response({"id": interaction.pk, "created": created}, status=201 if created else 200)


urlpatterns = [
    path("interactions/", interactions_create, name="api-interactions"),
    path("ingest/<slug:kind>/", bulk_upsert, name="api-ingest"),
]
