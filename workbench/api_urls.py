"""API routes of every app, under /api/. Each app owns its `api.py` with `urlpatterns`."""

from django.urls import include, path

urlpatterns = [
    path("", include("workbench.api")),
    path("", include("customers.api")),
    path("", include("leads.api")),
    path("", include("leads.scoring.api")),
    path("", include("leads.referrals.api")),
    path("", include("campaigns.api")),
]
