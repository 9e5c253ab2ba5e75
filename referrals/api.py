"""REST API of the referral workflow (DRF), mounted under /api/ by workbench.api_urls.

Same rules as the pages: reads start from ``Referral.objects.restrict`` (another
branch's referral is a 404), the list takes the page's ``ReferralFilter``, writes go
through the services, which ask ``referrals.access`` (403 when it refuses). Each
referral says what the caller may do with it (``permissions``), from the same predicates.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from customers.models import Product

from . import selectors, services
from .access import can_decide_referral, can_work_referral
from .filters import ReferralFilter
from .models import FollowUpKind, Referral, ReferralStatus, RejectReason


class ReferralSerializer(serializers.ModelSerializer):
    customer_no = serializers.CharField(source="customer.customer_no", read_only=True)
    # Masked like every page (docs/masking.md); the full name is revealed on the portrait.
    customer_name = serializers.CharField(source="customer.name_masked", read_only=True)
    branch_code = serializers.CharField(source="branch.code", read_only=True)
    from_advisor = serializers.CharField(source="from_advisor.username", read_only=True, allow_null=True)
    assigned_rm = serializers.CharField(source="assigned_rm.username", read_only=True, allow_null=True)
    converted_product_code = serializers.CharField(source="converted_product.code", read_only=True, allow_null=True)
    permissions = serializers.SerializerMethodField(help_text="What the caller may do: decide, work.")

    class Meta:
        model = Referral
        fields = [
            "id",
            "lead_id",
            "customer_id",
            "customer_no",
            "customer_name",
            "branch_code",
            "branch_reason",
            "from_advisor",
            "assigned_rm",
            "status",
            "needs_summary",
            "score",
            "reasons",
            "products_of_interest",
            "preferred_contact_time",
            "review_due_at",
            "first_contact_due_at",
            "accepted_at",
            "rejected_at",
            "reject_reason",
            "reject_note",
            "first_contacted_at",
            "converted_product_code",
            "converted_amount",
            "outcome_note",
            "closed_at",
            "overdue_at",
            "escalated_at",
            "created_at",
            "permissions",
        ]
        read_only_fields = fields

    def get_permissions(self, referral) -> dict[str, bool]:
        user = self.context["request"].user
        return {"decide": can_decide_referral(user, referral), "work": can_work_referral(user, referral)}


class AcceptSerializer(serializers.Serializer):
    rm = serializers.IntegerField(help_text="User id of a relationship manager of the referral's branch.")


class RejectSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=RejectReason.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


OUTCOME_CHOICES = [
    ("contacted", "contacted (reached the customer)"),
    ("attempt", "attempt (not reached)"),
    ("meeting", "meeting booked"),
    ("visit", "visit"),
    ("converted", "converted"),
    ("lost", "lost"),
    ("returned", "returned to the advisor"),
]


class OutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=OUTCOME_CHOICES)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    meeting_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    product = serializers.CharField(required=False, allow_blank=True, default="", help_text="Product code")
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="")


def _data(request, referral: Referral) -> dict:
    return ReferralSerializer(referral, context={"request": request}).data


def _error(exc: ValidationError) -> Response:
    return Response({"detail": " ".join(str(m) for m in exc.messages)}, status=status.HTTP_400_BAD_REQUEST)


def _run(action):
    try:
        return action()
    except PermissionDenied as exc:
        raise DRFPermissionDenied(str(exc) or None) from exc


@extend_schema(
    parameters=[
        OpenApiParameter("tab", str, description="List tab (inbox, active, overdue, closed, assigned, mine, all)"),
        OpenApiParameter("status", str, enum=ReferralStatus.values),
        OpenApiParameter("branch", int, description="Receiving branch id"),
        OpenApiParameter("since", str, description="Referred on or after (YYYY-MM-DD)"),
        OpenApiParameter("until", str, description="Referred on or before (YYYY-MM-DD)"),
        OpenApiParameter("q", str, description="Customer number, name prefix or last 4 digits of mobile or ID"),
    ],
    responses=ReferralSerializer(many=True),
)
@api_view(["GET"])
def referral_list(request):
    """Referrals the caller may see: branch staff their branch's, advisors their own, compliance all."""
    tab = request.query_params.get("tab", "all")
    filterset = ReferralFilter(request.query_params, queryset=selectors.referral_list(user=request.user, tab=tab))
    paginator = LimitOffsetPagination()
    page = paginator.paginate_queryset(filterset.qs, request)
    return paginator.get_paginated_response(ReferralSerializer(page, many=True, context={"request": request}).data)


@extend_schema(responses=ReferralSerializer)
@api_view(["GET"])
def referral_detail(request, pk: int):
    """One referral (404 outside the caller's scope)."""
    return Response(_data(request, selectors.referral_get_for_user(user=request.user, pk=pk)))


@extend_schema(request=AcceptSerializer, responses=ReferralSerializer)
@api_view(["POST"])
def referral_accept(request, pk: int):
    """Branch manager: accept a pending referral and assign it to an RM of the branch."""
    referral = selectors.referral_get_for_user(user=request.user, pk=pk)
    data = AcceptSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    rm = {r["id"]: r["user"] for r in selectors.rm_choices_with_load(branch_id=referral.branch_id)}.get(
        data.validated_data["rm"]
    )
    try:
        if rm is None:
            raise ValidationError(_("Choose a relationship manager of this branch."))
        referral = _run(lambda: services.referral_accept(actor=request.user, referral=referral, rm=rm))
    except ValidationError as exc:
        return _error(exc)
    return Response(_data(request, referral))


@extend_schema(request=RejectSerializer, responses=ReferralSerializer)
@api_view(["POST"])
def referral_reject(request, pk: int):
    """Branch manager: reject a pending referral with a reason code (text required for "other")."""
    referral = selectors.referral_get_for_user(user=request.user, pk=pk)
    data = RejectSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        referral = _run(
            lambda: services.referral_reject(
                actor=request.user,
                referral=referral,
                reason=data.validated_data["reason"],
                note=data.validated_data["note"],
            )
        )
    except ValidationError as exc:
        return _error(exc)
    return Response(_data(request, referral))


@extend_schema(request=OutcomeSerializer, responses=ReferralSerializer)
@api_view(["POST"])
def referral_outcome(request, pk: int):
    """Branch RM (or manager): log a follow-up or close the referral (converted, lost, returned)."""
    referral = selectors.referral_get_for_user(user=request.user, pk=pk)
    data = OutcomeSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    d = data.validated_data
    outcome = d["outcome"]
    actor = request.user
    try:
        if outcome in ("contacted", "attempt", "meeting", "visit"):
            kind = FollowUpKind.ATTEMPT if outcome in ("contacted", "attempt") else outcome
            _run(
                lambda: services.referral_follow_up(
                    actor=actor,
                    referral=referral,
                    kind=kind,
                    occurred_at=d["occurred_at"],
                    reached=outcome != "attempt" if kind == FollowUpKind.ATTEMPT else None,
                    meeting_at=d["meeting_at"],
                    note=d["note"],
                )
            )
        elif outcome in ("converted", "lost"):
            product = Product.objects.filter(code=d["product"]).first() if d["product"] else None
            if d["product"] and product is None:
                raise ValidationError(_("Unknown product: %(ref)s") % {"ref": d["product"]})
            _run(
                lambda: services.referral_record_outcome(
                    actor=actor, referral=referral, outcome=outcome, product=product, amount=d["amount"], note=d["note"]
                )
            )
        else:
            _run(lambda: services.referral_return(actor=actor, referral=referral, reason=d["note"]))
    except ValidationError as exc:
        return _error(exc)
    return Response(_data(request, selectors.referral_get_for_user(user=actor, pk=pk)))


urlpatterns = [
    path("referrals/", referral_list, name="api-referral-list"),
    path("referrals/<int:pk>/", referral_detail, name="api-referral-detail"),
    path("referrals/<int:pk>/accept/", referral_accept, name="api-referral-accept"),
    path("referrals/<int:pk>/reject/", referral_reject, name="api-referral-reject"),
    path("referrals/<int:pk>/outcome/", referral_outcome, name="api-referral-outcome"),
]
