from django.urls import path

from . import variants_views, views, views_holdout, views_results, views_triggers, views_uplift

urlpatterns = [
    path("", views.campaign_list, name="list"),
    path("new/", views.campaign_create, name="create"),
    path("calendar/", views.campaign_calendar, name="calendar"),
    path("outbox/", views.outbox, name="outbox"),
    path("<int:pk>/", views.campaign_detail, name="detail"),
    path("<int:pk>/edit/", views.campaign_edit, name="edit"),
    path("<int:pk>/steps/", views.step_add, name="step_add"),
    path("steps/<int:pk>/edit/", views.step_edit, name="step_edit"),
    path("steps/<int:pk>/remove/", views.step_remove, name="step_remove"),
    path("steps/<int:pk>/move/<str:direction>/", views.step_move, name="step_move"),
    path("<int:pk>/journey/settings/", views.journey_settings, name="journey_settings"),
    path("<int:pk>/journey/publish/", views.journey_publish, name="journey_publish"),
    path("<int:pk>/journey/discard/", views.journey_discard, name="journey_discard"),
    path("<int:pk>/move/<str:move>/", views.campaign_move, name="move"),
    path("segments/", views.segment_list, name="segments"),
    path("segments/new/", views.segment_new, name="segment_new"),
    path("segments/preview/", views.segment_preview, name="segment_preview"),
    path("segments/upload/", views.segment_upload, name="segment_upload"),
    path("segments/<int:pk>/", views.segment_detail, name="segment_detail"),
]

urlpatterns += [path("<int:pk>/trigger/", views_triggers.trigger_edit, name="trigger")]
urlpatterns += [path("<int:pk>/results/", views_results.campaign_results_page, name="results")]
urlpatterns += [
    path("holdout/", views_holdout.holdout_page, name="holdout"),
    path("holdout/report/", views_holdout.holdout_report_page, name="holdout_report"),
    path("holdout/report/export/<str:fmt>/", views_holdout.holdout_report_export, name="holdout_report_export"),
    path("<int:pk>/variants/", variants_views.variants_page, name="variants"),
    path("<int:pk>/variants/add/", variants_views.variant_add_view, name="variant_add"),
    path("variants/<int:pk>/edit/", variants_views.variant_edit_view, name="variant_edit"),
    path("variants/<int:pk>/remove/", variants_views.variant_remove_view, name="variant_remove"),
    path("variants/<int:pk>/step/", variants_views.variant_step_view, name="variant_step"),
    path("<int:pk>/results/export/<str:fmt>/", views_results.campaign_results_export, name="results_export"),
    path("variants/<int:pk>/order/", variants_views.variant_order_view, name="variant_order"),
    path("variants/<int:pk>/promote/", views_results.variant_promote_view, name="variant_promote"),
    path("uplift/", views_uplift.uplift_page, name="uplift"),
    path("uplift/train/", views_uplift.uplift_train, name="uplift_train"),
    path("segments/<int:pk>/uplift/", views_uplift.segment_uplift, name="segment_uplift"),
]
