from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = _("Campaigns")

    audit_details = {"script": _("script"), "script_version": _("script version")}

    audit_verbs = {
        "campaign.attach_script": _("Script attached to a campaign"),
        "campaign.create": _("Campaign created"),
        "campaign.update": _("Campaign edited"),
        "campaign.add_step": _("Step added to a campaign"),
        "campaign.remove_step": _("Step removed from a campaign"),
        "campaign.transition": _("Campaign status changed"),
        "segment.save": _("Segment saved"),
        "segment.upload": _("Segment uploaded from a list"),
        "segment.freeze": _("Segment frozen"),
    }
    role_permissions = {
        "advisor": {"campaign": ["view"]},
        "team_lead": {"campaign": ["view"]},
        "compliance": {"campaign": ["view"], "segment": ["view"]},
        "campaign_manager": {"campaign": ["view", "add", "change"], "segment": ["view", "add", "change"]},
        "admin": {"campaign": ["view", "add", "change"], "segment": ["view", "add", "change"]},
    }
    # A launch is approved by a second person: another campaign manager or a team lead.
    custom_permissions = {
        "campaign_manager": ["approve_campaign_launch"],
        "team_lead": ["approve_campaign_launch"],
    }
