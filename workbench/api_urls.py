"""API routes of every app, under /api/. Each app owns its `api.py` with `urlpatterns`."""

from django.urls import include, path

urlpatterns = [
    path("", include("workbench.api")),
    path("", include("customers.api")),
    path("", include("calls.api")),
    path("", include("scoring.api")),
    path("", include("referrals.api")),
    path("", include("compliance.api")),
    path("", include("campaigns.api")),
]
