"""Conversions attributed to campaign entrants, within each campaign's attribution window.

A conversion of a customer counts for their enrolment when it falls within
``Campaign.attribution_days`` of entry:

- a **won call** (``CallLog.next_action`` won, any call: a campaign task's or not), from
  the moment of entry up to, not including, entry + N days; a won call on the
  enrolment's own call task counts for it in any case (it is the campaign's own contact);
- a **converted referral** of the customer (its ``closed_at``), the same window;
- a **new holding of the campaign's product** (``Holding.opened_on``, from the holdings
  import; a date): from the day of entry (day 0) to day N − 1.

Each conversion counts once per campaign: for the customer's latest entry into that
campaign whose window holds it (a trigger campaign may enter a customer again). Control
enrolments count the same way (what they did anyway is the baseline). Each is one
``converted`` journey event keyed by its source (``won_call:<id>``, ``referral:<id>``,
``holding:<id>``), on the call task's step when the call was the enrolment's own task.

Scoring learns from it: the won call's and the referral's ``Outcome`` rows get the
campaign and arm of the latest enrolment they count for; a holding, which has no outcome
yet, becomes one (source "campaign", the features as of entry).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calls.models import CallLog, NextAction
from core.bulk import rows_insert
from customers.models import Customer, Holding, Product
from leads.models import PlannedCall, PlannedCallStatus
from referrals.models import Referral, ReferralStatus
from scoring.models import OutcomeSource
from scoring.services.outcomes import outcome_record, outcomes_attribute

from ..models import ATTRIBUTION_DAYS_MAX, Enrolment, EnrolmentState, JourneyEvent, JourneyEventKind

EVENT_COLUMNS = ["campaign", "enrolment", "step", "kind", "detail", "at"]
LEGACY_WON_CALL = "won_call"  # the key of won calls recorded before conversions had sources


@dataclass(frozen=True)
class Conversion:
    customer_id: int
    source: str  # won_call, referral, holding
    ref: int  # the call log's, referral's or holding's id
    at: dt.datetime | None = None  # when (calls, referrals)
    day: dt.date | None = None  # on which day (holdings)
    product_id: int | None = None
    amount: object = None
    outcome_key: str = ""  # the Outcome row that exists for it ("" for holdings)

    @property
    def key(self) -> str:
        return f"{self.source}:{self.ref}"


def in_window(*, entered_at: dt.datetime, days: int, at: dt.datetime | None = None, day: dt.date | None = None) -> bool:
    """Does a conversion at ``at`` (or on ``day``) fall within ``days`` of an entry at
    ``entered_at``? Times: [entry, entry + days). Days: day 0 (the local day of entry)
    to day ``days`` − 1."""
    if at is not None:
        return entered_at <= at < entered_at + dt.timedelta(days=days)
    first = timezone.localdate(entered_at)
    return day is not None and first <= day <= first + dt.timedelta(days=days - 1)


def _conversions_since(since: dt.datetime, now: dt.datetime) -> list[Conversion]:
    tasks_done = PlannedCall.objects.filter(
        enrolment_id__isnull=False, status=PlannedCallStatus.DONE, call_log_id__isnull=False, done_at__gte=since
    ).values("call_log_id")
    out = [
        Conversion(cid, "won_call", pk, at=started, product_id=product, amount=amount, outcome_key=f"call:{key}")
        for pk, cid, started, product, amount, key in CallLog.objects.filter(next_action=NextAction.WON)
        .filter(Q(started_at__gte=since, started_at__lte=now) | Q(pk__in=tasks_done))
        .values_list("pk", "customer_id", "started_at", "won_product_id", "won_amount", "idempotency_key")
    ]
    out += [
        Conversion(cid, "referral", pk, at=closed, product_id=product, amount=amount, outcome_key=f"referral:{pk}")
        for pk, cid, closed, product, amount in Referral.objects.filter(
            status=ReferralStatus.CONVERTED, closed_at__gte=since, closed_at__lte=now
        ).values_list("pk", "customer_id", "closed_at", "converted_product_id", "converted_amount")
    ]
    out += [
        Conversion(cid, "holding", pk, day=opened, product_id=product, amount=amount)
        for pk, cid, opened, product, amount in Holding.objects.filter(
            opened_on__gte=timezone.localdate(since), opened_on__lte=timezone.localdate(now)
        ).values_list("pk", "customer_id", "opened_on", "product_id", "amount")
    ]
    return out


def _when(entered_at: dt.datetime, conversion: Conversion) -> dt.datetime:
    """The event's time: the conversion's (a holding's day from its local midnight), never
    before the entry, so the results' window reads it as the conversion."""
    at = conversion.at
    if at is None:
        at = dt.datetime.combine(conversion.day, dt.time.min, tzinfo=timezone.get_current_timezone())
    return max(at, entered_at)


def conversions_collect(*, now: dt.datetime | None = None, days: int = 3) -> int:
    """Attribute the conversions of the last ``days`` (won calls, converted referrals,
    new holdings) to the enrolments whose window holds them; each once. Wakes the
    enrolments concerned so the exit criterion "converted" applies. Returns the number of
    conversions recorded (0 when run again)."""
    now = now or timezone.now()
    conversions = _conversions_since(now - dt.timedelta(days=days), now)
    if not conversions:
        return 0
    # A won call on an enrolment's own call task is that enrolment's, whatever the window.
    tasks: dict[int, dict[int, int | None]] = {}
    for call_id, enrolment_id, step_id in PlannedCall.objects.filter(
        call_log_id__in=[c.ref for c in conversions if c.source == "won_call"], enrolment_id__isnull=False
    ).values_list("call_log_id", "enrolment_id", "campaign_step_id"):
        tasks.setdefault(call_id, {})[enrolment_id] = step_id
    customer_ids = {c.customer_id for c in conversions}
    earliest = min(c.at or dt.datetime.combine(c.day, dt.time.min, tzinfo=dt.UTC) for c in conversions)
    enrolments: dict[int, list[tuple]] = {}
    for row in (
        Enrolment.objects.filter(
            customer_id__in=customer_ids,
            entered_at__lte=now,
            entered_at__gte=earliest - dt.timedelta(days=ATTRIBUTION_DAYS_MAX + 1),
        )
        .order_by("-entered_at", "-pk")
        .values_list(
            "pk",
            "customer_id",
            "campaign_id",
            "arm",
            "entered_at",
            "campaign__attribution_days",
            "campaign__product_id",
        )
    ):
        enrolments.setdefault(row[1], []).append(row)
    # (enrolment, conversion): for each campaign, the latest entry whose window holds it.
    matched: list[tuple[tuple, Conversion]] = []
    for conversion in conversions:
        own = tasks.get(conversion.ref, {}) if conversion.source == "won_call" else {}
        rows = enrolments.get(conversion.customer_id, ())
        seen_campaigns = set()
        for row in rows:
            if row[0] in own:
                seen_campaigns.add(row[2])
                matched.append((row, conversion))
        for row in rows:
            _pk, _cid, campaign_id, _arm, entered_at, window, product_id = row
            if campaign_id in seen_campaigns:
                continue
            if conversion.source == "holding" and (product_id is None or product_id != conversion.product_id):
                continue
            if in_window(entered_at=entered_at, days=window, at=conversion.at, day=conversion.day):
                seen_campaigns.add(campaign_id)
                matched.append((row, conversion))
    if not matched:
        return 0
    with transaction.atomic():
        return _record(matched, tasks, now)


def _record(matched: list[tuple[tuple, Conversion]], tasks: dict, now: dt.datetime) -> int:
    enrolment_ids = {row[0] for row, _c in matched}
    recorded = set(
        JourneyEvent.objects.filter(enrolment_id__in=enrolment_ids, kind=JourneyEventKind.CONVERTED).values_list(
            "enrolment_id", "detail"
        )
    )
    fresh = [
        (row, c)
        for row, c in matched
        if (row[0], c.key) not in recorded and not (c.source == "won_call" and (row[0], LEGACY_WON_CALL) in recorded)
    ]
    if not fresh:
        return 0
    rows_insert(
        JourneyEvent,
        EVENT_COLUMNS,
        [
            (
                row[2],
                row[0],
                tasks.get(c.ref, {}).get(row[0]) if c.source == "won_call" else None,
                JourneyEventKind.CONVERTED,
                c.key,
                _when(row[4], c),
            )
            for row, c in fresh
        ],
    )
    Enrolment.objects.filter(pk__in={row[0] for row, _c in fresh}, state=EnrolmentState.ACTIVE).update(next_at=now)
    # Scoring's rows: the latest enrolment a conversion counts for names campaign and arm.
    latest: dict[str, tuple[tuple, Conversion]] = {}
    for row, c in fresh:
        if c.key not in latest or row[4] > latest[c.key][0][4]:
            latest[c.key] = (row, c)
    outcomes_attribute(attributions={c.outcome_key: (row[2], row[3]) for row, c in latest.values() if c.outcome_key})
    holdings = [(row, c) for row, c in latest.values() if c.source == "holding"]
    customers = Customer.objects.in_bulk({c.customer_id for _r, c in holdings})
    products = Product.objects.in_bulk({c.product_id for _r, c in holdings})
    for row, c in holdings:
        outcome_record(
            customer=customers[c.customer_id],
            contacted_at=row[4],
            channel="",
            converted=True,
            amount=c.amount,
            product=products.get(c.product_id),
            source=OutcomeSource.CAMPAIGN,
            external_key=f"holding:{c.ref}",
            campaign_id=row[2],
            arm=row[3],
        )
    return len(fresh)
