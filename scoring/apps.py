from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    """Lead scoring: features, model training, rescoring, grading, and the leads it proposes."""

    name = "scoring"
    verbose_name = _("Lead scoring")

    audit_details = {
        "converted": _("converted"),
        "positives": _("conversions"),
        "auc": _("ROC AUC"),
        "lift_top10": _("lift in the top 10%"),
        "brier": _("Brier score"),
        "rows_read": _("rows read"),
        "imported": _("imported"),
        "already_imported": _("already imported"),
        "rejected": _("rejected"),
        "arm": _("campaign arm"),
        "rows": _("rows"),
        "qini": _("Qini coefficient"),
        "top_decile_uplift": _("uplift in the top 10%"),
        "in_use": _("in use"),
        "compared_with": _("compared with the version in use"),
        "qini_difference": _("Qini difference against the version in use"),
        "kept_because": _("why it was not put in use"),
        "learner": _("learner"),
        "learner_difference": _("Qini difference, X-learner minus T-learner"),
    }
    audit_values = {
        "no_uplift": _("no uplift found on held-out customers"),
        "worse_than_current": _("ranks held-out customers worse than the version in use"),
        "t_learner": _("T-learner (one model per group)"),
        "x_learner": _("X-learner (the effects imputed on each group)"),
    }
    job_kinds = {
        "scoring.rescore_all": _("Rescoring of all customers"),
        "scoring.train_model": _("Model training"),
    }

    role_permissions = {
        "advisor": {"outcome": ["view", "add"]},
        "team_lead": {"outcome": ["view", "add"]},
        "compliance": {"outcome": ["view"]},
        "admin": {"outcome": ["view", "add", "change"]},
    }

    audit_verbs = {
        "scoring.outcome_record": _("Contact outcome recorded"),
        "scoring.outcomes_import": _("Historical outcomes imported"),
        "scoring.outcomes_attribute": _("Outcomes attributed to campaigns"),
        "scoring.model_train": _("Scoring model trained"),
        "scoring.model_activate": _("Scoring model activated"),
        "scoring.model_rollback": _("Scoring model rolled back"),
        "scoring.cutoffs_update": _("Grade cutoffs changed"),
        "scoring.rules_update": _("Cold-start rules changed"),
        "scoring.uplift_train": _("Uplift model trained"),
    }

    def ready(self) -> None:
        # The portrait tab names models and templates: register once the apps are loaded
        # (the one import inside a function docs/architecture.md allows).
        from . import list_filters, portrait

        portrait.register()
        list_filters.register()
