"""Predicates of the staff-profile rule (``org.models.StaffProfileQuerySet``), one per action."""

from __future__ import annotations

from .roles import Role, role_of, team_of


def can_view_staff_profile(user, profile) -> bool:
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role == Role.TEAM_LEAD:
        return profile.team_id is not None and profile.team_id == team_of(user)
    return role == Role.ADVISOR and profile.user_id == user.pk


def can_plan_capacity(user, profile) -> bool:
    """Set an advisor's daily call capacity and absence: their team lead, or an administrator."""
    if profile.role != Role.ADVISOR:
        return False
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    return role == Role.TEAM_LEAD and profile.team_id is not None and profile.team_id == team_of(user)


def can_view_capacity_page(user) -> bool:
    return role_of(user) in (Role.TEAM_LEAD, Role.ADMIN)
