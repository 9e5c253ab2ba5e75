"""Who may do what with a lead: one predicate per action.

The same predicate guards the service (``leads.services.lead_require_work``), decides
what a page offers, and is mirrored row for row by ``Lead.objects.restrict(user,
action)`` (``leads/tests/test_access.py`` checks they agree for every role).

- ``view``: advisors and team leads their team's leads (and an advisor's own book),
  branch staff the leads referred to their branch, compliance and administrators all.
- ``work`` (confirm, call, claim): an advisor their own leads and their team's
  unclaimed ones, a team lead the team's, an administrator any.
- ``claim``: an advisor, an unclaimed new lead of their team.
"""

from __future__ import annotations

from org.roles import Role, role_of

from .models import LeadStatus


def _team_id(user) -> int | None:
    profile = getattr(user, "staff_profile", None)
    return profile.team_id if profile is not None else None


def can_work_lead(user, lead) -> bool:
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    team_id = _team_id(user)
    if role == Role.ADVISOR:
        return lead.owner_id == user.pk or (lead.owner_id is None and team_id is not None and lead.team_id == team_id)
    if role == Role.TEAM_LEAD:
        return team_id is not None and lead.team_id == team_id
    return False


def can_claim_lead(user, lead) -> bool:
    return (
        role_of(user) == Role.ADVISOR
        and lead.owner_id is None
        and lead.status == LeadStatus.NEW
        and can_work_lead(user, lead)
    )
