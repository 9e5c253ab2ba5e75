"""Who may do what with campaigns."""

from __future__ import annotations

from org.roles import Role, role_of


def can_change_campaigns(user) -> bool:
    """Changing a campaign (its script, …): team leads, compliance and administrators, until
    the campaigns issue brings the campaign manager's role."""
    return role_of(user) in (Role.TEAM_LEAD, Role.COMPLIANCE, Role.ADMIN)
