from django.urls import path

from . import views

urlpatterns = [
    path("", views.report_list, name="list"),
    path("batch/", views.report_batch, name="batch"),
    path("customer/<int:customer_id>/generate/", views.report_generate, name="generate"),
    path("<int:pk>/download/", views.report_download, name="download"),
    path("<int:pk>/deliver/", views.report_deliver, name="deliver"),
]
