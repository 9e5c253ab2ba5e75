"""Writes of the organisation: an advisor's daily call capacity and absence."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record

from .access import can_plan_capacity
from .models import StaffProfile

MAX_DAILY_CALLS = 300


@transaction.atomic
def staff_capacity_set(
    *, actor, profile: StaffProfile, daily_call_capacity: int | None, absent_until: dt.date | None
) -> StaffProfile:
    """Set how many planned calls the advisor takes a day (None: the centre's default) and
    until when they are away (None: present). Their team lead or an administrator only."""
    profile = StaffProfile.objects.select_for_update().get(pk=profile.pk)
    if not can_plan_capacity(actor, profile):
        raise PermissionDenied(_("You may not plan this advisor's capacity."))
    errors = {}
    if daily_call_capacity is not None and not 0 <= daily_call_capacity <= MAX_DAILY_CALLS:
        errors["daily_call_capacity"] = _("A day's capacity is between 0 and %(max)s calls.") % {"max": MAX_DAILY_CALLS}
    if absent_until is not None and absent_until < timezone.localdate():
        errors["absent_until"] = _("An absence ends today or later.")
    if errors:
        raise ValidationError(errors)
    before = {"daily_call_capacity": profile.daily_call_capacity, "absent_until": profile.absent_until}
    profile.daily_call_capacity, profile.absent_until = daily_call_capacity, absent_until
    profile.save(update_fields=["daily_call_capacity", "absent_until"])
    audit_record(
        actor=actor,
        verb="staff.capacity",
        target=profile,
        details={
            "advisor": profile.display_name,
            "before": {k: str(v) if v is not None else None for k, v in before.items()},
            "daily_call_capacity": daily_call_capacity,
            "absent_until": str(absent_until) if absent_until else None,
        },
    )
    return profile
