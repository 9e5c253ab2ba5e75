"""The one contact ledger: may a customer get a marketing contact on a channel, and the
reservation that says they will.

Every campaign send and call task reserves here before it is scheduled; every manual
marketing call is recorded here (``calls``); the call screen's contact policy counts
here. The rules (../shared/DOMAIN.md, "Contact rules"):

- consent on the channel; do-not-disturb on the channel;
- PIPL Art. 24: a customer who refused automated marketing gets no campaign contact;
- no marketing in the cooling-off window after a private-product purchase;
- frequency caps over all campaigns and manual calls, per channel and in total
  (**practice**, configurable: phone ``WORKBENCH_CALL_WEEKLY_CAP``, other channels
  ``WORKBENCH_CONTACT_CHANNEL_CAP``, all channels ``WORKBENCH_CONTACT_TOTAL_CAP``, in
  ``WORKBENCH_CALL_CAP_WINDOW_DAYS`` days); when a cap is reached, a campaign of higher
  priority takes the slot of a lower one's contact that has not gone out yet;
- quiet hours: outside the contact window a contact is *held* until the window opens
  (its slot is reserved for then), never dropped.

Checks are set-based: a handful of queries per chunk of customers, whatever its size.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from core.bulk import rows_insert
from org.calendar import call_hours

from ..models import (
    LEDGER_COUNTED,
    AutomatedMarketingOptOut,
    Channel,
    ContactLedgerEntry,
    ContactPreference,
    Holding,
    LedgerSource,
    LedgerStatus,
)

CHUNK = 5000

# Why a contact may not be reserved, in the order the exclusion funnel counts them.
BLOCK_CODES = ("no_consent", "do_not_disturb", "automated_opt_out", "cooling_off", "channel_cap", "total_cap")


def cooling_off_ends(opened_on: dt.date) -> dt.datetime:
    """A holding records the day, not the minute, of the purchase: count the window from
    the end of that day so the customer always gets at least the full window."""
    _start, _end, tz = call_hours()
    end_of_day = dt.datetime.combine(opened_on + dt.timedelta(days=1), dt.time(0, 0), tzinfo=tz)
    return end_of_day + dt.timedelta(hours=settings.WORKBENCH_PRIVATE_COOLING_OFF_HOURS)


def next_window_opening(now: dt.datetime) -> dt.datetime | None:
    """None inside the contact window; else when it next opens."""
    start, end, tz = call_hours()
    local = now.astimezone(tz)
    if start <= local.time() < end:
        return None
    day = local.date() if local.time() < start else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, start, tzinfo=tz)


def channel_cap(channel: str) -> int:
    return settings.WORKBENCH_CALL_WEEKLY_CAP if channel == Channel.PHONE else settings.WORKBENCH_CONTACT_CHANNEL_CAP


def _window_start(now: dt.datetime) -> dt.datetime:
    return now - dt.timedelta(days=settings.WORKBENCH_CALL_CAP_WINDOW_DAYS)


def _id_parts(customer_ids):
    """What ``customer_id__in`` is given: a queryset of customers as one sub-select (the
    database joins; no ids travel), or a list of ids in chunks of ``CHUNK``."""
    if isinstance(customer_ids, QuerySet):
        yield customer_ids.order_by().values("pk")
        return
    ids = list(customer_ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def ledger_usage(*, customer_ids, now: dt.datetime) -> tuple[Counter, Counter]:
    """(contacts per (customer, channel), contacts per customer) counted in the cap window
    around ``now``: made or reserved, whatever campaign or advisor. ``customer_ids``: ids,
    or a queryset of customers."""
    per_channel: Counter = Counter()
    total: Counter = Counter()
    for part in _id_parts(customer_ids):
        rows = (
            ContactLedgerEntry.objects.filter(
                customer_id__in=part,
                status__in=LEDGER_COUNTED,
                slot_at__gt=_window_start(now),
                slot_at__lte=now + dt.timedelta(days=settings.WORKBENCH_CALL_CAP_WINDOW_DAYS),
            )
            .values("customer_id", "channel")
            .annotate(n=Count("id"))
        )
        for row in rows:
            per_channel[(row["customer_id"], row["channel"])] += row["n"]
            total[row["customer_id"]] += row["n"]
    return per_channel, total


@dataclass
class LedgerCheck:
    """Per customer: the first rule that blocks a contact (``blocked``), and for the rest
    whether it would be held for the window (``hold_until``)."""

    blocked: dict[int, str] = field(default_factory=dict)
    allowed: list[int] = field(default_factory=list)
    hold_until: dt.datetime | None = None

    def counts(self) -> dict[str, int]:
        c = Counter(self.blocked.values())
        return {code: c.get(code, 0) for code in BLOCK_CODES}


def ledger_check(*, customer_ids, channel: str, now: dt.datetime | None = None, automated: bool = True) -> LedgerCheck:
    """Which of ``customer_ids`` (ids, or a queryset of customers: one sub-select per rule)
    may get a marketing contact on ``channel`` (set-based)."""
    now = now or timezone.now()
    if isinstance(customer_ids, QuerySet):
        ids = list(customer_ids.order_by().values_list("pk", flat=True))
    else:
        ids = list(dict.fromkeys(customer_ids))
    check = LedgerCheck(hold_until=next_window_opening(now))
    consent, dnd, opted_out, cooling = set(), set(), set(), set()
    hours = settings.WORKBENCH_PRIVATE_COOLING_OFF_HOURS
    _start, _end, tz = call_hours()
    earliest = (now - dt.timedelta(hours=hours + 24)).astimezone(tz).date()
    for part in _id_parts(customer_ids):
        for cid, has_consent, dnd_until in ContactPreference.objects.filter(
            customer_id__in=part, channel=channel
        ).values_list("customer_id", "consent", "dnd_until"):
            if dnd_until is not None and dnd_until > now:
                dnd.add(cid)
            elif has_consent:
                consent.add(cid)
        if automated:
            opted_out.update(
                AutomatedMarketingOptOut.objects.filter(customer_id__in=part).values_list("customer_id", flat=True)
            )
        for cid, opened_on in Holding.objects.filter(
            customer_id__in=part, product__is_private=True, opened_on__gte=earliest
        ).values_list("customer_id", "opened_on"):
            if cooling_off_ends(opened_on) > now:
                cooling.add(cid)
    per_channel, total = ledger_usage(customer_ids=customer_ids, now=now)
    cap, total_cap = channel_cap(channel), settings.WORKBENCH_CONTACT_TOTAL_CAP
    for cid in ids:
        if cid in dnd:
            check.blocked[cid] = "do_not_disturb"
        elif cid not in consent:
            check.blocked[cid] = "no_consent"
        elif cid in opted_out:
            check.blocked[cid] = "automated_opt_out"
        elif cid in cooling:
            check.blocked[cid] = "cooling_off"
        elif per_channel[(cid, channel)] >= cap:
            check.blocked[cid] = "channel_cap"
        elif total[cid] >= total_cap:
            check.blocked[cid] = "total_cap"
        else:
            check.allowed.append(cid)
    return check


@dataclass
class Reservation:
    reserved: dict[int, int] = field(default_factory=dict)  # customer id → entry id
    held_until: dt.datetime | None = None
    refused: dict[int, str] = field(default_factory=dict)  # customer id → block code
    bumped: int = 0  # lower-priority contacts that gave up their slot


def _bump_lower_priority(*, customer_id: int, channel: str, priority: int, now: dt.datetime, whole: bool) -> bool:
    """Release the lowest-priority contact of the customer that has not gone out yet and
    whose campaign ranks below ``priority`` (on ``channel``, or on any channel when the
    total cap is what is full). True when a slot was freed."""
    candidates = ContactLedgerEntry.objects.select_for_update().filter(
        customer_id=customer_id,
        status__in=(LedgerStatus.RESERVED, LedgerStatus.HELD),
        source=LedgerSource.CAMPAIGN,
        slot_at__gt=now,
        priority__lt=priority,
    )
    if not whole:
        candidates = candidates.filter(channel=channel)
    victim = candidates.order_by("priority", "-slot_at", "-id").first()
    if victim is None:
        return False
    victim.status, victim.released_reason = LedgerStatus.RELEASED, "outranked"
    victim.save(update_fields=["status", "released_reason"])
    return True


@transaction.atomic
def ledger_reserve(
    *,
    customer_ids,
    channel: str,
    key_prefix: str,
    source_id: int | None,
    priority: int = 5,
    now: dt.datetime | None = None,
    automated: bool = True,
    slot_at: dt.datetime | None = None,
) -> Reservation:
    """Reserve one marketing contact on ``channel`` for each customer the rules allow, keyed
    ``{key_prefix}:{customer id}`` (so running it again reserves nothing new). Inside the
    window the slot is ``slot_at`` (default now); outside it the contact is held until the
    window opens. A customer at a cap takes the slot of a lower-priority campaign's contact
    that has not gone out yet."""
    now = now or timezone.now()
    ids = list(dict.fromkeys(customer_ids))
    result = Reservation()
    keys = {cid: f"{key_prefix}:{cid}" for cid in ids}
    existing = {}
    for start in range(0, len(ids), CHUNK):
        part = [keys[cid] for cid in ids[start : start + CHUNK]]
        existing.update(ContactLedgerEntry.objects.filter(key__in=part).values_list("key", "pk"))
    fresh = [cid for cid in ids if keys[cid] not in existing]
    result.reserved.update({cid: existing[keys[cid]] for cid in ids if keys[cid] in existing})
    check = ledger_check(customer_ids=fresh, channel=channel, now=now, automated=automated)
    allowed = list(check.allowed)
    for cid, code in check.blocked.items():
        if code in ("channel_cap", "total_cap") and _bump_lower_priority(
            customer_id=cid, channel=channel, priority=priority, now=now, whole=code == "total_cap"
        ):
            result.bumped += 1
            allowed.append(cid)
        else:
            result.refused[cid] = code
    hold = check.hold_until
    when = hold or slot_at or now
    status = LedgerStatus.HELD if hold else LedgerStatus.RESERVED
    created = timezone.now()
    rows_insert(
        ContactLedgerEntry,
        [
            *("customer", "channel", "status", "source", "source_id", "automated", "priority", "slot_at", "key"),
            *("released_reason", "created_at"),
        ],
        [
            (cid, channel, status, LedgerSource.CAMPAIGN, source_id, automated, priority, when, keys[cid], "", created)
            for cid in allowed
        ],
        ignore_conflicts=True,
    )
    made = {}
    for start in range(0, len(allowed), CHUNK):
        part = [keys[cid] for cid in allowed[start : start + CHUNK]]
        made.update(ContactLedgerEntry.objects.filter(key__in=part).values_list("customer_id", "pk"))
    result.reserved.update(made)
    result.held_until = hold
    return result


@transaction.atomic
def ledger_record_manual_call(*, customer_id: int, call_log_id: int, at: dt.datetime) -> ContactLedgerEntry:
    """A manual marketing call takes a phone slot like any campaign contact (idempotent per call)."""
    entry, _created = ContactLedgerEntry.objects.get_or_create(
        key=f"call:{call_log_id}",
        defaults={
            "customer_id": customer_id,
            "channel": Channel.PHONE,
            "status": LedgerStatus.USED,
            "source": LedgerSource.MANUAL_CALL,
            "source_id": call_log_id,
            "automated": False,
            "slot_at": at,
        },
    )
    return entry


@transaction.atomic
def ledger_mark_used(*, entry_ids, at: dt.datetime | None = None) -> int:
    """The reserved or held contacts went out (at ``at``)."""
    at = at or timezone.now()
    return ContactLedgerEntry.objects.filter(
        pk__in=list(entry_ids), status__in=(LedgerStatus.RESERVED, LedgerStatus.HELD)
    ).update(status=LedgerStatus.USED, slot_at=at)


@transaction.atomic
def ledger_release(*, entry_ids, reason: str) -> int:
    """Give the slots back (the contact will not go out: the campaign ended, the customer left)."""
    return ContactLedgerEntry.objects.filter(
        pk__in=list(entry_ids), status__in=(LedgerStatus.RESERVED, LedgerStatus.HELD)
    ).update(status=LedgerStatus.RELEASED, released_reason=reason[:32])
