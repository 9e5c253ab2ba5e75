from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    audit_details = {"script": _("script"), "script_version": _("script version")}

    audit_verbs = {"campaign.attach_script": _("Script attached to a campaign")}
    role_permissions = {
        "advisor": {"campaign": ["view"]},
        "team_lead": {"campaign": ["view", "add", "change"]},
        "compliance": {"campaign": ["view"]},
        "admin": {"campaign": ["view", "add", "change"]},
    }
