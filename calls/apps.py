from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CallsConfig(AppConfig):
    """The remote advisor's working day: lead queues, the call screen, call logs and their
    outcome, the contact policy and the call measures."""

    name = "calls"
    verbose_name = _("Calls")

    audit_details = {
        "blocks": _("blocked by"),
        "disposition": _("disposition"),
        "purpose": _("purpose"),
        "duration": _("duration"),
        "interest": _("interest"),
        "next_action": _("next action"),
        "script_version_id": _("script version"),
    }

    audit_verbs = {
        "lead.view": _("Call screen opened"),
        "call.log": _("Call logged"),
        "call.policy_override": _("Contact policy overridden for a service call"),
        "call.refused_by_policy": _("Marketing call refused by the contact policy"),
    }

    def ready(self) -> None:
        # The referral panel reads this app's models: register once the apps are loaded
        # (the one import inside a function docs/architecture.md allows).
        from . import referral_panel

        referral_panel.register()
