"""Who may do what in the advisor's day: one predicate per action.

- ``can_work_queues``: the queue pages, the call screen's actions and the leads API are
  for advisors, team leads and administrators.
- ``can_view_call_metrics``: the team figures page, for team leads and administrators.
- ``view`` of a call log: an advisor their own calls, a team lead their team's advisors'
  calls, compliance and administrators all. Mirrored row for row by
  ``CallLog.objects.restrict`` (``calls/tests/test_access.py`` checks they agree).

What may be done with one lead (confirm, claim, log a call) is the lead's rule:
``leads.access``.
"""

from __future__ import annotations

from org.roles import ALL_SEEING_ROLES, Role, role_of

QUEUE_ROLES = frozenset({Role.ADVISOR, Role.TEAM_LEAD, Role.ADMIN})


def can_work_queues(user) -> bool:
    return role_of(user) in QUEUE_ROLES


def can_view_call_metrics(user) -> bool:
    return role_of(user) in (Role.TEAM_LEAD, Role.ADMIN)


def can_view_call_log(user, call) -> bool:
    role = role_of(user)
    if role in ALL_SEEING_ROLES:
        return True
    if role == Role.ADVISOR:
        return call.advisor_id == user.pk
    if role == Role.TEAM_LEAD:
        profile = getattr(call.advisor, "staff_profile", None)
        return profile is not None and profile.team_id == user.staff_profile.team_id
    return False
