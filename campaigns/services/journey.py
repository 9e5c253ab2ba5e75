"""Editing a campaign's journey: its steps, their order, branches, and the journey's
settings (exit criteria, control share, daily entry limit, attribution window).

A draft's steps are edited in place (``version = journey_version``). A scheduled,
running or paused campaign is never edited under its entrants' feet: the first edit
copies the current version's steps as ``journey_version + 1`` (``draft_version``), and
the edits apply to that copy until :func:`journey_publish` makes it current for new
entrants (enrolments keep the steps of the version they entered under) or
:func:`journey_discard_draft` drops it. A campaign awaiting launch approval or ended is
not edited at all.

After every change the whole journey is checked (:func:`journey_problems`): targets name
steps of the same version, a branch never targets itself nor starts the journey, and any
loop passes through a wait, so the runner can never spin.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from core.audit import audit_record
from customers.models import Channel

from ..access import can_change_campaign, can_edit_journey
from ..diagram import words_list
from ..journeys.checks import journey_problems
from ..models import (
    ATTRIBUTION_DAYS_MAX,
    ATTRIBUTION_DAYS_MIN,
    ATTRIBUTION_LOCKED_MESSAGE,
    ATTRIBUTION_WINDOW_MESSAGE,
    BranchCondition,
    Campaign,
    CampaignStatus,
    CampaignStep,
    ExitRule,
    StepKind,
)
from ..selectors import attribution_window_locked, journey_in_flight
from .lifecycle import campaign_unapproved_scripts

MAX_STEPS = 40
MAX_WAIT_HOURS = 24 * 180
MAX_DUE_HOURS = 24 * 30
MAX_CONTROL_PERCENT = 50


def journey_edit_version(campaign: Campaign) -> int:
    """The version the editor shows and changes: the draft version if one is open, else
    the current one (a first edit of a published campaign opens the draft)."""
    return campaign.draft_version or campaign.journey_version


def _locked(actor, campaign: Campaign) -> Campaign:
    if not can_change_campaign(actor, campaign):
        raise PermissionDenied(_("You may not change this campaign."))
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not can_edit_journey(actor, campaign):
        raise ValidationError(
            _("This campaign is %(status)s: its journey cannot be edited.") % {"status": campaign.get_status_display()}
        )
    return campaign


def _open_version(actor, campaign: Campaign) -> int:
    """The version edits go to (``campaign`` locked): a draft's own, or a published
    campaign's draft version, created on first use as a copy of the current steps."""
    if campaign.status == CampaignStatus.DRAFT or campaign.draft_version:
        return journey_edit_version(campaign)
    used = CampaignStep.objects.filter(campaign=campaign).aggregate(top=Max("version"))["top"] or 0
    new = max(used, campaign.journey_version) + 1
    # Every column but the id and the version, so a column added to steps is copied too.
    columns = [f.attname for f in CampaignStep._meta.concrete_fields if f.attname not in ("id", "version")]
    CampaignStep.objects.bulk_create(
        CampaignStep(version=new, **{name: getattr(s, name) for name in columns})
        for s in CampaignStep.objects.filter(campaign=campaign, version=campaign.journey_version)
    )
    campaign.draft_version = new
    campaign.save(update_fields=["draft_version"])
    audit_record(
        actor=actor,
        verb="campaign.journey_draft",
        target=campaign,
        details={"version": new, "from_version": campaign.journey_version},
    )
    return new


def _steps(campaign: Campaign, version: int) -> list[CampaignStep]:
    return list(CampaignStep.objects.filter(campaign=campaign, version=version).order_by("position"))


def _step_in_version(actor, step: CampaignStep) -> tuple[Campaign, int, CampaignStep]:
    """The campaign (locked), the version being edited and ``step``'s row in it: a step of
    the current version of a published campaign stands for its copy in the draft."""
    campaign = _locked(actor, step.campaign)
    if step.version not in (campaign.journey_version, campaign.draft_version):
        raise ValidationError(_("This step belongs to an earlier version of the journey: it cannot be edited."))
    version = _open_version(actor, campaign)
    if step.version != version:
        # The current version's step: edits go to its copy in the draft (same position).
        step = CampaignStep.objects.filter(campaign=campaign, version=version, position=step.position).first()
        if step is None:
            raise ValidationError(_("This step is no longer in the journey being edited."))
    return campaign, version, step


# --- checks (the rules: ``journeys.checks``) ----------------------------------------------


def _check_journey(campaign: Campaign, version: int) -> None:
    problems = journey_problems(_steps(campaign, version))
    if problems:
        raise ValidationError(problems)


def _clean_fields(
    *,
    kind: str,
    channel: str = "",
    script=None,
    wait_hours: int | None = None,
    wait_days: int | None = None,
    condition: str = "",
    yes_position: int | None = None,
    no_position: int | None = None,
    due_hours: int | None = None,
    lead_intents: list[str] | None = None,
) -> dict:
    """The columns of a step of ``kind``, the fields other kinds use cleared; raises a
    ValidationError keyed by field. An AI-bot step may name the intents that open a lead
    for the advisor to confirm (the campaign's lead rule)."""
    if kind not in StepKind.values:
        raise ValidationError({"kind": _("Choose a kind of step.")})
    errors = {}
    fields = {
        "kind": kind,
        "channel": "",
        "script": None,
        "wait_hours": None,
        "condition": "",
        "yes_position": None,
        "no_position": None,
        "due_hours": None,
        "lead_intents": [],
    }
    intents = [str(i).strip() for i in lead_intents or [] if str(i).strip()]
    if intents and not (kind == StepKind.SEND and channel == Channel.AI_BOT):
        errors["lead_intents"] = _("Only an AI-bot step opens leads by the intents it hears.")
    elif len(intents) > 20 or any(len(i) > 50 for i in intents):
        errors["lead_intents"] = _("Name at most 20 intents, each at most 50 characters.")
    else:
        fields["lead_intents"] = intents
    if kind in (StepKind.SEND, StepKind.CALL_TASK):
        if script is None:
            errors["script"] = _("Choose the script the step's words come from.")
        fields["script"] = script
    if kind == StepKind.SEND:
        if not channel:
            errors["channel"] = _("Choose the channel the message goes out on.")
        elif channel in ("phone", "branch_visit"):
            errors["channel"] = _("A call is its own kind of step: choose a message channel.")
        fields["channel"] = channel
    elif kind == StepKind.CALL_TASK:
        fields["channel"] = "phone"
        if due_hours is not None and not 1 <= due_hours <= MAX_DUE_HOURS:
            errors["due_hours"] = _("A call task is due within 1 hour to 30 days.")
        fields["due_hours"] = due_hours or 72
    elif kind == StepKind.WAIT:
        if wait_days is not None and wait_hours is None:
            wait_hours = wait_days * 24
        if not wait_hours or wait_hours < 1:
            errors["wait_hours"] = _("A wait lasts at least one hour.")
        elif wait_hours > MAX_WAIT_HOURS:
            errors["wait_hours"] = _("A wait lasts at most 180 days.")
        fields["wait_hours"] = wait_hours
    elif kind == StepKind.BRANCH:
        if condition not in BranchCondition.values:
            errors["condition"] = _("Choose what the branch asks.")
        if wait_days is not None and wait_hours is None:
            wait_hours = wait_days * 24
        if wait_hours is not None and not 1 <= wait_hours <= MAX_DUE_HOURS:
            errors["wait_hours"] = _("A branch waits for an answer from 1 hour to 30 days, or asks at once.")
        fields.update(condition=condition, yes_position=yes_position, no_position=no_position, wait_hours=wait_hours)
    if errors:
        raise ValidationError(errors)
    return fields


# --- steps -----------------------------------------------------------------------------------


@transaction.atomic
def journey_step_add(*, actor, campaign: Campaign, kind: str, **fields) -> CampaignStep:
    """Append a step to the journey being edited: a message on a channel or an advisor
    call task (each with its script; a task due within ``due_hours``), a wait of
    ``wait_hours`` or ``wait_days``, or a branch on ``condition`` going to ``yes_position``
    / ``no_position`` (None: the journey ends there)."""
    campaign = _locked(actor, campaign)
    columns = _clean_fields(kind=kind, **fields)
    version = _open_version(actor, campaign)
    steps = _steps(campaign, version)
    if len(steps) >= MAX_STEPS:
        raise ValidationError(_("A journey has at most %(n)s steps.") % {"n": MAX_STEPS})
    step = CampaignStep.objects.create(
        campaign=campaign, version=version, position=(steps[-1].position + 1) if steps else 1, **columns
    )
    _check_journey(campaign, version)
    audit_record(
        actor=actor,
        verb="campaign.add_step",
        target=campaign,
        details={"step": step.pk, "version": version, **_described(step)},
    )
    return step


@transaction.atomic
def journey_step_edit(*, actor, step: CampaignStep, kind: str, **fields) -> CampaignStep:
    """Change a step of the journey being edited (its kind too)."""
    campaign, version, step = _step_in_version(actor, step)
    columns = _clean_fields(kind=kind, **fields)
    before = _described(step)
    for key, value in columns.items():
        setattr(step, key, value)
    step.save(update_fields=[*columns])
    _check_journey(campaign, version)
    audit_record(
        actor=actor,
        verb="campaign.edit_step",
        target=campaign,
        details={
            "step": step.pk,
            "version": version,
            "position": step.position,
            "before": before,
            "after": _described(step),
        },
    )
    return step


@transaction.atomic
def journey_step_remove(*, actor, step: CampaignStep) -> None:
    """Remove a step; the later ones move up and the branches' targets follow them. A step
    a branch leads to stays until that branch leads elsewhere."""
    campaign, version, step = _step_in_version(actor, step)
    position = step.position
    steps = _steps(campaign, version)
    pointing = [s.position for s in steps if s.kind == StepKind.BRANCH and position in (s.yes_position, s.no_position)]
    pointing = [p for p in pointing if p != position]
    if pointing:
        raise ValidationError(
            _("The branch at step %(branches)s leads to step %(n)s: change that branch first.")
            % {"branches": words_list(pointing), "n": position}
        )
    step.delete()
    # Close the gap one row at a time from the front (a position is unique per version).
    for later in [s for s in steps if s.position > position]:
        CampaignStep.objects.filter(pk=later.pk).update(position=later.position - 1)
    _remap_targets(campaign, version, {p: p - 1 for p in range(position + 1, MAX_STEPS + 2)})
    _check_journey(campaign, version)
    audit_record(
        actor=actor, verb="campaign.remove_step", target=campaign, details={"position": position, "version": version}
    )


@transaction.atomic
def journey_step_move(*, actor, step: CampaignStep, direction: str) -> CampaignStep:
    """Swap a step with the one above (``direction="up"``) or below (``"down"``); the
    branches' targets follow the steps they named."""
    if direction not in ("up", "down"):
        raise ValidationError(_("A step moves up or down."))
    campaign, version, step = _step_in_version(actor, step)
    other_position = step.position - 1 if direction == "up" else step.position + 1
    other = CampaignStep.objects.filter(campaign=campaign, version=version, position=other_position).first()
    if other is None:
        raise ValidationError(
            _("This step is already the first.") if direction == "up" else _("This step is already the last.")
        )
    here = step.position
    # Through a free position: (campaign, version, position) is unique.
    CampaignStep.objects.filter(pk=step.pk).update(position=0)
    CampaignStep.objects.filter(pk=other.pk).update(position=here)
    CampaignStep.objects.filter(pk=step.pk).update(position=other_position)
    _remap_targets(campaign, version, {here: other_position, other_position: here})
    _check_journey(campaign, version)
    audit_record(
        actor=actor,
        verb="campaign.move_step",
        target=campaign,
        details={"from": here, "to": other_position, "version": version},
    )
    step.refresh_from_db()
    return step


def _remap_targets(campaign: Campaign, version: int, mapping: dict[int, int]) -> None:
    for branch in CampaignStep.objects.filter(campaign=campaign, version=version, kind=StepKind.BRANCH):
        yes = mapping.get(branch.yes_position, branch.yes_position)
        no = mapping.get(branch.no_position, branch.no_position)
        if (yes, no) != (branch.yes_position, branch.no_position):
            CampaignStep.objects.filter(pk=branch.pk).update(yes_position=yes, no_position=no)


def _described(step: CampaignStep) -> dict:
    """A step as the audit log keeps it: codes and ids, the columns its kind uses."""
    out: dict = {"kind": step.kind}
    if step.kind == StepKind.SEND:
        out.update(channel=step.channel, script=step.script_id)
        if step.lead_intents:
            out.update(lead_intents=step.lead_intents)
    elif step.kind == StepKind.CALL_TASK:
        out.update(script=step.script_id, due_hours=step.due_hours)
    elif step.kind == StepKind.WAIT:
        out.update(wait_hours=step.wait_hours)
    else:
        out.update(condition=step.condition, yes=step.yes_position, no=step.no_position, within=step.wait_hours)
    return out


# --- settings ------------------------------------------------------------------------------


@transaction.atomic
def journey_settings_update(
    *,
    actor,
    campaign: Campaign,
    exit_rules: list[str],
    control_percent: int,
    daily_entry_limit: int | None,
    attribution_days: int | None = None,
) -> Campaign:
    """The journey's exit criteria, control group share (0–50 %), daily entry limit
    (None: no limit) and attribution window in days (1–180; None keeps it). On a
    published campaign they apply from now on: an entrant's arm, fixed at entry, does not
    change. The window is fixed once a customer has entered (:func:`attribution_window_locked`)."""
    campaign = _locked(actor, campaign)
    errors = {}
    unknown = [code for code in exit_rules if code not in ExitRule.values]
    if unknown:
        errors["exit_rules"] = _("Choose exit criteria from the list.")
    if control_percent is None or not 0 <= control_percent <= MAX_CONTROL_PERCENT:
        errors["control_percent"] = _("The control group is 0 to 50 percent of the entrants.")
    if daily_entry_limit is not None and daily_entry_limit < 1:
        errors["daily_entry_limit"] = _("Allow at least one new entrant a day, or leave the limit empty.")
    if attribution_days is None:
        attribution_days = campaign.attribution_days
    elif not ATTRIBUTION_DAYS_MIN <= attribution_days <= ATTRIBUTION_DAYS_MAX:
        errors["attribution_days"] = ATTRIBUTION_WINDOW_MESSAGE
    elif attribution_days != campaign.attribution_days and attribution_window_locked(campaign):
        errors["attribution_days"] = ATTRIBUTION_LOCKED_MESSAGE
    if errors:
        raise ValidationError(errors)
    rules = [code for code in ExitRule.values if code in set(exit_rules)]
    fields = ["exit_rules", "control_percent", "daily_entry_limit", "attribution_days"]
    before = {name: getattr(campaign, name) for name in fields}
    campaign.exit_rules, campaign.control_percent, campaign.daily_entry_limit, campaign.attribution_days = (
        rules,
        control_percent,
        daily_entry_limit,
        attribution_days,
    )
    campaign.save(update_fields=fields)
    after = {name: getattr(campaign, name) for name in fields}
    audit_record(
        actor=actor, verb="campaign.journey_settings", target=campaign, details={"before": before, "after": after}
    )
    return campaign


# --- versions ------------------------------------------------------------------------------


@transaction.atomic
def journey_publish(*, actor, campaign: Campaign) -> Campaign:
    """Make the draft version current: new entrants follow it; enrolments keep the steps
    of the version they entered under. Every script of the draft needs an approved
    version."""
    campaign = _locked(actor, campaign)
    if not campaign.draft_version:
        raise ValidationError(_("There is no draft version of the journey to publish."))
    draft = _steps(campaign, campaign.draft_version)
    if not draft:
        raise ValidationError(_("The draft journey has no steps: add one, or discard the draft."))
    problems = journey_problems(draft)
    if problems:
        raise ValidationError(problems)
    missing = campaign_unapproved_scripts(campaign, version=campaign.draft_version)
    if missing:
        raise ValidationError(
            _("Every script of the new version needs a compliance-approved version first: %(titles)s.")
            % {"titles": words_list(s.title for s in missing)}
        )
    in_flight = {str(row["step"].position): row["active"] for row in journey_in_flight(campaign=campaign)}
    before = campaign.journey_version
    campaign.journey_version, campaign.draft_version = campaign.draft_version, None
    campaign.save(update_fields=["journey_version", "draft_version"])
    audit_record(
        actor=actor,
        verb="campaign.journey_publish",
        target=campaign,
        details={"from_version": before, "version": campaign.journey_version, "in_flight": in_flight},
    )
    return campaign


@transaction.atomic
def journey_discard_draft(*, actor, campaign: Campaign) -> Campaign:
    """Drop the draft version: its steps go, the current version stays as it is."""
    campaign = _locked(actor, campaign)
    if not campaign.draft_version:
        raise ValidationError(_("There is no draft version of the journey to discard."))
    version = campaign.draft_version
    CampaignStep.objects.filter(campaign=campaign, version=version).delete()
    campaign.draft_version = None
    campaign.save(update_fields=["draft_version"])
    audit_record(actor=actor, verb="campaign.journey_discard", target=campaign, details={"version": version})
    return campaign
