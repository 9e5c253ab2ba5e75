"""Setting a campaign's trigger: validated, audited, only by who may change the campaign."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record

from ..access import can_change_campaign
from ..models import Campaign, EntryRule, Trigger, TriggerIntent, TriggerKind, TriggerMark

# The kinds that read ``days`` and the largest N each accepts (the smallest is 0 for a
# look ahead — "matures today" — and 1 for a look back).
DAYS_RANGE = {
    TriggerKind.MATURITY: (0, 365),
    TriggerKind.RISK_EXPIRY: (0, 365),
    TriggerKind.BIRTHDAY: (0, 60),
    TriggerKind.AI_INTENT: (1, 365),
    TriggerKind.COOLING_OFF_ENDED: (1, 90),
    TriggerKind.DORMANT: (1, 3650),
}
PARAMETERS = ("days", "percent", "amount", "window_days", "intents")
SETTINGS = (*PARAMETERS, "kind", "entry_rule", "entry_days", "active", "ends_on")


def _check(*, kind, days, percent, amount, window_days, intents, entry_rule, entry_days, ends_on, today) -> dict:
    """The settings as stored (the parameters the kind does not read are cleared), or a
    ValidationError naming each field that is wrong."""
    errors: dict[str, str] = {}
    clean = dict.fromkeys(PARAMETERS)
    clean["intents"] = []
    if kind not in TriggerKind.values:
        raise ValidationError({"kind": _("Choose the event that enters customers.")})
    if kind in DAYS_RANGE:
        low, high = DAYS_RANGE[kind]
        if days is None or not low <= days <= high:
            errors["days"] = _("Give the number of days, from %(low)s to %(high)s.") % {"low": low, "high": high}
        clean["days"] = days
    if kind == TriggerKind.OUTFLOW:
        if percent is None and amount is None:
            errors["percent"] = _("Give the fall in per cent, in CNY, or both.")
        if percent is not None and not Decimal(0) < percent <= Decimal(100):
            errors["percent"] = _("The fall in per cent must be more than 0 and at most 100.")
        if amount is not None and amount <= 0:
            errors["amount"] = _("The fall in CNY must be more than 0.")
        if window_days is None or not 1 <= window_days <= 365:
            errors["window_days"] = _("Give the window in days, from 1 to 365.")
        clean.update(percent=percent, amount=amount, window_days=window_days)
    if kind == TriggerKind.AI_INTENT:
        codes = list(dict.fromkeys(intents or []))
        if not codes:
            errors["intents"] = _("Choose at least one intent.")
        elif set(codes) - set(TriggerIntent.values):
            errors["intents"] = _("Choose intents from the list.")
        clean["intents"] = codes
    if entry_rule not in EntryRule.values:
        errors["entry_rule"] = _("Choose how often a customer may enter.")
    elif entry_rule == EntryRule.ONCE_PER_DAYS:
        if entry_days is None or not 1 <= entry_days <= 3650:
            errors["entry_days"] = _("Give how many days must pass between two entries, from 1 to 3650.")
    else:
        entry_days = None
    if ends_on is not None and ends_on < today:
        errors["ends_on"] = _("The trigger's end date must not be in the past.")
    if errors:
        raise ValidationError(errors)
    return {**clean, "kind": kind, "entry_rule": entry_rule, "entry_days": entry_days, "ends_on": ends_on}


@transaction.atomic
def trigger_set(
    *,
    actor,
    campaign: Campaign,
    kind: str,
    days: int | None = None,
    percent: Decimal | None = None,
    amount: Decimal | None = None,
    window_days: int | None = None,
    intents: list[str] | None = None,
    entry_rule: str = EntryRule.EACH_EVENT,
    entry_days: int | None = None,
    active: bool = True,
    ends_on: dt.date | None = None,
) -> Trigger:
    """Create or change ``campaign``'s trigger. A new kind starts afresh: the grade
    trigger's next sweep takes its marks again instead of treating everybody as new."""
    if not can_change_campaign(actor, campaign):
        raise PermissionDenied(_("You may not change this campaign."))
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    values = _check(
        kind=kind,
        days=days,
        percent=percent,
        amount=amount,
        window_days=window_days,
        intents=intents,
        entry_rule=entry_rule,
        entry_days=entry_days,
        ends_on=ends_on,
        today=timezone.localdate(),
    )
    values["active"] = bool(active)
    trigger = Trigger.objects.filter(campaign=campaign).first()
    created = trigger is None
    if created:
        trigger = Trigger(campaign=campaign)
    changed = sorted(k for k in SETTINGS if created or getattr(trigger, k) != values[k])
    if not changed:
        return trigger
    if not created and "kind" in changed:
        TriggerMark.objects.filter(trigger=trigger).delete()
        trigger.last_swept_at = None
    for key, value in values.items():
        setattr(trigger, key, value)
    trigger.updated_by = actor
    trigger.save()
    audit_record(
        actor=actor,
        verb="campaign.set_trigger",
        target=campaign,
        details={"trigger": kind, "fields": changed},
    )
    return trigger
