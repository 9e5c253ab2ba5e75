from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    """Lead scoring: features, model training, rescoring and grading (leads/scoring)."""

    name = "leads.scoring"
    label = "scoring"
    verbose_name = _("Lead scoring")
