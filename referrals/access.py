"""Who may do what with a referral: one predicate per action of ``Referral.objects.restrict``.

The same predicate guards the service (``require_decide`` / ``require_work`` below),
decides what the detail page and the list offer, and is mirrored row for row by
``Referral.objects.restrict(user, action)`` (``tests/test_access.py`` checks they agree
for every role). Follow-ups, events and SLA breaches follow their referral.

- ``view``: branch staff their branch's, an advisor the ones they made, a team lead the
  team's (made by an advisor of the team or about a lead of the team), compliance and
  administrators all.
- ``decide`` (accept, reject, reassign): a manager of the receiving branch.
- ``work`` (follow up, record the outcome, return to the advisor): the relationship
  manager it is assigned to, or a manager of the receiving branch.

Administrators may do everything. Status (pending, in progress, closed) is not part of
who may act: the services check it and the page shows a form only when both allow.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from org.roles import BRANCH_ROLES, Role, role_of


def _profile(user):
    return getattr(user, "staff_profile", None)


def _same_branch(user, referral) -> bool:
    profile = _profile(user)
    return profile is not None and profile.branch_id is not None and profile.branch_id == referral.branch_id


def can_view_referral(user, referral) -> bool:
    role = role_of(user)
    if role in (Role.ADMIN, Role.COMPLIANCE):
        return True
    if role in BRANCH_ROLES:
        return _same_branch(user, referral)
    if role == Role.ADVISOR:
        return referral.from_advisor_id == user.pk
    if role == Role.TEAM_LEAD:
        team_id = _profile(user).team_id  # never None for a team lead (a database constraint)
        advisor = _profile(referral.from_advisor) if referral.from_advisor_id else None
        return (advisor is not None and advisor.team_id == team_id) or referral.lead.team_id == team_id
    return False


def can_decide_referral(user, referral) -> bool:
    role = role_of(user)
    return role == Role.ADMIN or (role == Role.BRANCH_MANAGER and _same_branch(user, referral))


def can_work_referral(user, referral) -> bool:
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role == Role.BRANCH_MANAGER:
        return _same_branch(user, referral)
    if role == Role.BRANCH_RM:
        return _same_branch(user, referral) and referral.assigned_rm_id == user.pk
    return False


def require_decide(user, referral) -> None:
    """The services' guard for accept, reject and reassign."""
    if not can_decide_referral(user, referral):
        raise PermissionDenied(_("Only the staff of the receiving branch may do this."))


def require_work(user, referral) -> None:
    """The services' guard for follow-ups, outcomes and returns."""
    if can_work_referral(user, referral):
        return
    if role_of(user) == Role.BRANCH_RM and _same_branch(user, referral):
        raise PermissionDenied(_("This referral is assigned to another relationship manager."))
    raise PermissionDenied(_("Only the staff of the receiving branch may do this."))


def can_view_referral_dashboard(user) -> bool:
    """The referral funnel and SLA dashboard: branch managers (their branch), team leads
    (their team), compliance and administrators (all)."""
    return role_of(user) in (Role.BRANCH_MANAGER, Role.TEAM_LEAD, Role.COMPLIANCE, Role.ADMIN)


def can_bulk_accept(user) -> bool:
    """Accepting several pending referrals at once: a branch manager (or an administrator)."""
    return role_of(user) in (Role.BRANCH_MANAGER, Role.ADMIN)
