"""Who may do what with a lead: one predicate per action.

The same predicate guards the service (``leads.services``), decides what a page offers
(``calls`` views and templates), and is mirrored row for row by
``Lead.objects.restrict(user, action)`` (``leads/tests/test_access.py`` checks they
agree for every role).

Leads (``Lead.objects.restrict``):

- ``view``: advisors and team leads their team's leads (an advisor also their own leads
  and the leads on customers they own; a team lead also the leads their team's advisors
  own), branch staff the leads referred to their branch (``LeadBranchAccess``),
  compliance and administrators all; in every case only where the user may see the
  lead's customer (``customers.access.can_view_customer``): a lead never shows a
  customer whom the customer pages hide.
- ``work``: an advisor their own leads and their team's unclaimed ones, a team lead the
  team's, an administrator any; always within ``view``.
- ``claim``: an advisor, an unclaimed new lead of their team.
- ``confirm`` (the grade): a lead they may work that is still new, or was called
  (contacting) before its grade was confirmed.
- ``call`` (log a call on it): a lead they may work that is still open.

Planned calls (``PlannedCall.objects.restrict``): ``view`` an advisor their own, a team
lead their team's advisors', compliance and administrators all.

A lead's record (its transitions, grade decisions and nurture plan) is seen by whoever
may see the lead.
"""

from __future__ import annotations

from customers.access import can_view_customer
from org.roles import ALL_SEEING_ROLES, BRANCH_ROLES, Role, role_of, team_of

from .models import LeadBranchAccess, LeadStatus


def _in_team(user, team_id: int | None) -> bool:
    """``team_id`` is the user's team. (Advisors and team leads always have one: org's
    ``staff_team_roles_have_team``; the other roles are asked before this.)"""
    return team_id is not None and team_id == user.staff_profile.team_id


# --- leads ----------------------------------------------------------------------------


def can_view_lead(user, lead) -> bool:
    # The call screen asks this for each of its actions (confirm, call, claim): the answer
    # is kept on the instance for the user, so the grant is read once per page. A service
    # works on a freshly locked instance, which starts without it.
    seen = lead.__dict__.setdefault("_viewable_for", {})
    key = getattr(user, "pk", None)
    if key not in seen:
        seen[key] = _can_view_lead(user, lead)
    return seen[key]


def _can_view_lead(user, lead) -> bool:
    role = role_of(user)
    if role in ALL_SEEING_ROLES:
        return True
    if role == Role.ADVISOR:
        reach = _in_team(user, lead.team_id) or lead.owner_id == user.pk or lead.customer.owner_id == user.pk
    elif role == Role.TEAM_LEAD:
        reach = _in_team(user, lead.team_id) or _in_team(user, team_of(lead.owner))
    elif role in BRANCH_ROLES:
        reach = LeadBranchAccess.objects.filter(lead=lead, branch_id=user.staff_profile.branch_id).exists()
    else:
        return False
    return reach and can_view_customer(user, lead.customer)


def can_work_lead(user, lead) -> bool:
    """One works only what one may see (``can_view_lead``)."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role == Role.ADVISOR:
        reach = lead.owner_id == user.pk or (lead.owner_id is None and _in_team(user, lead.team_id))
    elif role == Role.TEAM_LEAD:
        reach = _in_team(user, lead.team_id)
    else:
        return False
    return reach and can_view_lead(user, lead)


def can_claim_next(user) -> bool:
    """Whether ``user`` takes leads from a queue at all (the "claim next" button)."""
    return role_of(user) == Role.ADVISOR


def can_claim_lead(user, lead) -> bool:
    return (
        can_claim_next(user) and lead.owner_id is None and lead.status == LeadStatus.NEW and can_work_lead(user, lead)
    )


def can_confirm_lead(user, lead) -> bool:
    """A new lead, or one called before its grade was confirmed: logging the first call
    moves a new lead to contacting, and the advisor who just spoke to the customer is
    the one to grade it."""
    unconfirmed = lead.status == LeadStatus.NEW or (lead.status == LeadStatus.CONTACTING and not lead.confirmed_grade)
    return unconfirmed and can_work_lead(user, lead)


def can_call_lead(user, lead) -> bool:
    return lead.is_open and can_work_lead(user, lead)


# --- what hangs off a lead ----------------------------------------------------------------


def can_view_lead_record(user, record) -> bool:
    """A transition, grade decision or nurture plan: whoever may see its lead."""
    return can_view_lead(user, record.lead)


def can_view_planned_call(user, planned) -> bool:
    role = role_of(user)
    if role in ALL_SEEING_ROLES:
        return True
    if role == Role.ADVISOR:
        return planned.advisor_id == user.pk
    if role == Role.TEAM_LEAD:
        profile = getattr(planned.advisor, "staff_profile", None)
        return _in_team(user, profile.team_id if profile is not None else None)
    return False
