"""A/B variants of a campaign: editing them, promoting a winner, and the runner's choice
of each treated enrolment's template and channel.

A variant changes contact steps of the journey (``VariantStep``: another script or
template, for a message another channel); the rest of the journey is shared. Treated
entrants are split between the variants by weight on the bucket hashed at entry
(``journeys.assignment.variant_of``); the variant is recorded on the enrolment and never
changed, so a new weight, a new override or a promotion applies to new entrants only.
Only scripts with a compliance-approved version may be chosen, and the launch checks
(``services.lifecycle.campaign_scripts``) include every variant's scripts.
"""

from __future__ import annotations

import copy
from collections import defaultdict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from compliance.models import Script, ScriptVersion, VersionStatus
from core.audit import audit_record
from customers.models import Channel

from . import access
from .journeys.checks import journey_problems, journey_unreachable
from .models import Arm, Campaign, CampaignStep, Enrolment, StepKind, Variant, VariantOrder, VariantStep
from .results import campaign_results_stored, results_refresh

MAX_VARIANTS = 8
MAX_WEIGHT = 1000
MESSAGE_CHANNELS = tuple(c for c, _label in Channel.choices if c != Channel.PHONE)


# --- the runner's choice -------------------------------------------------------------------


def _overridden(step: CampaignStep, script_id: int | None, channel: str) -> CampaignStep:
    """The step as a variant sends it: an unsaved copy with the same id (so the
    message, ledger and task keys, the events and the diagram stay the step's)."""
    varied = copy.copy(step)
    if script_id is not None:
        varied.script_id = script_id
        varied._state.fields_cache.pop("script", None)
    if channel and step.kind == StepKind.SEND:
        varied.channel = channel
    return varied


def with_variants(handler):
    """Wrap a send or call-task step handler of the runner: the treated enrolments of a
    variant that overrides the step go through it with the variant's script and
    channel, the rest (control, no variant, no override) with the step's own. One query
    for the step's overrides, none when no enrolment of the group has a variant."""

    def run(journey, step: CampaignStep, group: list[Enrolment], now):
        varied = {e.variant_id for e in group if e.variant_id is not None and e.arm != Arm.CONTROL}
        if not varied:
            return handler(journey, step, group, now)
        overrides = {
            o.variant_id: (o.script_id, o.channel)
            for o in VariantStep.objects.filter(step_id=step.pk, variant_id__in=varied)
        }
        parts: dict[tuple | None, list[Enrolment]] = defaultdict(list)
        for e in group:
            parts[overrides.get(e.variant_id) if e.arm != Arm.CONTROL else None].append(e)
        merged = None
        for choice, part in parts.items():
            moves = handler(journey, step if choice is None else _overridden(step, *choice), part, now)
            if merged is None:
                merged = moves
            else:
                merged.goto.update(moves.goto)
                merged.sleep.update(moves.sleep)
                merged.events.extend(moves.events)
        return merged

    return run


# --- editing ---------------------------------------------------------------------------------


def _guard(actor, campaign: Campaign) -> None:
    if not access.can_edit_variants(actor, campaign):
        raise PermissionDenied(_("You may not change this campaign's variants."))


def _check_weight(weight) -> int:
    if not isinstance(weight, int) or weight < 0 or weight > MAX_WEIGHT:
        raise ValidationError({"weight": _("A weight is a whole number from 0 to %(n)s.") % {"n": MAX_WEIGHT}})
    return weight


def _check_total(campaign: Campaign, *, changed: Variant | None = None, weight: int | None = None) -> None:
    total = sum(
        weight if changed is not None and v.pk == changed.pk else v.weight
        for v in Variant.objects.filter(campaign=campaign)
    )
    if changed is None and weight is not None:
        total += weight
    if total <= 0:
        raise ValidationError(
            {"weight": _("At least one variant needs a weight above 0, or no new customer would be treated.")}
        )


def _check_label(campaign: Campaign, label: str, *, exclude: int | None = None) -> str:
    label = (label or "").strip()
    if not label or len(label) > 40:
        raise ValidationError({"label": _("Give the variant a name of at most 40 characters.")})
    if Variant.objects.filter(campaign=campaign, label=label).exclude(pk=exclude).exists():
        raise ValidationError({"label": _("Another variant of this campaign has that name.")})
    return label


@transaction.atomic
def variant_add(*, actor, campaign: Campaign, label: str, weight: int) -> Variant:
    """A new variant for new entrants (it changes no step until overrides are set)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    _guard(actor, campaign)
    if Variant.objects.filter(campaign=campaign).count() >= MAX_VARIANTS:
        raise ValidationError(_("A campaign has at most %(n)s variants.") % {"n": MAX_VARIANTS})
    label = _check_label(campaign, label)
    weight = _check_weight(weight)
    _check_total(campaign, weight=weight)
    position = (Variant.objects.filter(campaign=campaign).aggregate(m=Max("position"))["m"] or 0) + 1
    variant = Variant.objects.create(campaign=campaign, label=label, weight=weight, position=position)
    audit_record(
        actor=actor,
        verb="campaign.variant_add",
        target=campaign,
        details={"variant": label, "weight": weight},
    )
    return variant


@transaction.atomic
def variant_update(*, actor, variant: Variant, label: str, weight: int) -> Variant:
    """Rename or reweigh a variant: the weights apply to new entrants only."""
    campaign = Campaign.objects.select_for_update().get(pk=variant.campaign_id)
    _guard(actor, campaign)
    variant = Variant.objects.get(pk=variant.pk)
    label = _check_label(campaign, label, exclude=variant.pk)
    weight = _check_weight(weight)
    _check_total(campaign, changed=variant, weight=weight)
    before = {"variant": variant.label, "weight": variant.weight}
    variant.label, variant.weight = label, weight
    variant.save(update_fields=["label", "weight"])
    audit_record(
        actor=actor,
        verb="campaign.variant_edit",
        target=campaign,
        details={"variant": label, "weight": weight, "before": before},
    )
    return variant


@transaction.atomic
def variant_remove(*, actor, variant: Variant) -> None:
    """Remove a variant nobody has entered (one with entrants keeps its record: give
    it weight 0 instead, so it takes no new entrants)."""
    campaign = Campaign.objects.select_for_update().get(pk=variant.campaign_id)
    _guard(actor, campaign)
    if Enrolment.objects.filter(variant_id=variant.pk).exists():
        raise ValidationError(
            _("Customers have entered this variant, so it stays on the record. Give it weight 0 to stop new entrants.")
        )
    others = Variant.objects.filter(campaign=campaign).exclude(pk=variant.pk)
    if others.exists() and sum(v.weight for v in others) <= 0:
        raise ValidationError(_("At least one variant needs a weight above 0, or no new customer would be treated."))
    label = variant.label
    variant.delete()
    audit_record(actor=actor, verb="campaign.variant_remove", target=campaign, details={"variant": label})


def contact_steps(*, campaign: Campaign) -> list[CampaignStep]:
    """The steps a variant may change: the messages and call tasks of the current version."""
    return list(
        CampaignStep.objects.filter(
            campaign=campaign, version=campaign.journey_version, kind__in=(StepKind.SEND, StepKind.CALL_TASK)
        ).order_by("position")
    )


def approved_scripts() -> list[Script]:
    """Scripts a variant may name: those with a compliance-approved version now."""
    approved = ScriptVersion.objects.filter(status=VersionStatus.APPROVED).values("script_id")
    return list(Script.objects.filter(pk__in=approved).order_by("title", "id"))


@transaction.atomic
def variant_step_set(*, actor, variant: Variant, step: CampaignStep, script: Script | None, channel: str = "") -> None:
    """What the variant sends on ``step`` (a message or call task of the current
    version): an approved script instead of the step's, and for a message another
    channel. Neither given: the variant keeps the step's own (the override goes)."""
    campaign = Campaign.objects.select_for_update().get(pk=variant.campaign_id)
    _guard(actor, campaign)
    if step.campaign_id != campaign.pk or step.pk not in {s.pk for s in contact_steps(campaign=campaign)}:
        raise ValidationError({"step": _("Choose a message or call step of the current journey.")})
    if script is not None and not ScriptVersion.objects.filter(script=script, status=VersionStatus.APPROVED).exists():
        raise ValidationError({"script": _("Only a script with a compliance-approved version can be used.")})
    channel = channel or ""
    if channel and (step.kind != StepKind.SEND or channel not in MESSAGE_CHANNELS):
        raise ValidationError({"channel": _("Only a message step can go out on another message channel.")})
    if script is None and not channel:
        VariantStep.objects.filter(variant=variant, step=step).delete()
    else:
        VariantStep.objects.update_or_create(
            variant=variant, step=step, defaults={"script": script, "channel": channel}
        )
    audit_record(
        actor=actor,
        verb="campaign.variant_step",
        target=campaign,
        details={
            "variant": variant.label,
            "position": step.position,
            "script": script.pk if script is not None else None,
            "channel": channel,
        },
    )


def version_steps(*, campaign: Campaign) -> list[CampaignStep]:
    """Every step of the current version, in the journey's own order (what an order permutes)."""
    return list(CampaignStep.objects.filter(campaign=campaign, version=campaign.journey_version).order_by("position"))


def order_positions(order: VariantOrder | None, steps: list[CampaignStep]) -> list[int] | None:
    """An order's steps as their positions in the journey as designed (None: no order, or
    one set for another version)."""
    if order is None or not steps or order.version != steps[0].version:
        return None
    position_of = {s.pk: s.position for s in steps}
    return [position_of[pk] for pk in order.steps if pk in position_of]


def order_words(positions: list[int] | None) -> str:
    return " → ".join(str(p) for p in positions) if positions else ""


@transaction.atomic
def variant_order_set(*, actor, variant: Variant, places: dict[int, int | None] | None) -> VariantOrder | None:
    """The order in which ``variant``'s new entrants walk the current version's steps:
    ``places`` gives each step (by its position in the journey as designed) its place in
    the variant's walk, 1 to n. ``None`` (or the journey's own order) puts the variant back
    on the journey's own order. The order must pass the journey's own checks, and keep every
    step the journey reaches reachable; entrants so far keep the order they entered with."""
    campaign = Campaign.objects.select_for_update().get(pk=variant.campaign_id)
    _guard(actor, campaign)
    variant = Variant.objects.select_related("step_order").get(pk=variant.pk)
    steps = version_steps(campaign=campaign)
    positions = [s.position for s in steps]
    order = None
    if places is not None:
        wanted = set(range(1, len(steps) + 1))
        given = [places.get(p) for p in positions]
        if set(places) != set(positions) or len(set(given)) != len(given) or set(given) != wanted:
            raise ValidationError(
                {"order": _("Give each of the %(n)s steps its own place, from 1 to %(n)s.") % {"n": len(steps)}}
            )
        order = sorted(positions, key=lambda p: places[p])
    if order == positions:
        order = None
    if order is not None:
        problems = journey_problems(steps, order)
        lost = sorted(set(journey_unreachable(steps, order)) - set(journey_unreachable(steps)))
        if lost:
            problems.append(
                _("In this order no customer would reach step %(steps)s: a variant changes the order, not the steps.")
                % {"steps": ", ".join(str(p) for p in lost)}
            )
        if problems:
            raise ValidationError({"order": problems})
    before = order_words(order_positions(variant.step_order, steps))
    if order is None and variant.step_order_id is None:
        return None
    by_position = {s.position: s for s in steps}
    written = (
        VariantOrder.objects.create(
            variant=variant,
            version=campaign.journey_version,
            steps=[by_position[p].pk for p in order],
            created_by=actor,
        )
        if order is not None
        else None
    )
    variant.step_order = written
    variant.save(update_fields=["step_order"])
    audit_record(
        actor=actor,
        verb="campaign.variant_order",
        target=campaign,
        details={
            "variant": variant.label,
            "order": order_words(order),
            "before": before,
            "version": campaign.journey_version,
        },
    )
    return written


@transaction.atomic
def variant_promote(*, actor, variant: Variant, confirmed: bool = False, now=None) -> Variant:
    """Make ``variant`` take every new treated entrant (earlier entrants keep theirs).
    A variant that is not significantly better than the control group as of the last
    refresh is promoted only when ``confirmed`` after the warning."""
    now = now or timezone.now()
    campaign = Campaign.objects.select_for_update().get(pk=variant.campaign_id)
    if not access.can_promote_variant(actor, campaign):
        raise PermissionDenied(_("You may not promote a variant of this campaign."))
    variant = Variant.objects.get(pk=variant.pk)
    if variant.promoted_at is not None:
        raise ValidationError(_("This variant already takes every new entrant."))
    results = campaign_results_stored(campaign=campaign, now=now)
    if results is None:
        results_refresh(campaign_id=campaign.pk, now=now)
        results = campaign_results_stored(campaign=campaign, now=now)
    arm = next((a for a in results.arms if a.variant is not None and a.variant.pk == variant.pk), None)
    better = arm is not None and arm.better
    if not better and not confirmed:
        raise ValidationError(
            _(
                "%(label)s is not significantly better than the control group yet: the difference may be chance. "
                "Confirm to promote it anyway."
            )
            % {"label": variant.label}
        )
    Variant.objects.filter(campaign=campaign, promoted_at__isnull=False).update(promoted_at=None, promoted_by=None)
    variant.promoted_at, variant.promoted_by = now, actor
    variant.save(update_fields=["promoted_at", "promoted_by"])
    uplift = arm.uplift if arm is not None else None
    audit_record(
        actor=actor,
        verb="campaign.variant_promote",
        target=campaign,
        details={
            "variant": variant.label,
            "significant": "significantly_better" if better else "not_significant_confirmed",
            "uplift": round(uplift.estimate * 100, 2) if uplift is not None else None,
            "p_value": round(uplift.p_value, 4) if uplift is not None and uplift.p_value is not None else None,
            "as_of": results.refreshed_at.isoformat() if results.refreshed_at else None,
        },
    )
    return variant
