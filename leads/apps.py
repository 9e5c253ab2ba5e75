from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    """The lead record and its lifecycle: transitions, grade decisions, nurture plans and
    planned calls."""

    name = "leads"
    verbose_name = _("Leads")

    audit_details = {
        "proposed": _("proposed grade"),
        "confirmed": _("confirmed grade"),
        "overridden": _("overridden"),
        "touches": _("touches"),
        "owner": _("owner"),
        "status": _("status"),
        "grade": _("grade"),
        "day": _("day"),
        "moved": _("moved to a colleague"),
        "stuck": _("no colleague had capacity"),
    }

    # The codes a lead's events hold (statuses, grades), in the words of the models' choices
    # (leads.tests.test_access checks they agree).
    audit_values = {
        "new": _("New"),
        "confirmed": _("Confirmed"),
        "contacting": _("Contacting"),
        "nurturing": _("Nurturing"),
        "referred": _("Referred"),
        "pooled": _("Incubation pool"),
        "won": _("Won"),
        "lost": _("Lost"),
        "closed": _("Closed"),
        "high": _("High"),
        "mid": _("Mid"),
        "low": _("Low"),
    }

    role_permissions = {
        "advisor": {"lead": ["view", "change"]},
        "team_lead": {"lead": ["view", "change"]},
        "compliance": {"lead": ["view"]},
        "admin": {"lead": ["view", "add", "change"]},
    }

    audit_verbs = {
        "lead.transition": _("Lead status changed"),
        "lead.claim": _("Lead claimed"),
        "lead.confirm_grade": _("Lead grade confirmed"),
        "nurture.start": _("Nurture cadence started"),
        "call.callback_planned": _("Callback planned"),
        "planned_calls.rebalance": _("Call tasks of absent advisors moved"),
    }

    def ready(self) -> None:
        # The portrait fact reads this app's models: register once the apps are loaded
        # (the one import inside a function docs/architecture.md allows).
        from . import portrait

        portrait.register()
