from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplianceConfig(AppConfig):
    """Scripts and their approval, the lexicon and scanner, surveillance, QA and reports."""

    name = "compliance"
    verbose_name = _("Compliance")
