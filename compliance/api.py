"""REST API of the compliance feature (DRF), mounted under /api/ by workbench.api_urls.

- GET  /api/compliance/scripts/?product=&product_type=&purpose=&q=  approved scripts (latest approved
  versions), filtered by the library's FilterSet
- POST /api/compliance/scan/  {"text", "product_type"?, "product_risk_level"?}  scan one text
- GET  /api/compliance/flags/  flags the caller may see (officers all; team leads and advisors closed outcomes)
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from core.api import ModelSerializer
from customers.models import ProductType

from . import selectors
from .filters import ScriptLibraryFilter
from .models import Flag, ScriptVersion
from .scanner import scan_text


class ScriptVersionSerializer(ModelSerializer):
    title = serializers.CharField(source="script.title")
    purpose = serializers.CharField(source="script.purpose")
    purpose_display = serializers.CharField(source="script.get_purpose_display")
    product = serializers.IntegerField(source="script.product_id", allow_null=True)
    product_type = serializers.CharField(source="script.effective_product_type")

    class Meta:
        model = ScriptVersion
        fields = (
            "id",
            "number",
            "title",
            "purpose",
            "purpose_display",
            "product",
            "product_type",
            "body",
            "decided_at",
        )


class ScanRequestSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=20_000, trim_whitespace=False)
    product_type = serializers.ChoiceField(choices=ProductType.choices, required=False)
    product_risk_level = serializers.IntegerField(min_value=1, max_value=5, required=False)


class FindingSerializer(serializers.Serializer):
    rule = serializers.CharField()
    category = serializers.CharField()
    severity = serializers.CharField()
    start = serializers.IntegerField()
    end = serializers.IntegerField()
    match = serializers.CharField()


class ScanResponseSerializer(serializers.Serializer):
    findings = FindingSerializer(many=True)
    missing_disclosures = serializers.ListField(child=serializers.CharField())


class FlagSerializer(ModelSerializer):
    class Meta:
        model = Flag
        fields = (
            "id",
            "kind",
            "source",
            "advisor",
            "occurred_at",
            "rule_code",
            "category",
            "severity",
            "match",
            "status",
            "outcome",
            "outcome_comment",
            "closed_at",
        )


@extend_schema(responses=ScriptVersionSerializer(many=True))
@api_view(["GET"])
def approved_scripts(request):
    """The latest approved version of each script, filtered by product, product type and purpose."""
    filterset = ScriptLibraryFilter(request.query_params, queryset=selectors.approved_versions(user=request.user))
    if not filterset.is_valid():
        return Response(filterset.errors, status=400)
    versions = filterset.qs.order_by("script__purpose", "script__title", "script_id")
    return Response(ScriptVersionSerializer(versions, many=True).data)


@extend_schema(request=ScanRequestSerializer, responses=ScanResponseSerializer)
@api_view(["POST"])
def scan(request):
    """Scan one text with the active lexicon (the same output as `compliance_scan`)."""
    s = ScanRequestSerializer(data=request.data)
    s.is_valid(raise_exception=True)
    result = scan_text(
        s.validated_data["text"],
        product_type=s.validated_data.get("product_type"),
        product_risk_level=s.validated_data.get("product_risk_level"),
    )
    return Response(result.as_json())


class FlagList(generics.ListAPIView):
    """Flags the caller may see: officers all; team leads their team's and advisors their own outcomes."""

    serializer_class = FlagSerializer

    def get_queryset(self):
        return selectors.flags_for(user=self.request.user)


urlpatterns = [
    path("compliance/scripts/", approved_scripts, name="api-compliance-scripts"),
    path("compliance/scan/", scan, name="api-compliance-scan"),
    path("compliance/flags/", FlagList.as_view(), name="api-compliance-flags"),
]
