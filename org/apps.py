from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    """Branches, teams, staff and their roles, and the working-day calendar."""

    name = "org"
    verbose_name = _("Organisation")

    audit_verbs = {"staff.capacity": _("Advisor's call capacity planned")}
    audit_details = {
        "advisor": _("advisor"),
        "before": _("before"),
        "daily_call_capacity": _("daily call capacity"),
        "absent_until": _("absent until"),
    }

    # What each role may do with this app's models (granted by org's data migration,
    # with the core's permissions, which name no roles).
    role_permissions = {
        "admin": {m: ["view", "add", "change"] for m in ("branch", "team", "staffprofile", "holiday")},
    }
    core_role_permissions = {
        "compliance": {"auditevent": ["view"]},
        "admin": {"auditevent": ["view"], "job": ["view"], "notification": ["view"]},
    }
    core_custom_permissions = {"compliance": ["view_all_jobs"], "admin": ["view_all_jobs"]}
