from django.urls import path

from . import views, views_capacity

urlpatterns = [
    path("", views.queue, name="queue"),
    path("claim-next/", views.claim_next, name="claim_next"),
    path("metrics/", views.kpis, name="kpis"),
    path("capacity/", views_capacity.capacity, name="capacity"),
    path("capacity/<int:pk>/", views_capacity.capacity_set, name="capacity_set"),
    path("<int:pk>/", views.call_screen, name="call"),
    path("<int:pk>/claim/", views.claim, name="claim"),
    path("<int:pk>/confirm/", views.confirm, name="confirm"),
    path("<int:pk>/calls/", views.log_call, name="log_call"),
    path("<int:pk>/product-check/", views.product_check, name="product_check"),
]
