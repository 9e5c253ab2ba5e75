from django.urls import path

from . import views

app_name = "dashboards"

urlpatterns = [
    path("", views.funnel, name="funnel"),
    path("operations/", views.operations, name="operations"),
    path("branch/", views.branch, name="branch"),
    path("records/", views.records, name="records"),
]
