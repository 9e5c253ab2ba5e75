"""Who may do what in compliance: one predicate per action.

The services guard with these predicates (``PermissionDenied`` otherwise), the views ask
them to decide what a page offers and the templates show what they allow, so a page
never offers what a service refuses. The row-level predicates are mirrored row for row
by ``restrict(user, action)`` on the QuerySets of ``compliance.models``
(``compliance/tests/test_access.py`` checks they agree for every role).

Desk-wide actions (no row involved):

- ``can_oversee``: officers and administrators read the compliance desk (review queue,
  scripts awaiting review, lexicon, QA sampling, rescans, the review screen).
- ``can_edit_lexicon``, ``can_configure_qa``, ``can_start_rescan``: officers only.
- ``can_view_reports``: officers, administrators and team leads (their team's figures).
- ``can_propose_script``: the roles that write scripts (not branch staff).

Rows: flags (``view``, ``review``, ``report``), scripts (``view``, ``revise``) and script
versions (``view``, ``edit``, ``review``, ``approve``, ``report``); what each means is
written on its QuerySet.
"""

from __future__ import annotations

from org.roles import Role, role_of, team_of

from .constants import AUTHOR_ROLES, OVERSEER_ROLES
from .models import Flag, FlagStatus, Script, ScriptVersion, VersionStatus


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _is_officer(user) -> bool:
    return role_of(user) == Role.COMPLIANCE


# --- the desk -------------------------------------------------------------------------


def can_oversee(user) -> bool:
    return role_of(user) in OVERSEER_ROLES


def can_edit_lexicon(user) -> bool:
    return _is_officer(user)


def can_configure_qa(user) -> bool:
    return _is_officer(user)


def can_start_rescan(user) -> bool:
    return _is_officer(user)


def can_view_reports(user) -> bool:
    return role_of(user) in OVERSEER_ROLES or role_of(user) == Role.TEAM_LEAD


def can_propose_script(user) -> bool:
    return role_of(user) in AUTHOR_ROLES


# --- flags ----------------------------------------------------------------------------


def can_view_flag(user, flag: Flag) -> bool:
    role = role_of(user)
    if role in OVERSEER_ROLES:
        return True
    if flag.status != FlagStatus.CLOSED:
        return False
    if role == Role.TEAM_LEAD:
        team_id = team_of(user)
        return team_id is not None and flag.team_id == team_id
    return role == Role.ADVISOR and flag.advisor_id == user.pk


def can_review_flag(user, flag: Flag | None = None) -> bool:
    """Claim, release, escalate and close (every flag: the rule does not depend on the
    row, so the review queue asks it without one for its bulk close)."""
    return _is_officer(user)


def can_report_flag(user, flag: Flag) -> bool:
    role = role_of(user)
    if role in OVERSEER_ROLES:
        return True
    team_id = team_of(user)
    return role == Role.TEAM_LEAD and team_id is not None and flag.team_id == team_id


# --- scripts --------------------------------------------------------------------------


def can_view_script(user, script: Script) -> bool:
    if not _signed_in(user):
        return False
    if role_of(user) in OVERSEER_ROLES or script.author_id == user.pk:
        return True
    # Reads the prefetched versions when the caller has them.
    return any(v.author_id == user.pk or v.status == VersionStatus.APPROVED for v in script.versions.all())


def can_revise_script(user, script: Script) -> bool:
    return role_of(user) in AUTHOR_ROLES and can_view_script(user, script)


def can_view_version(user, version: ScriptVersion) -> bool:
    """Drafts and reviews are for the author and officers; approved text is for everyone."""
    if not _signed_in(user):
        return False
    if role_of(user) in OVERSEER_ROLES or user.pk in (version.author_id, version.script.author_id):
        return True
    return version.status == VersionStatus.APPROVED


def can_edit_version(user, version: ScriptVersion) -> bool:
    return _signed_in(user) and version.author_id == user.pk and version.status == VersionStatus.DRAFT


def can_review_version(user, version: ScriptVersion | None = None) -> bool:
    """Decide on a submitted version, retire an approved one."""
    return _is_officer(user)


def can_approve_version(user, version: ScriptVersion) -> bool:
    """An officer approves only what somebody else wrote."""
    return can_review_version(user, version) and version.author_id != user.pk


def can_report_version(user, version: ScriptVersion) -> bool:
    role = role_of(user)
    if role in OVERSEER_ROLES:
        return True
    team_id = team_of(user)
    if role != Role.TEAM_LEAD or team_id is None:
        return False
    return team_of(version.author) == team_id


def can_receive_feedback(user) -> bool:
    """The outcomes of reviews of one's calls (coaching): advisors their own, team leads
    their team's. The page itself lists only the user's flags, so it is open to all."""
    return role_of(user) in (Role.ADVISOR, Role.TEAM_LEAD)
