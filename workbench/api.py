"""Shell API: who am I."""

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from org.roles import role_of, staff_name


@extend_schema(
    responses=inline_serializer(
        "Me",
        {
            "username": serializers.CharField(),
            "display_name": serializers.CharField(),
            "role": serializers.CharField(allow_null=True),
            "team": serializers.CharField(allow_null=True),
            "branch": serializers.CharField(allow_null=True),
        },
    )
)
@api_view(["GET"])
def me(request):
    """The authenticated user, their role, team and branch."""
    profile = getattr(request.user, "staff_profile", None)
    return Response(
        {
            "username": request.user.get_username(),
            "display_name": staff_name(request.user),
            "role": role_of(request.user),
            "team": profile.team.code if profile and profile.team else None,
            "branch": profile.branch.code if profile and profile.branch else None,
        }
    )


urlpatterns = [path("me/", me, name="api-me")]
