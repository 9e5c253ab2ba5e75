from django.urls import path

from . import views

urlpatterns = [
    path("audit/", views.audit_list, name="audit"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/badge/", views.notification_badge, name="notification_badge"),
    path("notifications/read/", views.notifications_mark_read, name="notifications_read"),
]
