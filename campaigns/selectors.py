"""Reads of campaigns and segments, each starting from ``restrict(user, action)``."""

from __future__ import annotations

from compliance.models import Script, ScriptVersion, VersionStatus
from core.access import get_for_user

from .models import Campaign, CampaignStatus, CampaignStep, CampaignTransition, Message, Segment


def campaigns_for_list(*, user):
    return Campaign.objects.restrict(user, "view").select_related("created_by__staff_profile", "audience", "product")


def campaign_get_for_user(*, user, pk, action: str = "view") -> Campaign:
    return get_for_user(
        Campaign.objects.select_related("created_by__staff_profile", "launch_approved_by__staff_profile", "audience"),
        user=user,
        pk=pk,
        action=action,
    )


def campaign_steps(*, campaign: Campaign) -> list[CampaignStep]:
    """The journey's steps in order, each with its script's approved version (or None)."""
    steps = list(CampaignStep.objects.filter(campaign=campaign).select_related("script").order_by("position"))
    approved = {
        v.script_id: v
        for v in ScriptVersion.objects.filter(
            script_id__in=[s.script_id for s in steps if s.script_id], status=VersionStatus.APPROVED
        )
    }
    for step in steps:
        step.approved_version = approved.get(step.script_id)
    return steps


def campaign_transitions(*, campaign: Campaign):
    return CampaignTransition.objects.filter(campaign=campaign).select_related("actor__staff_profile")


def campaigns_awaiting_approval(*, user):
    return Campaign.objects.restrict(user, "approve").filter(status=CampaignStatus.PENDING_APPROVAL)


def scripts_for_steps(*, user):
    """Scripts a campaign step may name: those the user can see (an unapproved one can be
    chosen while drafting; the launch waits for its approval)."""
    return Script.objects.restrict(user, "view").order_by("title", "id")


def segments_for_list(*, user):
    return Segment.objects.restrict(user, "view").select_related("created_by__staff_profile")


def segment_get_for_user(*, user, pk, action: str = "view") -> Segment:
    return get_for_user(Segment.objects.all(), user=user, pk=pk, action=action)


def campaigns_on_calendar(*, user):
    """Scheduled, running and paused campaigns the user may see, by start date."""
    return (
        Campaign.objects.restrict(user, "view")
        .filter(status__in=(CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED))
        .select_related("audience")
        .order_by("starts_on", "pk")
    )


def messages_for_outbox(*, user, status: str = "", channel: str = ""):
    """The outbox list: the messages the user may see, newest first, with their campaign."""
    messages = Message.objects.restrict(user, "view").select_related("campaign").defer("campaign__description")
    if status:
        messages = messages.filter(status=status)
    if channel:
        messages = messages.filter(channel=channel)
    return messages.order_by("-created_at", "-id")
