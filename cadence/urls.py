from django.urls import path

from . import views

app_name = "cadence"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("teams/", views.teams, name="teams"),
    path("advisors/<int:pk>/", views.advisor, name="advisor"),
    path("targets/", views.targets, name="targets"),
]
