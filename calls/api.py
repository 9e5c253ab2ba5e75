"""REST API of the queues and calls (DRF), mounted under /api/ by workbench.api_urls.

Same rules as the UI: reads start from the selectors (row scope per role), writes go
through the services (transitions, contact policy, idempotency), and a ValidationError
becomes a 400 with the message in the user's language.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ModelSerializer
from customers.models import Product, Tag
from leads import selectors as lead_selectors
from leads import services as lead_services
from leads.access import can_claim_next
from leads.filters import LeadApiFilter
from leads.models import Grade, GradeOverrideReason, Lead

from . import selectors, services
from .access import can_view_call_metrics, can_work_queues
from .models import CallLog, CallPurpose, Disposition, InterestLevel, LostReason, NextAction


class QueueRole(permissions.BasePermission):
    """Whoever works the queue pages (``calls.access.can_work_queues``)."""

    def has_permission(self, request, view):
        return can_work_queues(request.user)


class ClaimsLeads(permissions.BasePermission):
    """Whoever takes leads from a queue (``leads.access.can_claim_next``)."""

    def has_permission(self, request, view):
        return can_claim_next(request.user)


def _raise_api_error(exc: Exception):
    if isinstance(exc, DjangoPermissionDenied):
        raise PermissionDenied(str(exc) or None) from exc
    if hasattr(exc, "error_dict"):
        raise ValidationError(exc.message_dict) from exc
    raise ValidationError({"detail": exc.messages}) from exc


class LeadSerializer(ModelSerializer):
    customer_no = serializers.CharField(source="customer.customer_no", read_only=True)
    # Masked like every page (docs/masking.md); the full name is revealed on the portrait.
    customer_name = serializers.CharField(source="customer.name_masked", read_only=True)

    class Meta:
        model = Lead
        fields = [
            "id",
            "customer",
            "customer_no",
            "customer_name",
            "team",
            "owner",
            "source",
            "score",
            "proposed_grade",
            "confirmed_grade",
            "status",
            "reasons",
            "model_version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


@extend_schema(
    parameters=[
        OpenApiParameter("queue", str, enum=["confirm", "nurturing", "pool"], description="One of the advisor's queues")
    ]
)
class LeadList(generics.ListAPIView):
    """Leads the user may see; filter by status, grade, minimum score, tier, source or
    customer (``q``), or pick a queue with ``queue=confirm|nurturing|pool``."""

    serializer_class = LeadSerializer
    permission_classes = [permissions.IsAuthenticated, QueueRole]
    filter_backends = [DjangoFilterBackend]
    filterset_class = LeadApiFilter

    def get_queryset(self):
        queue = self.request.query_params.get("queue")
        user = self.request.user
        if queue == "confirm":
            return lead_selectors.leads_to_confirm(user=user)
        if queue == "nurturing":
            return lead_selectors.leads_nurturing(user=user)
        if queue == "pool":
            return lead_selectors.leads_pool(user=user)
        return Lead.objects.restrict(user, "view").select_related("customer").order_by("-score", "id")


class ConfirmSerializer(serializers.Serializer):
    grade = serializers.ChoiceField(choices=Grade.choices)
    reason_code = serializers.ChoiceField(choices=GradeOverrideReason.choices, required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class LeadConfirm(APIView):
    """Confirm a new lead's grade (override needs ``reason_code``) and route it."""

    permission_classes = [permissions.IsAuthenticated, QueueRole]

    @extend_schema(
        request=ConfirmSerializer, responses={200: LeadSerializer, 400: OpenApiResponse(description="Invalid")}
    )
    def post(self, request, pk: int):
        lead = lead_selectors.lead_get_for_user(user=request.user, pk=pk)
        s = ConfirmSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            lead = services.lead_confirm_grade(
                actor=request.user,
                lead=lead,
                grade=s.validated_data["grade"],
                reason_code=s.validated_data.get("reason_code", ""),
                note=s.validated_data.get("note", ""),
            )
        except (DjangoValidationError, DjangoPermissionDenied) as exc:
            _raise_api_error(exc)
        return Response(LeadSerializer(lead).data)


class LeadClaimNext(APIView):
    """Take the highest-score unclaimed new lead of my team (204 when none is left)."""

    permission_classes = [permissions.IsAuthenticated, ClaimsLeads]

    @extend_schema(request=None, responses={200: LeadSerializer, 204: OpenApiResponse(description="Queue empty")})
    def post(self, request):
        lead = lead_services.lead_claim_next(actor=request.user)
        if lead is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(LeadSerializer(lead).data)


class CallLogSerializer(ModelSerializer):
    disposition = serializers.SlugRelatedField(slug_field="code", queryset=Disposition.objects.all())
    lead = serializers.PrimaryKeyRelatedField(queryset=Lead.objects.all())
    products = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), many=True, required=False)
    needs = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True, required=False)
    won_product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), required=False, allow_null=True)
    purpose = serializers.ChoiceField(choices=CallPurpose.choices, default=CallPurpose.MARKETING)
    interest = serializers.ChoiceField(choices=InterestLevel.choices, default=InterestLevel.NONE)
    next_action = serializers.ChoiceField(choices=NextAction.choices, default=NextAction.NONE)
    lost_reason = serializers.ChoiceField(choices=LostReason.choices, required=False, allow_blank=True)
    second_review = serializers.BooleanField(
        required=False,
        default=False,
        write_only=True,
        help_text="The second-level review was done and the extra risk explanation given "
        "(needed to record a sale of an R4/R5 product to a customer of 65 or over).",
    )

    class Meta:
        model = CallLog
        fields = [
            "id",
            "lead",
            "customer",
            "advisor",
            "idempotency_key",
            "purpose",
            "service_reason",
            "started_at",
            "ended_at",
            "duration_seconds",
            "disposition",
            "interest",
            "products",
            "product_checks",
            "needs",
            "notes",
            "next_action",
            "callback_at",
            "won_product",
            "won_amount",
            "second_review",
            "lost_reason",
            "script_version_id",
            "touch_kind",
            "created_at",
        ]
        read_only_fields = ["id", "customer", "advisor", "product_checks", "created_at"]
        extra_kwargs = {"idempotency_key": {"validators": []}}  # a replay is answered, not refused


class CallLogListCreate(generics.ListCreateAPIView):
    """Call logs by role (list); log a call (create). Sending the same
    ``idempotency_key`` again returns the first call with 200 instead of 201."""

    serializer_class = CallLogSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return selectors.call_logs(user=self.request.user).prefetch_related("products", "needs")

    @extend_schema(
        responses={201: CallLogSerializer, 200: CallLogSerializer, 400: OpenApiResponse(description="Invalid")}
    )
    def post(self, request, *args, **kwargs):
        if not can_work_queues(request.user):
            raise PermissionDenied(_("Only advisors log calls."))
        s = self.get_serializer(data=request.data)
        # Only leads the caller may see are valid: another team's lead answers exactly
        # like a lead that does not exist.
        s.fields["lead"].queryset = Lead.objects.restrict(request.user, "view")
        s.is_valid(raise_exception=True)
        data = s.validated_data
        lead = data["lead"]
        try:
            entry = services.CallEntry(
                idempotency_key=data["idempotency_key"],
                disposition=data["disposition"],
                started_at=data["started_at"],
                ended_at=data.get("ended_at"),
                duration_seconds=data.get("duration_seconds"),
                purpose=data["purpose"],
                service_reason=data.get("service_reason", ""),
                interest=data["interest"],
                products=data.get("products", []),
                needs=data.get("needs", []),
                notes=data.get("notes", ""),
                next_action=data["next_action"],
                callback_at=data.get("callback_at"),
                won_product=data.get("won_product"),
                won_amount=data.get("won_amount"),
                second_review=data.get("second_review", False),
                lost_reason=data.get("lost_reason", ""),
                script_version_id=data.get("script_version_id"),
                touch_kind=data.get("touch_kind", ""),
            )
            call, created = services.call_log_create(actor=request.user, lead=lead, entry=entry)
        except (DjangoValidationError, DjangoPermissionDenied) as exc:
            _raise_api_error(exc)
        return Response(
            self.get_serializer(call).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


def _measure_field(key: str, field_class, **kwargs):
    m = selectors.MEASURES[key]
    return field_class(label=m.label, help_text=m.definition, read_only=True, **kwargs)


class CallMeasuresSerializer(serializers.Serializer):
    """The call measures under the same names as on the pages (``calls.selectors.MEASURES``);
    a rate is a fraction from 0 to 1, null when its denominator is zero."""

    planned = _measure_field("planned", serializers.IntegerField)
    planned_done = _measure_field("planned_done", serializers.IntegerField)
    execution_rate = _measure_field("execution_rate", serializers.FloatField, allow_null=True)
    dialled = _measure_field("dialled", serializers.IntegerField)
    connected = _measure_field("connected", serializers.IntegerField)
    effective = _measure_field("effective", serializers.IntegerField)
    effective_rate = _measure_field("effective_rate", serializers.FloatField, allow_null=True)
    conversions = _measure_field("conversions", serializers.IntegerField)
    amount = _measure_field("amount", serializers.DecimalField, max_digits=18, decimal_places=2)


class AdvisorMeasuresSerializer(serializers.Serializer):
    advisor = serializers.IntegerField(source="key", read_only=True)
    display_name = serializers.CharField(source="label", read_only=True)
    measures = CallMeasuresSerializer(source="kpis", read_only=True)


class CallMeasures(APIView):
    """The call measures of one day or a range of days (``start``, ``end``; today by
    default): per advisor and in total, for an advisor their own, for a team lead the
    team's, for an administrator every team's. Same figures and names as the pages."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "CallMeasuresReport",
            {
                "start": serializers.DateField(),
                "end": serializers.DateField(),
                "total": CallMeasuresSerializer(),
                "advisors": AdvisorMeasuresSerializer(many=True),
            },
        )
    )
    def get(self, request):
        if not (can_view_call_metrics(request.user) or can_work_queues(request.user)):
            raise PermissionDenied(_("Only advisors, team leads and administrators see call measures."))
        today = timezone.localdate()
        try:
            start = dt.date.fromisoformat(request.query_params.get("start") or today.isoformat())
            end = dt.date.fromisoformat(request.query_params.get("end") or start.isoformat())
        except ValueError as exc:
            raise ValidationError({"detail": _("Dates must look like 2026-01-31.")}) from exc
        if start > end:
            raise ValidationError({"detail": _("The start date must not be after the end date.")})
        if (end - start).days > 400:
            raise ValidationError({"detail": _("Choose at most 400 days.")})
        data = selectors.team_kpis(user=request.user, start=start, end=end)
        return Response(
            {
                "start": start,
                "end": end,
                "total": CallMeasuresSerializer(data["total"].kpis).data,
                "advisors": AdvisorMeasuresSerializer(data["advisors"], many=True).data,
            }
        )


urlpatterns = [
    path("call-measures/", CallMeasures.as_view(), name="api-call-measures"),
    path("leads/", LeadList.as_view(), name="api-leads"),
    path("leads/claim-next/", LeadClaimNext.as_view(), name="api-leads-claim-next"),
    path("leads/<int:pk>/confirm/", LeadConfirm.as_view(), name="api-lead-confirm"),
    path("call-logs/", CallLogListCreate.as_view(), name="api-call-logs"),
]
