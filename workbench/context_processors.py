"""Template context for the shell: the user's role and the navigation for it."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from org.roles import Role, role_of

# (url name, label, icon, roles that see it). Entries whose URL does not exist yet are
# skipped, so a feature's menu item appears when the feature's URLs are installed.
# SHORTCUTS maps a url name to the key that follows "g" (g c: customers).
NAVIGATION = [
    ("home", _("Home"), "house", None),
    ("customers:list", _("Customers"), "people", None),
    ("calls:queue", _("Lead queues"), "list-check", (Role.ADVISOR, Role.TEAM_LEAD, Role.ADMIN)),
    ("calls:kpis", _("Call metrics"), "speedometer2", (Role.TEAM_LEAD, Role.ADMIN)),
    ("referrals:dashboard", _("Referral dashboard"), "bar-chart", (Role.BRANCH_MANAGER, Role.TEAM_LEAD, Role.ADMIN)),
    ("customers:access_log", _("Data access log"), "eye", (Role.COMPLIANCE, Role.ADMIN)),
    ("customers:imports", _("Data import"), "upload", (Role.TEAM_LEAD, Role.ADMIN)),
    ("referrals:list", _("Referrals"), "send", None),
    ("scoring:model", _("Scoring model"), "graph-up", (Role.TEAM_LEAD, Role.ADMIN)),
    ("compliance:scripts", _("Scripts"), "chat-quote", None),
    ("compliance:review_queue", _("Compliance review"), "shield-check", (Role.COMPLIANCE, Role.ADMIN)),
    ("compliance:reports", _("Compliance reports"), "clipboard-check", (Role.COMPLIANCE, Role.TEAM_LEAD, Role.ADMIN)),
    ("compliance:lexicon", _("Lexicon"), "journal-text", (Role.COMPLIANCE, Role.ADMIN)),
    ("compliance:my_flags", _("Compliance feedback"), "chat-square-text", (Role.ADVISOR, Role.TEAM_LEAD)),
    ("workbench:audit", _("Audit log"), "clipboard-data", (Role.COMPLIANCE, Role.ADMIN)),
    ("workbench:jobs", _("Background jobs"), "cpu", (Role.TEAM_LEAD, Role.COMPLIANCE, Role.ADMIN)),
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
    role = role_of(user)
    return {
        "user_role": role,
        "user_role_label": Role(role).label if role else _("No role"),
        "nav_items": _nav_for(role, request.path),
    }
