"""Writes of the customer's contact preferences (consent, opt-out, do-not-disturb)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.audit import audit_record

from ..models import (
    ContactPreference,
    Customer,
)


@transaction.atomic
def contact_opt_out(*, actor, customer: Customer, channel: str, reason: str, now: dt.datetime | None = None):
    """The customer opts out of ``channel``: do-not-disturb for at least the configured days."""
    now = now or timezone.now()
    until = now + dt.timedelta(days=settings.WORKBENCH_OPT_OUT_DND_DAYS)
    pref, _created = ContactPreference.objects.select_for_update().get_or_create(
        customer=customer, channel=channel, defaults={"consent": False}
    )
    pref.opted_out_at = now
    pref.dnd_until = max(until, pref.dnd_until) if pref.dnd_until else until
    pref.reason = reason[:200]
    pref.save(update_fields=["opted_out_at", "dnd_until", "reason", "updated_at"])
    audit_record(
        actor=actor,
        verb="contact.opt_out",
        target=customer,
        details={"channel": channel, "dnd_until": pref.dnd_until.isoformat()},
    )
    return pref
