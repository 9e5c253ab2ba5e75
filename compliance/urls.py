from django.urls import path

from . import views

urlpatterns = [
    # scripts
    path("scripts/", views.script_library, name="scripts"),
    path("scripts/new/", views.script_create, name="script_create"),
    path("scripts/<int:pk>/", views.script_detail, name="script_detail"),
    path("scripts/<int:pk>/revise/", views.script_revise, name="script_revise"),
    path("versions/<int:pk>/edit/", views.version_edit, name="version_edit"),
    path("versions/<int:pk>/submit/", views.version_submit, name="version_submit"),
    path("versions/<int:pk>/review/", views.version_review, name="version_review"),
    path("versions/<int:pk>/approve/", views.version_approve, name="version_approve"),
    path("versions/<int:pk>/reject/", views.version_reject, name="version_reject"),
    path("versions/<int:pk>/retire/", views.version_retire, name="version_retire"),
    # review queue and flags
    path("review/", views.review_queue, name="review_queue"),
    path("review/scripts/", views.script_reviews, name="script_reviews"),
    path("review/bulk-close/", views.flags_bulk_close, name="flags_bulk_close"),
    path("review/qa-settings/", views.qa_settings, name="qa_settings"),
    path("review/rescan/", views.rescan, name="rescan"),
    path("flags/<int:pk>/", views.flag_detail, name="flag_detail"),
    path("flags/<int:pk>/claim/", views.flag_claim, name="flag_claim"),
    path("lexicon/groups/", views.concept_groups, name="concept_groups"),
    path("lexicon/groups/new/", views.concept_group_edit, name="concept_group_create"),
    path("lexicon/groups/<int:pk>/", views.concept_group_edit, name="concept_group_edit"),
    path("flags/<int:pk>/add-to-corpus/", views.flag_add_to_corpus, name="flag_add_to_corpus"),
    path("flags/<int:pk>/release/", views.flag_release, name="flag_release"),
    path("flags/<int:pk>/escalate/", views.flag_escalate, name="flag_escalate"),
    path("flags/<int:pk>/close/", views.flag_close, name="flag_close"),
    path("feedback/", views.my_flags, name="my_flags"),
    # lexicon
    path("lexicon/", views.lexicon, name="lexicon"),
    path("lexicon/new/", views.lexicon_rule_create, name="lexicon_create"),
    path("lexicon/try/", views.lexicon_try, name="lexicon_try"),
    path("lexicon/<int:pk>/", views.lexicon_rule_edit, name="lexicon_edit"),
    # reports
    path("reports/", views.reports, name="reports"),
    path("reports/export/<str:fmt>/", views.reports_export, name="reports_export"),
]
