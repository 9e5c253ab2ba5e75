from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = _("Leads")

    role_permissions = {
        "advisor": {"lead": ["view", "change"]},
        "team_lead": {"lead": ["view", "change"]},
        "compliance": {"lead": ["view"]},
        "admin": {"lead": ["view", "add", "change"]},
    }
