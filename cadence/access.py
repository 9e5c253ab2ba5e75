"""Who sees whose cadence: one rule for customers' progress, as a queryset and a
predicate that agree (tests/test_access.py).

- head office (administrators, compliance, campaign managers): every customer;
- a remote advisor: the customers they own;
- a team lead: the customers owned by the team's advisors;
- branch managers and relationship managers: the customers whose home branch is theirs;
- anyone else: nobody.

The targets page is for administrators only.
"""

from __future__ import annotations

from customers.models import Customer
from org.roles import ALL_SEEING_ROLES, BRANCH_ROLES, Role, role_of

HQ_ROLES = ALL_SEEING_ROLES | {Role.CAMPAIGN_MANAGER}
CADENCE_ROLES = HQ_ROLES | BRANCH_ROLES | {Role.ADVISOR, Role.TEAM_LEAD}


def _profile(user):
    return getattr(user, "staff_profile", None)


def can_view_cadence(user) -> bool:
    """The cadence pages at all (the navigation asks the same)."""
    return role_of(user) in CADENCE_ROLES


def can_view_team_cadence(user) -> bool:
    """The per-team page: everyone who sees more than their own book."""
    return role_of(user) in CADENCE_ROLES and role_of(user) != Role.ADVISOR


def can_edit_targets(user) -> bool:
    return role_of(user) == Role.ADMIN


def cadence_customers(user, queryset=None):
    """The customers whose cadence ``user`` may see (the rows behind every figure)."""
    qs = Customer.objects.all() if queryset is None else queryset
    role = role_of(user)
    if role in HQ_ROLES:
        return qs
    profile = _profile(user)
    if profile is None:
        return qs.none()
    if role == Role.ADVISOR:
        return qs.filter(owner=user)
    if role == Role.TEAM_LEAD and profile.team_id is not None:
        return qs.filter(owner__staff_profile__team_id=profile.team_id)
    if role in BRANCH_ROLES and profile.branch_id is not None:
        return qs.filter(home_branch_id=profile.branch_id)
    return qs.none()


def can_view_advisor_cadence(user, advisor_profile) -> bool:
    """An advisor's page: their own, their team lead's, their branch's staff (who see only
    the branch's customers on it) and head office."""
    role = role_of(user)
    if role in HQ_ROLES or role in BRANCH_ROLES:
        return True
    if role == Role.ADVISOR:
        return advisor_profile.user_id == user.pk
    if role == Role.TEAM_LEAD:
        profile = _profile(user)
        return profile is not None and profile.team_id is not None and advisor_profile.team_id == profile.team_id
    return False
