from django.urls import path

from . import views

urlpatterns = [
    path("", views.referral_list, name="list"),
    path("bulk-accept/", views.referral_bulk_accept, name="bulk_accept"),
    path("dashboard/", views.referral_dashboard, name="dashboard"),
    path("export.<str:fmt>", views.referral_export, name="export"),
    path("<int:pk>/", views.referral_detail, name="detail"),
    path("<int:pk>/accept/", views.referral_accept, name="accept"),
    path("<int:pk>/reject/", views.referral_reject, name="reject"),
    path("<int:pk>/reassign/", views.referral_reassign, name="reassign"),
    path("<int:pk>/follow-up/", views.referral_follow_up, name="follow_up"),
    path("<int:pk>/outcome/", views.referral_outcome, name="outcome"),
    path("<int:pk>/return/", views.referral_return, name="return"),
]
