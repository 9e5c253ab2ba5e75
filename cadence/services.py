"""Writes of the cadence: the targets, and the planned calls that keep customers on pace."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from core.audit import audit_record
from customers.models import Channel, ContactPreference, Customer, Tier
from leads.capacity import CallTask, advisors_of, call_tasks_assign, left_on_day, local_day
from leads.models import PlannedCallStatus
from leads.services import leads_open_for_campaign
from org.calendar import Calendar
from org.models import Team

from .access import can_edit_targets
from .models import CadencePlan, CadenceTargets
from .selectors import TOUCH_KEYS, progress_of, targets_current, touch_counts

TARGET_FIELDS = ("themed", "reviews", "face_to_face", "reports", "plan_ahead_days")
MAX_TOUCHES = 365  # at most one of a kind a day
MAX_PLAN_AHEAD = 60


def targets_errors(values: dict) -> dict[str, str]:
    """What is wrong with a set of targets (the form shows it under the fields)."""
    errors: dict[str, str] = {}
    tiers = values.get("tiers") or []
    if not tiers or any(t not in Tier.values for t in tiers):
        errors["tiers"] = _("Choose at least one customer tier.")
    for name in TARGET_FIELDS:
        value = values.get(name)
        top = MAX_PLAN_AHEAD if name == "plan_ahead_days" else MAX_TOUCHES
        if not isinstance(value, int) or not 0 <= value <= top:
            errors[name] = _("Enter a whole number from 0 to %(max)s.") % {"max": top}
    if not errors:
        if values["reviews"] > values["themed"]:
            errors["reviews"] = _("Reviews are themed interactions too: at most as many as themed interactions.")
        if values["face_to_face"] > values["reviews"]:
            errors["face_to_face"] = _("Face-to-face reviews are reviews: at most as many as reviews.")
    return errors


@transaction.atomic
def targets_update(*, actor, tiers: list[str], **values: int) -> CadenceTargets:
    """Change the yearly targets (administrators). Audited with the old and new values."""
    if not can_edit_targets(actor):
        raise PermissionDenied
    values = {"tiers": list(tiers), **values}
    errors = targets_errors(values)
    if errors:
        raise ValidationError(errors)
    targets = CadenceTargets.objects.select_for_update().filter(pk=1).first() or CadenceTargets(pk=1)
    before = {"tiers": targets.tiers, **{name: getattr(targets, name) for name in TARGET_FIELDS}}
    for name, value in values.items():
        setattr(targets, name, value)
    targets.updated_by = actor
    targets.save()
    audit_record(
        actor=actor, verb="cadence.targets_update", target=targets, details={"before": before, "after": values}
    )
    return targets


def _note(key: str) -> str:
    # A planned call's note is stored text shown to the advisor: written once in the
    # bank's working language.
    with translation.override(settings.LANGUAGE_CODE):
        return {
            "themed": _("12-4-2-1: a themed interaction is due"),
            "review": _("12-4-2-1: an asset-allocation review is due"),
            "face_to_face": _("12-4-2-1: arrange a face-to-face allocation review"),
        }[key]


@transaction.atomic
def cadence_plan_calls(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Plan a call for each customer of the cadence's tiers whose next touch by phone is
    due within ``plan_ahead_days`` (or overdue) and who has no cadence call still
    planned, in the next call slot, within the advisors' capacity
    (``leads.capacity.call_tasks_assign``): the most overdue first; the customers nobody
    can take that day wait for the next run. The call goes on the customer's open lead,
    or on one opened for it (as a campaign's call task is): the owner's team, else the
    team the leads app gives unowned customers.

    Safe to run again: a customer with a planned cadence call gets no other. Customers on
    phone do-not-disturb are left out (counted). The written report is not planned here
    (the reports app delivers it)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    targets = targets_current()
    slot = Calendar.load().next_call_slot(now)
    day = local_day(slot)
    horizon = today + dt.timedelta(days=targets.plan_ahead_days)
    waiting = CadencePlan.objects.filter(planned_call__status=PlannedCallStatus.PLANNED).values("customer_id")
    book = Customer.objects.filter(tier__in=targets.tiers).exclude(pk__in=waiting)
    # A customer on phone do-not-disturb (a refusal puts them there, DOMAIN.md) asked not to
    # be called: no routine call is planned for them until it ends.
    resting = ContactPreference.objects.filter(channel=Channel.PHONE, dnd_until__gt=now).values("customer_id")
    do_not_disturb = book.filter(pk__in=resting).count()
    book = book.exclude(pk__in=resting)
    counts = touch_counts(customers=book.values("id"), year=today.year)
    due = []
    for cid in book.values_list("id", flat=True).order_by("id"):
        progress = progress_of(counts.get(cid, {}), targets=targets, today=today)
        touches = [progress.touches[k] for k in TOUCH_KEYS if k != "report" and progress.touches[k].due]
        touch = min(touches, key=lambda t: t.due) if touches else None
        if touch is not None and touch.due <= horizon:
            due.append((touch.due, cid, touch.key))
    due.sort()
    # No more candidates than the advisors have slots left that day, so few leads are
    # opened for calls nobody can make (call_tasks_assign places them under lock).
    profiles = advisors_of(Team.objects.values_list("id", flat=True))
    slots = sum(left_on_day(profiles, day).values())
    chosen = due[:slots]
    if not chosen:
        return {"planned": 0, "waiting": len(due), "do_not_disturb": do_not_disturb}
    leads = leads_open_for_campaign(customer_ids=[cid for _d, cid, _k in chosen], now=now)
    touch_of = {cid: key for _d, cid, key in chosen}
    tasks = [CallTask(lead=leads[cid], due_at=slot, note=_note(key)) for _d, cid, key in chosen if cid in leads]
    placement = call_tasks_assign(tasks=tasks)
    CadencePlan.objects.bulk_create(
        [
            CadencePlan(planned_call=p, customer_id=p.customer_id, touch=touch_of[p.customer_id])
            for p in placement.created
        ]
    )
    result = {
        "planned": len(placement.created),
        "waiting": len(due) - len(placement.created),
        "do_not_disturb": do_not_disturb,
    }
    if placement.created:
        audit_record(
            actor=None, verb="cadence.plan_calls", target_type="cadence.cadenceplan", target_id="*", details=result
        )
    return result
