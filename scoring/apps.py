from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    """Lead scoring: features, model training, rescoring, grading, and the leads it proposes."""

    name = "scoring"
    verbose_name = _("Lead scoring")

    role_permissions = {
        "advisor": {"outcome": ["view", "add"]},
        "team_lead": {"outcome": ["view", "add"]},
        "compliance": {"outcome": ["view"]},
        "admin": {"outcome": ["view", "add", "change"]},
    }
