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
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.response import Response

from core.api import FilterErrors, ModelSerializer
from customers.models import Product, ViewPlace
from customers.services.privacy import customer_view_record

from . import selectors, services
from .access import can_decide_referral, can_work_referral
from .filters import ReferralFilter
from .models import NOTE_MAX, FollowUpKind, Referral, RejectReason


class ReferralSerializer(ModelSerializer):
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
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)


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
    product = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=32, help_text="Product code"
    )
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)
    second_review = serializers.BooleanField(
        required=False,
        default=False,
        help_text="converted: the second-level review was done and the extra risk explanation given "
        "(needed for an R4/R5 product sold to a customer of 65 or over).",
    )


TAB_KEYS = sorted({key for tabs in [*selectors.TABS.values(), selectors.DEFAULT_TABS] for key, _label in tabs})


def _data(request, referral: Referral) -> dict:
    """One referral as the API answers it: its customer's data, so the PIPL record first."""
    customer_view_record(
        actor=request.user,
        customer=referral.customer_id,
        page=ViewPlace.API_REFERRAL,
        details={"referral": referral.pk},
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
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
        OpenApiParameter(
            "tab", str, enum=TAB_KEYS, description="List tab (default all, or the role's first tab without an all tab)"
        )
    ],
    responses={200: ReferralSerializer(many=True), 400: FilterErrors},
)
class ReferralList(generics.ListAPIView):
    """Referrals the caller may see: branch staff their branch's, advisors their own,
    compliance all; filtered by the list page's ``ReferralFilter`` (a value it cannot
    read is a 400 naming the parameter)."""

    serializer_class = ReferralSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ReferralFilter

    def get_queryset(self):
        return selectors.referral_list(user=self.request.user, tab=self.request.query_params.get("tab", "all"))


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
                    actor=actor,
                    referral=referral,
                    outcome=outcome,
                    product=product,
                    amount=d["amount"],
                    note=d["note"],
                    second_review=d["second_review"],
                )
            )
        else:
            _run(lambda: services.referral_return(actor=actor, referral=referral, reason=d["note"]))
    except ValidationError as exc:
        return _error(exc)
    return Response(_data(request, selectors.referral_get_for_user(user=actor, pk=pk)))


urlpatterns = [
    path("referrals/", ReferralList.as_view(), name="api-referral-list"),
    path("referrals/<int:pk>/", referral_detail, name="api-referral-detail"),
    path("referrals/<int:pk>/accept/", referral_accept, name="api-referral-accept"),
    path("referrals/<int:pk>/reject/", referral_reject, name="api-referral-reject"),
    path("referrals/<int:pk>/outcome/", referral_outcome, name="api-referral-outcome"),
]
