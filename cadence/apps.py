"""The 12-4-2-1 service cadence: yearly targets of themed interactions, allocation reviews,
face-to-face meetings and the written report per customer, progress and planned calls."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CadenceConfig(AppConfig):
    name = "cadence"
    verbose_name = _("Service cadence")

    # The targets are reference data administrators edit in the admin too.
    role_permissions = {
        "admin": {"cadencetargets": ["view", "add", "change"], "cadenceplan": ["view"]},
        "compliance": {"cadenceplan": ["view"]},
    }

    audit_verbs = {
        "cadence.targets_update": _("Service cadence targets changed"),
        "cadence.plan_calls": _("Calls planned to keep the service cadence"),
    }
    # "before" and "after" are org's words.
    audit_details = {
        "tiers": _("customer tiers"),
        "themed": _("themed interactions a year"),
        "reviews": _("asset-allocation reviews a year"),
        "face_to_face": _("face-to-face reviews a year"),
        "reports": _("written wealth reports a year"),
        "plan_ahead_days": _("days planned ahead"),
        "planned": _("calls planned"),
        "waiting": _("customers waiting for capacity"),
        "do_not_disturb": _("customers on phone do-not-disturb, not called"),
        # seed_demo's counts of this app's rows
        "cadence_touches": _("service cadence touches"),
        "cadence_calls": _("service cadence calls planned"),
    }

    # The tiers a target names, in the customers' words (customers.Tier).
    audit_values = {
        "long_tail": _("Long tail"),
        "base": _("Base"),
        "wealth": _("Wealth"),
        "private": _("Private banking"),
    }

    def ready(self) -> None:
        # The portrait bar reads this app's models: register once the apps are loaded
        # (the one import inside a function docs/architecture.md allows).
        from . import portrait

        portrait.register()
