from django.urls import path

from . import views

urlpatterns = [
    path("", views.model_page, name="model"),
    path("cutoffs/preview/", views.cutoffs_preview, name="cutoffs_preview"),
    path("cutoffs/", views.cutoffs_save, name="cutoffs"),
    path("retrain/", views.retrain, name="retrain"),
    path("rescore/", views.rescore, name="rescore"),
    path("versions/<int:pk>/activate/", views.activate, name="activate"),
]
