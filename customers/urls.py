from django.urls import path

from . import views

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("export/", views.customer_export, name="export"),
    path("access-log/", views.access_log, name="access_log"),
    path("imports/", views.import_list, name="imports"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/status/", views.import_status, name="import_status"),
    path("imports/<int:pk>/errors.csv", views.import_errors_csv, name="import_errors"),
    path("<int:pk>/", views.customer_detail, name="detail"),
    path("<int:pk>/tab/<slug:tab>/", views.customer_tab, name="tab"),
    path("<int:pk>/reveal/", views.customer_reveal, name="reveal"),
    path("<int:pk>/tags/", views.customer_tag_add, name="tag_add"),
    path("<int:pk>/tags/<int:tag_id>/remove/", views.customer_tag_remove, name="tag_remove"),
]
