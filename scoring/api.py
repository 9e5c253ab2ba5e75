"""REST API of the scoring app (DRF), mounted under /api/ by workbench.api_urls.

- ``GET /api/scoring/customers/<id>/score/``: a customer's current score, grade and
  reasons (row scope: the customer must be visible to the user, else 404);
- ``GET /api/scoring/models/``: model versions with their metrics (team leads, admins).
"""

from __future__ import annotations

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.selectors import customer_get_for_user
from org.roles import Role, role_of
from scoring.models import CustomerScore

from .models import ModelVersion


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    text = serializers.CharField()
    weight = serializers.FloatField()


class CustomerScoreSerializer(serializers.ModelSerializer):
    reasons = ReasonSerializer(many=True)

    class Meta:
        model = CustomerScore
        fields = ["customer", "score", "grade", "reasons", "model_version", "method", "scored_at"]


class ModelVersionSerializer(serializers.ModelSerializer):
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


class TeamLeadOrAdmin(permissions.BasePermission):
    def has_permission(self, request, view):
        return role_of(request.user) in (Role.TEAM_LEAD, Role.ADMIN)


class CustomerScoreView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=CustomerScoreSerializer)
    def get(self, request, pk: int):
        customer = customer_get_for_user(user=request.user, pk=pk)
        score = CustomerScore.objects.filter(customer=customer).first()
        if score is None:
            raise Http404
        return Response(CustomerScoreSerializer(score).data)


class ModelVersionList(APIView):
    permission_classes = [permissions.IsAuthenticated, TeamLeadOrAdmin]

    @extend_schema(responses=ModelVersionSerializer(many=True))
    def get(self, request):
        versions = ModelVersion.objects.select_related("trained_by").defer("artifact")[:50]
        return Response(ModelVersionSerializer(versions, many=True).data)


urlpatterns = [
    path("scoring/customers/<int:pk>/score/", CustomerScoreView.as_view(), name="scoring-customer-score"),
    path("scoring/models/", ModelVersionList.as_view(), name="scoring-models"),
]
