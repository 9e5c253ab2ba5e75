"""Template context for the shell: the user's role and the navigation for it."""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from cadence.access import can_view_cadence
from calls.access import can_view_call_metrics, can_work_queues
from campaigns.access import can_view_campaigns, can_view_holdout_report
from compliance.access import can_oversee, can_receive_feedback, can_view_reports
from customers.access import can_import_data, can_view_access_log
from dashboards.access import can_view_funnel
from org.access import can_view_capacity_page
from org.roles import Role, role_of
from referrals.access import can_view_referral_dashboard
from reports.access import can_view_reports as can_view_wealth_reports
from scoring.access import can_manage_scoring, can_manage_uplift

from .access import can_view_audit_log, can_view_jobs_page

# (url name, label, icon, who sees it). "Who" is the page's own predicate, the one its
# view is decorated with, so the menu never offers a page that answers 403; None: every
# staff user. Entries whose URL does not exist are skipped. SHORTCUTS maps a url name to
# the key that follows "g" (g c: customers).
NAVIGATION = [
    ("home", _("Home"), "house", None),
    ("customers:list", _("Customers"), "people", None),
    ("calls:queue", _("Lead queues"), "list-check", can_work_queues),
    ("calls:kpis", _("Call metrics"), "speedometer2", can_view_call_metrics),
    ("calls:capacity", _("Team capacity"), "people-fill", can_view_capacity_page),
    ("referrals:dashboard", _("Referral dashboard"), "bar-chart", can_view_referral_dashboard),
    ("dashboards:funnel", _("Dashboards"), "funnel", can_view_funnel),
    ("customers:access_log", _("Data access log"), "eye", can_view_access_log),
    ("customers:imports", _("Data import"), "upload", can_import_data),
    ("referrals:list", _("Referrals"), "send", None),
    ("scoring:model", _("Scoring model"), "graph-up", can_manage_scoring),
    ("campaigns:list", _("Campaigns"), "megaphone", can_view_campaigns),
    ("campaigns:holdout_report", _("Global-holdout report"), "pie-chart", can_view_holdout_report),
    ("campaigns:uplift", _("Uplift model"), "bullseye", can_manage_uplift),
    ("compliance:scripts", _("Scripts"), "chat-quote", None),
    ("compliance:review_queue", _("Compliance review"), "shield-check", can_oversee),
    ("compliance:reports", _("Compliance reports"), "clipboard-check", can_view_reports),
    ("compliance:lexicon", _("Lexicon"), "journal-text", can_oversee),
    ("compliance:my_flags", _("Compliance feedback"), "chat-square-text", can_receive_feedback),
    ("reports:list", _("Wealth reports"), "file-earmark-text", can_view_wealth_reports),
    ("workbench:audit", _("Audit log"), "clipboard-data", can_view_audit_log),
    ("workbench:jobs", _("Background jobs"), "cpu", can_view_jobs_page),
    ("cadence:overview", _("Service cadence 12-4-2-1"), "calendar-check", can_view_cadence),
]


SHORTCUTS = {
    "home": "h",
    "customers:list": "c",
    "calls:queue": "q",
    "referrals:list": "r",
    "scoring:model": "m",
    "compliance:scripts": "s",
    "compliance:review_queue": "v",
    "workbench:audit": "a",
}


def _nav_for(user, current_path: str) -> list[dict]:
    items = []
    for name, label, icon, allowed in NAVIGATION:
        if allowed is not None and not allowed(user):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"url": url, "label": label, "icon": icon, "active": False, "key": SHORTCUTS.get(name, "")})
    # The active entry is the one whose URL is the longest prefix of the current path
    # (/leads/metrics/ is "call metrics", not also "lead queues" at /leads/).
    matches = [i for i in items if current_path == i["url"] or (i["url"] != "/" and current_path.startswith(i["url"]))]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    return items


def shell(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Once per request: a page that renders a table renders a second template
    # (``{% render_table %}``), which runs the context processors again.
    cached = getattr(request, "_shell_context", None)
    if cached is not None:
        return cached
    role = role_of(user)
    request._shell_context = {
        "user_role": role,
        "user_role_label": Role(role).label if role else _("No role"),
        "nav_items": _nav_for(user, request.path),
    }
    return request._shell_context
