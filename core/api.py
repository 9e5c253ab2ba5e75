"""What every API operation shares in the OpenAPI document: the error answers.

DRF answers 401 without credentials, 403 when a permission (or CSRF, for a session)
refuses, 404 for a row outside the caller's scope, 400 for a body or filter it cannot
read, 415 for a body type it does not parse. Views document their own bodies for these
where they differ; :func:`add_error_responses` adds the common ones to every operation
that can return them, so the document lists every status code a view can return.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

# DjangoFilterBackend's 400: each parameter it could not read, with its messages.
FilterErrors = OpenApiResponse(OpenApiTypes.OBJECT, description="Each query parameter that could not be read")

DETAIL_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
# A serializer's 400: field names (or "detail", "non_field_errors") to their messages.
INVALID_SCHEMA = {"type": "object", "additionalProperties": True}

MUTATING = ("post", "put", "patch", "delete")


def _response(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def add_error_responses(result, generator, request, public):
    """drf-spectacular post-processing hook (SPECTACULAR_SETTINGS): the error answers of
    every operation. A view's own documentation of a code wins."""
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in ("get", *MUTATING):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter.get("schema", {}).get("type") == "integer":
                    # "<int:pk>" routes only digits: "-1" is the resolver's 404 (an HTML page)
                    parameter["schema"].setdefault("minimum", 0)
            responses = operation.setdefault("responses", {})
            codes = {
                "401": _response("Not authenticated", DETAIL_SCHEMA),
                "403": _response("Not allowed (role, scope or CSRF)", DETAIL_SCHEMA),
            }
            if "{" in path:
                codes["404"] = _response("Not found or outside the caller's scope", DETAIL_SCHEMA)
            if method in MUTATING and "requestBody" in operation:
                codes["400"] = _response("Invalid input", INVALID_SCHEMA)
                codes["415"] = _response("Unsupported media type", DETAIL_SCHEMA)
            if any(p.get("in") == "query" for p in operation.get("parameters", [])):
                codes.setdefault("400", _response("A query parameter could not be read", INVALID_SCHEMA))
            for code, response in codes.items():
                responses.setdefault(code, response)
    return result


class ModelSerializer(serializers.ModelSerializer):
    """DRF's model serializer, except that a read-only field keeps ``allow_blank`` from
    its column: DRF drops it, and the document then says a blank choice (a lead not
    graded yet, a referral without a reject reason) cannot be answered when it is."""

    def include_extra_kwargs(self, kwargs, extra_kwargs):
        allow_blank = kwargs.get("allow_blank", False)
        kwargs = super().include_extra_kwargs(kwargs, extra_kwargs)
        if allow_blank and kwargs.get("read_only"):
            kwargs["allow_blank"] = True
        return kwargs
