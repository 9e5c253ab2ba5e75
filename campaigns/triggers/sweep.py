"""The trigger sweep: every few minutes (beat ``campaigns.sweep_triggers``), each active
trigger of a running campaign, not past its end date, is evaluated over the whole
customer base in chunks of customer ids. In one transaction per chunk it finds the
events (``events.trigger_events``), applies the entry rule, enters the new ones
(``enrol_customers``, idempotent per (campaign, customer, occurrence): global holdout,
suitability and the daily entry limit apply there) and takes the entrants through the
journey's first steps (``journey_start``). Running it twice enters nobody new.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from customers.models import Customer

from ..journeys.enrol import enrol_customers
from ..journeys.runner import journey_start
from ..models import CampaignStatus, Enrolment, EntryRule, Trigger
from .events import trigger_events


@dataclass
class SweepCounts:
    found: int = 0  # events found
    entered: int = 0  # enrolments made
    skipped: int = 0  # left out by the entry rule, holdout, suitability or the day's limit
    chunks: int = 0
    # Time spent taking the entrants through the journey's first steps (the runner's
    # work, not the finding), for the beat's log and the benchmark.
    advance_seconds: float = 0.0

    def as_dict(self) -> dict[str, int | float]:
        return {
            "found": self.found,
            "entered": self.entered,
            "skipped": self.skipped,
            "chunks": self.chunks,
            "advance_seconds": round(self.advance_seconds, 3),
        }


def triggers_due(*, now: dt.datetime):
    """Triggers the sweep evaluates: active, on a running campaign, not past ``ends_on``."""
    today = timezone.localdate(now)
    return Trigger.objects.filter(active=True, campaign__status=CampaignStatus.RUNNING).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )


def apply_entry_rule(*, trigger: Trigger, pairs, lo: int, hi: int, now: dt.datetime) -> list[tuple[int, str]]:
    """Drop the events the entry rule refuses. Each event enters once anyway (the
    occurrence); "once ever" keeps customers who never entered the campaign, "once per N
    days" those who did not enter in the last N days; both take one event a customer."""
    if trigger.entry_rule == EntryRule.EACH_EVENT or not pairs:
        return list(pairs)
    entered = Enrolment.objects.filter(campaign_id=trigger.campaign_id, customer_id__gte=lo, customer_id__lt=hi)
    if trigger.entry_rule == EntryRule.ONCE_PER_DAYS:
        entered = entered.filter(entered_at__gt=now - dt.timedelta(days=trigger.entry_days or 0))
    barred = set(entered.values_list("customer_id", flat=True))
    kept, seen = [], set()
    for cid, occurrence in pairs:
        if cid in barred or cid in seen:
            continue
        seen.add(cid)
        kept.append((cid, occurrence))
    return kept


def trigger_sweep(*, trigger_id: int, now: dt.datetime | None = None, chunk: int | None = None) -> SweepCounts:
    """Evaluate one trigger over the whole base. Stops between chunks when the campaign
    stops running or the trigger is switched off."""
    now = now or timezone.now()
    size = chunk or settings.WORKBENCH_CAMPAIGN_TRIGGER_CHUNK
    counts = SweepCounts()
    bounds = Customer.objects.aggregate(lo=Min("id"), hi=Max("id"))
    if bounds["lo"] is not None:
        for lo in range(bounds["lo"], bounds["hi"] + 1, size):
            with transaction.atomic():
                trigger = Trigger.objects.select_related("campaign__product").filter(pk=trigger_id).first()
                if trigger is None or not triggers_due(now=now).filter(pk=trigger_id).exists():
                    break
                pairs = trigger_events(trigger=trigger, lo=lo, hi=lo + size, now=now)
                kept = apply_entry_rule(trigger=trigger, pairs=pairs, lo=lo, hi=lo + size, now=now)
                entry = enrol_customers(campaign=trigger.campaign, entrants=kept, now=now)
                if entry.entered:
                    started = time.perf_counter()
                    journey_start(entry.enrolments, now=now)
                    counts.advance_seconds += time.perf_counter() - started
                counts.found += len(pairs)
                counts.entered += len(entry.entered)
                counts.skipped += len(pairs) - len(entry.entered) - entry.already
                counts.chunks += 1
    Trigger.objects.filter(pk=trigger_id).update(
        last_swept_at=now, last_found=counts.found, last_entered=counts.entered, last_skipped=counts.skipped
    )
    return counts


def triggers_sweep(*, now: dt.datetime | None = None) -> dict[str, int | float]:
    """Sweep every due trigger (the beat task). Returns the totals."""
    now = now or timezone.now()
    totals, swept = SweepCounts(), 0
    for trigger_id in triggers_due(now=now).order_by("pk").values_list("pk", flat=True):
        swept += 1
        counts = trigger_sweep(trigger_id=trigger_id, now=now)
        totals.found += counts.found
        totals.entered += counts.entered
        totals.skipped += counts.skipped
        totals.chunks += counts.chunks
        totals.advance_seconds += counts.advance_seconds
    return {**totals.as_dict(), "triggers": swept}
