from django.urls import path

from . import views

urlpatterns = [
    path("", views.queue, name="queue"),
    path("claim-next/", views.claim_next, name="claim_next"),
    path("metrics/", views.kpis, name="kpis"),
    path("<int:pk>/", views.call_screen, name="call"),
    path("<int:pk>/claim/", views.claim, name="claim"),
    path("<int:pk>/confirm/", views.confirm, name="confirm"),
    path("<int:pk>/calls/", views.log_call, name="log_call"),
    path("<int:pk>/product-check/", views.product_check, name="product_check"),
]
