"""Dashboards for every level: the funnel end to end, remote-centre operations and the
branch view, each in the viewer's own scope."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = _("Dashboards")

    audit_verbs = {"dashboard.export": _("Dashboard table exported")}
    audit_details = {
        "table": _("table"),
        "format": _("format"),
        "rows": _("rows"),
        "start": _("from date"),
        "end": _("to date"),
        "team": _("team"),
        "advisor": _("advisor"),
        "branch": _("branch"),
        "campaign": _("campaign"),
        "rm": _("relationship manager"),
    }
    audit_targets = {"dashboards.table": _("dashboard table")}
    # The exported table, in words (the details keep its code).
    audit_values = {
        "funnel-stages": _("Funnel: stages"),
        "funnel-breakdown": _("Funnel: breakdown"),
        "operations-advisors": _("Operations: per advisor"),
        "operations-teams": _("Operations: per team"),
        "operations-days": _("Operations: per day"),
        "operations-hours": _("Operations: calls by hour"),
        "branch-rms": _("Branch view: per relationship manager"),
        "branch-branches": _("Branch view: per branch"),
        "branch-reasons": _("Branch view: reject reasons"),
        "records-reached_campaign": _("Records: campaign messages sent"),
        "records-reached_ai": _("Records: AI-bot conversations"),
        "records-proposed": _("Records: leads proposed"),
        "records-confirmed": _("Records: grades confirmed"),
        "records-referred": _("Records: referrals received"),
        "records-accepted": _("Records: referrals accepted"),
        "records-converted": _("Records: referrals converted"),
        "records-rejected": _("Records: referrals rejected"),
        "records-returned": _("Records: referrals returned"),
        "records-reviewed_on_time": _("Records: referrals reviewed on time"),
        "records-contacted_on_time": _("Records: first contacts on time"),
    }
