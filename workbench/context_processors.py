"""Template context for the shell: the user's role and the navigation for it."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .roles import Role, role_of

# (url name, label, icon, roles that see it). Entries whose URL does not exist yet are
# skipped, so a feature's menu item appears when the feature's URLs are installed.
# SHORTCUTS maps a url name to the key that follows "g" (g c: customers).
NAVIGATION = [
    ("home", _("Home"), "house", None),
    ("customers:list", _("Customers"), "people", None),
    ("leads:queue", _("Lead queues"), "list-check", (Role.ADVISOR, Role.TEAM_LEAD, Role.ADMIN)),
    ("leads:kpis", _("Call metrics"), "speedometer2", (Role.TEAM_LEAD, Role.ADMIN)),
    ("referrals:dashboard", _("Referral dashboard"), "bar-chart", (Role.BRANCH_MANAGER, Role.TEAM_LEAD, Role.ADMIN)),
    ("customers:access_log", _("Data access log"), "eye", (Role.COMPLIANCE, Role.ADMIN)),
    ("customers:imports", _("Data import"), "upload", (Role.TEAM_LEAD, Role.ADMIN)),
    ("referrals:list", _("Referrals"), "send", None),
    ("scoring:model", _("Scoring model"), "graph-up", (Role.TEAM_LEAD, Role.ADMIN)),
    ("campaigns:scripts", _("Scripts"), "chat-quote", None),
    ("campaigns:review_queue", _("Compliance review"), "shield-check", (Role.COMPLIANCE, Role.ADMIN)),
    ("campaigns:reports", _("Compliance reports"), "clipboard-check", (Role.COMPLIANCE, Role.TEAM_LEAD, Role.ADMIN)),
    ("campaigns:lexicon", _("Lexicon"), "journal-text", (Role.COMPLIANCE, Role.ADMIN)),
    ("workbench:audit", _("Audit log"), "clipboard-data", (Role.COMPLIANCE, Role.ADMIN)),
    ("workbench:jobs", _("Background jobs"), "cpu", (Role.TEAM_LEAD, Role.COMPLIANCE, Role.ADMIN)),
]


SHORTCUTS = {
    "home": "h",
    "customers:list": "c",
    "leads:queue": "q",
    "referrals:list": "r",
    "scoring:model": "m",
    "campaigns:scripts": "s",
    "campaigns:review_queue": "v",
    "workbench:audit": "a",
}


def _nav_for(role: str | None, current_path: str) -> list[dict]:
    from django.urls import NoReverseMatch

    items = []
    for name, label, icon, roles in NAVIGATION:
        if roles is not None and role not in roles:
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        active = current_path == url if name == "home" else current_path.startswith(url)
        items.append({"url": url, "label": label, "icon": icon, "active": active, "key": SHORTCUTS.get(name, "")})
    return items


def shell(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    role = role_of(user)
    return {
        "user_role": role,
        "user_role_label": Role(role).label if role else _("No role"),
        "nav_items": _nav_for(role, request.path),
    }
