"""REST API of the scoring app (DRF), mounted under /api/ by workbench.api_urls.

- ``GET /api/scoring/customers/<id>/score/``: a customer's current score, grade and
  reasons (row scope: the customer must be visible to the user, else 404);
- ``GET /api/scoring/models/``: model versions with their metrics (whoever may manage
  scoring: team leads, administrators).
"""

from __future__ import annotations

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ModelSerializer
from customers.models import ViewPlace
from customers.services.privacy import customer_access_refused, customer_view_record

from . import selectors
from .access import can_manage_scoring
from .models import CustomerScore, ModelVersion


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    weight = serializers.FloatField()


class CustomerScoreSerializer(ModelSerializer):
    reasons = ReasonSerializer(many=True)

    class Meta:
        model = CustomerScore
        fields = ["customer", "score", "grade", "reasons", "model_version", "method", "scored_at"]


class ModelVersionSerializer(ModelSerializer):
    trained_by = serializers.CharField(source="trained_by.username", default=None)

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "version",
            "is_active",
            "trained_at",
            "trained_by",
            "activated_at",
            "features",
            "metrics",
            "note",
        ]


class CanManageScoring(permissions.BasePermission):
    def has_permission(self, request, view):
        return can_manage_scoring(request.user)


class CustomerScoreView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=CustomerScoreSerializer)
    def get(self, request, pk: int):
        # 404 alike for a customer outside the user's scope and one not scored yet
        try:
            score = selectors.customer_score_get_for_user(user=request.user, pk=pk)
        except Http404:
            customer_access_refused(actor=request.user, customer_id=pk, page=ViewPlace.API_SCORE)
            raise
        customer_view_record(
            actor=request.user,
            customer=score.customer_id,
            page=ViewPlace.API_SCORE,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return Response(CustomerScoreSerializer(score).data)


class ModelVersionList(APIView):
    permission_classes = [permissions.IsAuthenticated, CanManageScoring]

    @extend_schema(responses=ModelVersionSerializer(many=True))
    def get(self, request):
        versions = selectors.model_versions(limit=50)
        return Response(ModelVersionSerializer(versions, many=True).data)


urlpatterns = [
    path("scoring/customers/<int:pk>/score/", CustomerScoreView.as_view(), name="scoring-customer-score"),
    path("scoring/models/", ModelVersionList.as_view(), name="scoring-models"),
]
