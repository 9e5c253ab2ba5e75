"""Reads of campaigns and segments, each starting from ``restrict(user, action)``."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from compliance.models import Script, ScriptVersion, VersionStatus
from core.access import get_for_user
from leads.models import PlannedCall, PlannedCallStatus

from .models import (
    Campaign,
    CampaignStatus,
    CampaignStep,
    CampaignTransition,
    Enrolment,
    EnrolmentState,
    ExitRule,
    JourneyEvent,
    JourneyEventKind,
    Message,
    MessageStatus,
    Segment,
)
from .targeting import REASONS


def campaigns_for_list(*, user):
    return Campaign.objects.restrict(user, "view").select_related("created_by__staff_profile", "audience", "product")


def campaign_get_for_user(*, user, pk, action: str = "view") -> Campaign:
    return get_for_user(
        Campaign.objects.select_related("created_by__staff_profile", "launch_approved_by__staff_profile", "audience"),
        user=user,
        pk=pk,
        action=action,
    )


def campaign_steps(*, campaign: Campaign, version: int | None = None) -> list[CampaignStep]:
    """The steps of a journey version (default: the current one) in order, each with its
    script's approved version (or None)."""
    steps = list(
        CampaignStep.objects.filter(campaign=campaign, version=version or campaign.journey_version)
        .select_related("script")
        .order_by("position")
    )
    approved = {
        v.script_id: v
        for v in ScriptVersion.objects.filter(
            script_id__in=[s.script_id for s in steps if s.script_id], status=VersionStatus.APPROVED
        )
    }
    for step in steps:
        step.approved_version = approved.get(step.script_id)
    return steps


def attribution_window_locked(campaign: Campaign) -> bool:
    """Whether the campaign's attribution window is fixed: once a customer has entered,
    results are counted with it, and another window would recount them after the fact (a
    way to make a campaign look better by picking the window that flatters it)."""
    return Enrolment.objects.filter(campaign_id=campaign.pk).exists()


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


# --- journey counts -------------------------------------------------------------------------


def journey_in_flight(*, campaign: Campaign) -> list[dict]:
    """Customers in flight on each step of the current version, in order: [{step, active}]
    (two queries whatever the number of steps)."""
    steps = list(CampaignStep.objects.filter(campaign=campaign, version=campaign.journey_version).order_by("position"))
    active = dict(
        Enrolment.objects.filter(campaign=campaign, state=EnrolmentState.ACTIVE, step__in=[s.pk for s in steps])
        .values("step_id")
        .annotate(n=Count("id"))
        .values_list("step_id", "n")
    )
    return [{"step": s, "active": active.get(s.pk, 0)} for s in steps]


@dataclass
class StepCounts:
    """What the diagram shows on one step."""

    active: int = 0  # on the step now
    passed: int = 0  # enrolments with anything recorded on the step
    queued: int = 0  # messages waiting to go (queued, held for the window, sending)
    sent: int = 0  # sent or delivered
    delivered: int = 0
    failed: int = 0
    replied: int = 0
    clicked: int = 0
    tasks_planned: int = 0
    tasks_done: int = 0
    waiting: int = 0  # waiting for an advisor with capacity
    control: int = 0  # control group: passed without a contact
    yes: int = 0
    no: int = 0
    converted: int = 0
    blocked: dict = field(default_factory=dict)  # the contact rule's words → count

    @property
    def blocked_total(self) -> int:
        return sum(self.blocked.values())


@dataclass
class JourneyCounts:
    steps: dict  # step id → StepCounts
    completed: int = 0
    exits: list = field(default_factory=list)  # [(reason in words, count)]
    active: int = 0

    def of(self, step: CampaignStep) -> StepCounts:
        return self.steps.get(step.pk) or StepCounts()


_QUEUED = (MessageStatus.QUEUED, MessageStatus.HELD, MessageStatus.SENDING)
_SENT = (MessageStatus.SENT, MessageStatus.DELIVERED)


def journey_counts(*, campaign: Campaign, steps: list[CampaignStep]) -> JourneyCounts:
    """Live counts of each of ``steps`` and of the journey's ends, set-based: five queries
    whatever the number of steps or customers (pinned in the tests)."""
    ids = [s.pk for s in steps]
    out = JourneyCounts(steps={pk: StepCounts() for pk in ids})
    exits: Counter = Counter()
    for row in (
        Enrolment.objects.filter(campaign=campaign).values("state", "step_id", "exit_reason").annotate(n=Count("id"))
    ):
        if row["state"] == EnrolmentState.ACTIVE:
            out.active += row["n"]
            if row["step_id"] in out.steps:
                out.steps[row["step_id"]].active += row["n"]
        elif row["state"] == EnrolmentState.COMPLETED:
            out.completed += row["n"]
        else:
            exits[row["exit_reason"]] += row["n"]
    out.exits = [(_exit_words(code), n) for code, n in sorted(exits.items(), key=lambda kv: (-kv[1], kv[0]))]

    events = JourneyEvent.objects.filter(campaign=campaign, step__in=ids)
    for row in events.values("step_id").annotate(n=Count("enrolment_id", distinct=True)):
        out.steps[row["step_id"]].passed = row["n"]
    blocked: dict = defaultdict(Counter)
    simple = {
        JourneyEventKind.YES: "yes",
        JourneyEventKind.NO: "no",
        JourneyEventKind.CONVERTED: "converted",
        JourneyEventKind.CONTROL: "control",
        JourneyEventKind.WAITING: "waiting",
    }
    for row in (
        events.filter(kind__in=[*simple, JourneyEventKind.BLOCKED])
        .values("step_id", "kind", "detail")
        .annotate(n=Count("id"))
    ):
        if row["kind"] == JourneyEventKind.BLOCKED:
            blocked[row["step_id"]][str(REASONS.get(row["detail"], _other()))] += row["n"]
        else:
            counts = out.steps[row["step_id"]]
            setattr(counts, simple[row["kind"]], getattr(counts, simple[row["kind"]]) + row["n"])
    for step_id, by_rule in blocked.items():
        out.steps[step_id].blocked = dict(sorted(by_rule.items(), key=lambda kv: -kv[1]))

    for row in (
        Message.objects.filter(campaign=campaign, step__in=ids)
        .values("step_id")
        .annotate(
            queued=Count("id", filter=Q(status__in=_QUEUED)),
            sent=Count("id", filter=Q(status__in=_SENT)),
            delivered=Count("id", filter=Q(status=MessageStatus.DELIVERED) | Q(delivered_at__isnull=False)),
            failed=Count("id", filter=Q(status=MessageStatus.FAILED)),
            replied=Count("id", filter=Q(replied_at__isnull=False)),
            clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        )
    ):
        counts = out.steps[row["step_id"]]
        for key in ("queued", "sent", "delivered", "failed", "replied", "clicked"):
            setattr(counts, key, row[key])

    for row in (
        PlannedCall.objects.filter(campaign_id=campaign.pk, campaign_step_id__in=ids)
        .values("campaign_step_id")
        .annotate(
            planned=Count("id", filter=Q(status=PlannedCallStatus.PLANNED)),
            done=Count("id", filter=Q(status=PlannedCallStatus.DONE)),
        )
    ):
        counts = out.steps[row["campaign_step_id"]]
        counts.tasks_planned, counts.tasks_done = row["planned"], row["done"]
    return out


def _other():
    return _("Other reason")


def _exit_words(code: str) -> str:
    if code in ExitRule.values:
        return str(ExitRule(code).label)
    return str(_other())
