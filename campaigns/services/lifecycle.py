"""A campaign's lifecycle: draft → pending approval → scheduled → running ⇄ paused → ended.

Each move is one service: it checks the actor with the predicate of ``campaigns.access``,
the status it starts from, and (for every move that brings a campaign closer to a
customer) that every script of the campaign has an approved compliance version; it writes
a :class:`CampaignTransition` and an audit event in the same transaction. The launch is
approved by a second person holding the approver permission, never the author.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.models import Script, ScriptVersion, VersionStatus
from core.audit import audit_record
from customers.models import ContactLedgerEntry, LedgerSource, LedgerStatus
from customers.services.ledger import ledger_release
from leads.services import planned_calls_cancel_for_campaign

from ..access import can_approve_campaign, can_change_campaign, can_change_campaigns
from ..journeys.enrol import enrolment_start
from ..models import Campaign, CampaignStatus, CampaignStep, CampaignTransition, Message, MessageStatus, VariantStep

# Which move starts from which statuses.
_FROM = {
    "submit": (CampaignStatus.DRAFT,),
    "withdraw": (CampaignStatus.PENDING_APPROVAL,),
    "approve": (CampaignStatus.PENDING_APPROVAL,),
    "return": (CampaignStatus.PENDING_APPROVAL,),
    "start": (CampaignStatus.SCHEDULED,),
    "pause": (CampaignStatus.RUNNING,),
    "resume": (CampaignStatus.PAUSED,),
    "end": (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED),
}


def campaign_scripts(campaign: Campaign, *, version: int | None = None) -> list[int]:
    """Ids of every script the campaign's words come from: its own and those of the steps
    of ``version`` (default: the current journey version; a draft version being edited
    does not hold back the campaign's moves)."""
    steps = CampaignStep.objects.filter(
        campaign=campaign, version=version or campaign.journey_version, script__isnull=False
    )
    ids = set(steps.values_list("script_id", flat=True))
    # The A/B variants' scripts on the same steps (campaigns/variants.py) block a launch too.
    ids |= set(
        VariantStep.objects.filter(
            step__campaign=campaign, step__version=version or campaign.journey_version, script__isnull=False
        ).values_list("script_id", flat=True)
    )
    if campaign.script_id:
        ids.add(campaign.script_id)
    return sorted(ids)


def campaign_unapproved_scripts(campaign: Campaign, *, version: int | None = None) -> list[Script]:
    """The campaign's scripts that have no approved version (launch is blocked on them)."""
    ids = campaign_scripts(campaign, version=version)
    approved = set(
        ScriptVersion.objects.filter(script_id__in=ids, status=VersionStatus.APPROVED).values_list(
            "script_id", flat=True
        )
    )
    return list(Script.objects.filter(pk__in=set(ids) - approved).order_by("title"))


def _approved_versions(campaign: Campaign) -> dict[str, int]:
    """{script id: approved version id} of every script of the campaign; raises when a
    script has none, naming it."""
    missing = campaign_unapproved_scripts(campaign)
    if missing:
        raise ValidationError(
            _("Every script the campaign uses needs a compliance-approved version first: %(titles)s.")
            % {"titles": "、".join(s.title for s in missing)}
        )
    ids = campaign_scripts(campaign)
    return {
        str(script_id): version_id
        for script_id, version_id in ScriptVersion.objects.filter(
            script_id__in=ids, status=VersionStatus.APPROVED
        ).values_list("script_id", "pk")
    }


def _move(*, actor, campaign: Campaign, move: str, to: str, note: str = "", check_scripts: bool = False) -> Campaign:
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status not in _FROM[move]:
        raise ValidationError(
            _("This campaign is %(status)s: it cannot be moved that way.") % {"status": campaign.get_status_display()}
        )
    versions = _approved_versions(campaign) if check_scripts else {}
    before = campaign.status
    campaign.status = to
    campaign.save(update_fields=["status"])
    CampaignTransition.objects.create(
        campaign=campaign,
        from_status=before,
        to_status=to,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        note=note[:300],
        script_versions=versions,
    )
    audit_record(
        actor=actor,
        verb="campaign.transition",
        target=campaign,
        details={"from": before, "to": to, "move": move, "script_versions": versions},
    )
    return campaign


def _guard_change(actor, campaign: Campaign) -> None:
    if not can_change_campaign(actor, campaign):
        raise PermissionDenied(_("You may not change this campaign."))


def _new_code() -> str:
    return f"CP{timezone.localdate():%Y%m%d}{secrets.token_hex(3).upper()}"


@transaction.atomic
def campaign_create(
    *,
    actor,
    name: str,
    description: str = "",
    product=None,
    priority: int = 5,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    audience=None,
    code: str | None = None,
) -> Campaign:
    """A new draft campaign, created by ``actor`` (its author). ``code`` is generated
    unless given (the demo world gives fixed ones)."""
    if not can_change_campaigns(actor):
        raise PermissionDenied(_("You may not create campaigns."))
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the campaign a name.")})
    _check_dates(starts_on, ends_on)
    campaign = Campaign.objects.create(
        code=code or _new_code(),
        name=name[:100],
        description=description,
        product=product,
        priority=priority,
        starts_on=starts_on,
        ends_on=ends_on,
        audience=audience,
        created_by=actor,
        salt=secrets.token_hex(8),
    )
    CampaignTransition.objects.create(
        campaign=campaign, from_status=CampaignStatus.DRAFT, to_status=CampaignStatus.DRAFT, actor=actor
    )
    audit_record(actor=actor, verb="campaign.create", target=campaign, details={"name": campaign.name})
    return campaign


def _check_dates(starts_on, ends_on) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise ValidationError({"ends_on": _("The end date must not be before the start date.")})


@transaction.atomic
def campaign_update(*, actor, campaign: Campaign, **fields) -> Campaign:
    """Change a draft's name, description, product, priority, dates or segment."""
    _guard_change(actor, campaign)
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise ValidationError(_("Only a draft campaign can be edited."))
    allowed = {"name", "description", "product", "priority", "starts_on", "ends_on", "audience"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"campaign_update does not change {sorted(unknown)}")
    if "name" in fields and not (fields["name"] or "").strip():
        raise ValidationError({"name": _("Give the campaign a name.")})
    _check_dates(fields.get("starts_on", campaign.starts_on), fields.get("ends_on", campaign.ends_on))
    for key, value in fields.items():
        setattr(campaign, key, value)
    campaign.save(update_fields=[*fields])
    audit_record(actor=actor, verb="campaign.update", target=campaign, details={"fields": sorted(fields)})
    return campaign


@transaction.atomic
@transaction.atomic
def campaign_attach_script(*, actor, campaign: Campaign, version: ScriptVersion) -> Campaign:
    """Attach a script to a campaign: only the script's current approved version may be
    given. The campaign then follows the script: a newly approved version replaces the
    old one without touching the campaign."""
    if not can_change_campaign(actor, campaign):
        raise PermissionDenied(_("You may not change campaigns."))
    version = ScriptVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.APPROVED:
        raise ValidationError(_("Only the approved version of a script can be attached to a campaign."))
    campaign.script_id = version.script_id
    campaign.save(update_fields=["script"])
    audit_record(
        actor=actor,
        verb="campaign.attach_script",
        target=campaign,
        details={"script": version.script_id, "script_version": version.pk},
    )
    return campaign


@transaction.atomic
def campaign_submit(*, actor, campaign: Campaign) -> Campaign:
    """Send a draft for launch approval: it needs a step, and every script approved."""
    _guard_change(actor, campaign)
    if not CampaignStep.objects.filter(campaign=campaign).exists():
        raise ValidationError(_("Add at least one step before asking for approval."))
    return _move(actor=actor, campaign=campaign, move="submit", to=CampaignStatus.PENDING_APPROVAL, check_scripts=True)


@transaction.atomic
def campaign_withdraw(*, actor, campaign: Campaign) -> Campaign:
    """The author (or another campaign manager) takes a campaign back to draft."""
    _guard_change(actor, campaign)
    return _move(actor=actor, campaign=campaign, move="withdraw", to=CampaignStatus.DRAFT)


@transaction.atomic
def campaign_approve_launch(*, actor, campaign: Campaign, now: dt.datetime | None = None) -> Campaign:
    """A second person approves the launch: the campaign is scheduled (and starts on its
    start date). Refused to the author and to anyone without the approver permission."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.created_by_id is not None and campaign.created_by_id == getattr(actor, "pk", None):
        raise PermissionDenied(_("You cannot approve the launch of your own campaign."))
    if not can_approve_campaign(actor, campaign):
        raise PermissionDenied(_("You may not approve this campaign's launch."))
    campaign = _move(actor=actor, campaign=campaign, move="approve", to=CampaignStatus.SCHEDULED, check_scripts=True)
    campaign.launch_approved_by = actor
    campaign.launch_approved_at = now or timezone.now()
    campaign.save(update_fields=["launch_approved_by", "launch_approved_at"])
    return campaign


@transaction.atomic
def campaign_return(*, actor, campaign: Campaign, note: str) -> Campaign:
    """The approver sends the campaign back to its author with a reason."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if not can_approve_campaign(actor, campaign):
        raise PermissionDenied(_("You may not decide on this campaign's launch."))
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why the campaign goes back to its author.")})
    return _move(actor=actor, campaign=campaign, move="return", to=CampaignStatus.DRAFT, note=note)


@transaction.atomic
def campaign_start(*, actor, campaign: Campaign) -> Campaign:
    """A scheduled campaign starts (by hand, or on its start date by ``campaigns_start_due``)."""
    if actor is not None:
        _guard_change(actor, campaign)
    campaign = _move(actor=actor, campaign=campaign, move="start", to=CampaignStatus.RUNNING, check_scripts=True)
    enrolment_start(campaign=campaign, actor=actor)
    return campaign


@transaction.atomic
def campaign_pause(*, actor, campaign: Campaign, note: str = "") -> Campaign:
    _guard_change(actor, campaign)
    return _move(actor=actor, campaign=campaign, move="pause", to=CampaignStatus.PAUSED, note=note)


@transaction.atomic
def campaign_resume(*, actor, campaign: Campaign) -> Campaign:
    """Resume a paused campaign: its scripts must still have approved versions (one may
    have been retired while it was paused)."""
    _guard_change(actor, campaign)
    campaign = _move(actor=actor, campaign=campaign, move="resume", to=CampaignStatus.RUNNING, check_scripts=True)
    enrolment_start(campaign=campaign, actor=actor)
    return campaign


@transaction.atomic
def campaign_end(*, actor, campaign: Campaign, note: str = "") -> Campaign:
    """End the campaign: the contacts it reserved and has not made give their slots back,
    its messages not sent yet are cancelled and its call tasks not made yet leave the
    advisors' queues."""
    if actor is not None:
        _guard_change(actor, campaign)
    campaign = _move(actor=actor, campaign=campaign, move="end", to=CampaignStatus.ENDED, note=note)
    pending = ContactLedgerEntry.objects.filter(
        source=LedgerSource.CAMPAIGN, source_id=campaign.pk, status__in=(LedgerStatus.RESERVED, LedgerStatus.HELD)
    ).values_list("pk", flat=True)
    ledger_release(entry_ids=pending, reason="campaign_ended")
    planned_calls_cancel_for_campaign(campaign_id=campaign.pk)
    Message.objects.filter(campaign=campaign, status=MessageStatus.QUEUED).update(
        status=MessageStatus.CANCELLED, last_error=_("The campaign ended")
    )
    return campaign


def campaigns_advance_calendar(*, today: dt.date | None = None) -> dict[str, int]:
    """Start the scheduled campaigns whose start date has come and end those whose end
    date has passed (the beat task). Safe to run twice: a moved campaign is no longer in
    the status the move starts from. A campaign whose script lost its approval stays
    scheduled (and the next run tries again)."""
    today = today or timezone.localdate()
    started = ended = 0
    due = Campaign.objects.filter(status=CampaignStatus.SCHEDULED, starts_on__lte=today)
    for campaign in due.exclude(ends_on__lt=today):
        try:
            campaign_start(actor=None, campaign=campaign)
            started += 1
        except ValidationError:
            continue
    over = Campaign.objects.filter(status__in=_FROM["end"], ends_on__lt=today)
    for campaign in over:
        campaign_end(actor=None, campaign=campaign, note=_("End date passed"))
        ended += 1
    return {"started": started, "ended": ended}
