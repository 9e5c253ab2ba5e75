"""Who may do what with campaigns, segments and messages: one predicate per action,
mirrored row for row by ``Campaign.objects.restrict``, ``Segment.objects.restrict`` and
``Message.objects.restrict``
(``campaigns/tests/test_access.py`` checks that they agree for every role)."""

from __future__ import annotations

from customers.access import has_api_scope
from org.roles import Role, role_of

from .models import (
    APPROVE_PERMISSION,
    PUBLISHED_STATUSES,
    READ_ALL_ROLES,
    RUNNING_ROLES,
    CampaignStatus,
)


def _authenticated(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


# A journey is edited while a draft (in place) or once published (in a new version).
JOURNEY_EDIT_STATUSES = (
    CampaignStatus.DRAFT,
    CampaignStatus.SCHEDULED,
    CampaignStatus.RUNNING,
    CampaignStatus.PAUSED,
)


# --- pages ---------------------------------------------------------------------------------


def can_view_campaigns(user) -> bool:
    """The campaign list and calendar: whoever may see some campaign."""
    return _authenticated(user) and role_of(user) in (*READ_ALL_ROLES, Role.TEAM_LEAD, Role.ADVISOR)


def can_change_campaigns(user) -> bool:
    """Build and run campaigns (create one, attach scripts, build segments): campaign
    managers and administrators."""
    return _authenticated(user) and role_of(user) in RUNNING_ROLES


def can_view_segments(user) -> bool:
    return _authenticated(user) and role_of(user) in READ_ALL_ROLES


# --- one campaign --------------------------------------------------------------------------


def can_view_campaign(user, campaign) -> bool:
    if not _authenticated(user):
        return False
    role = role_of(user)
    if role in READ_ALL_ROLES:
        return True
    if role == Role.TEAM_LEAD:
        return campaign.status in (*PUBLISHED_STATUSES, CampaignStatus.PENDING_APPROVAL)
    if role == Role.ADVISOR:
        return campaign.status in PUBLISHED_STATUSES
    return False


def can_change_campaign(user, campaign) -> bool:
    return can_change_campaigns(user) and campaign.status != CampaignStatus.ENDED


def can_edit_journey(user, campaign) -> bool:
    """Edit the journey's steps and settings: a draft's in place, a scheduled, running or
    paused campaign's in a draft version; never while the launch awaits approval."""
    return can_change_campaign(user, campaign) and campaign.status in JOURNEY_EDIT_STATUSES


def can_approve_campaign(user, campaign) -> bool:
    """Approve (or return) a launch: the approver permission, a campaign awaiting
    approval, and never one's own campaign."""
    return (
        _authenticated(user)
        and user.has_perm(APPROVE_PERMISSION)
        and campaign.status == CampaignStatus.PENDING_APPROVAL
        and campaign.created_by_id != user.pk
    )


# --- segments ------------------------------------------------------------------------------


def can_view_segment(user, segment) -> bool:
    return can_view_segments(user)


def can_change_segment(user, segment) -> bool:
    return can_change_campaigns(user)


# --- messages and the gateways -------------------------------------------------------------

# The scope of an integration client (the bank's SMS, push, WeChat, e-mail and AI-bot
# gateways) that reports receipts, replies, clicks and bot sessions.
CHANNELS_SCOPE = "channels:write"


def can_view_outbox(user) -> bool:
    """The outbox (every message, its recipient masked): campaign managers, compliance
    and administrators; nobody else."""
    return _authenticated(user) and role_of(user) in READ_ALL_ROLES


def can_view_message(user, message) -> bool:
    return can_view_outbox(user)


def can_report_receipts(user) -> bool:
    """Post receipts and bot sessions: a gateway's client with the channels scope (or an
    administrator)."""
    return _authenticated(user) and has_api_scope(user, CHANNELS_SCOPE)


# --- the global holdout ------------------------------------------------------------------


def can_manage_holdout(user) -> bool:
    """See the global holdout's draws and re-draw it: campaign managers and administrators."""
    return _authenticated(user) and role_of(user) in RUNNING_ROLES


def can_view_holdout_report(user) -> bool:
    """The global-holdout report (group totals only): campaign managers, administrators
    and compliance."""
    return _authenticated(user) and role_of(user) in READ_ALL_ROLES


# --- A/B variants and promotion (campaigns/variants.py) -------------------------------------


def can_edit_variants(user, campaign) -> bool:
    """Add, weigh and change a campaign's variants (new entrants follow the new weights):
    whoever may edit its journey."""
    return can_edit_journey(user, campaign)


def can_promote_variant(user, campaign) -> bool:
    """Make a variant take every new treated entrant: campaign managers and
    administrators, while the campaign may still take entrants."""
    return can_change_campaign(user, campaign) and campaign.status in (
        CampaignStatus.SCHEDULED,
        CampaignStatus.RUNNING,
        CampaignStatus.PAUSED,
    )
