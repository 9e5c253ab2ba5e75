"""The journey runner: each due enrolment through its steps, set-based per step.

An enrolment is due when ``next_at`` has come. The runner first applies the campaign's
exit criteria (converted, opted out, left the segment, no longer suitable), then moves
every due enrolment on, grouped by step, as far as it can go now:

- **send**: the contact ledger reserves a marketing contact on the channel (consent,
  do-not-disturb, opt-out, cooling-off, caps with priority; outside the contact window the
  contact is held and the message's ``send_after`` is the window's opening). A reserved
  contact becomes a message with the approved template's words rendered for the customer;
  a refused one is recorded with the rule that refused it. The dispatcher sends messages.
- **call task**: the same reservation on the phone, then a planned call on the
  customer's open lead (opened for the campaign when there is none), placed within the
  advisors' daily capacity (``leads.capacity``); a task nobody can take today waits for
  tomorrow's window on the same step.
- **wait**: until ``wait_hours`` after the customer reached the step.
- **branch**: asks the last contact step before it (delivered, replied, clicked, call
  reached, call won, responded in any of these ways, converted) and goes to its yes or no
  position; None ends the journey. A branch with a response window (``wait_hours``: "no
  reply within 3 days") goes to yes as soon as the answer is yes (checked every
  ``BRANCH_RECHECK``) and to no only when the window has passed.

Control-group enrolments walk the same steps without any send or call (a ``control``
event says where they would have been contacted). Every move is a :class:`JourneyEvent`.
The caller holds the transaction; the due enrolments are locked with SKIP LOCKED, so two
workers never take the same enrolment, and a rerun after a killed worker redoes nothing
that committed (messages, ledger entries and planned calls are keyed per enrolment and step).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calls.models import CallLog, NextAction
from compliance.models import ScriptVersion
from compliance.selectors import approved_version_of
from core.bulk import rows_insert
from customers.models import AutomatedMarketingOptOut, Channel, Customer
from customers.services.ledger import ledger_reserve
from leads.capacity import CallTask, call_tasks_assign
from leads.models import PlannedCall, PlannedCallStatus
from leads.services import leads_open_for_campaign
from org.calendar import Calendar, call_hours

from ..models import (
    Arm,
    BranchCondition,
    Campaign,
    CampaignStatus,
    CampaignStep,
    Enrolment,
    EnrolmentState,
    ExitRule,
    JourneyEvent,
    JourneyEventKind,
    Message,
    MessageStatus,
    StepKind,
    VariantOrder,
)
from ..services.segments import segment_members
from ..targeting import unsuitable_q
from ..variants import with_variants
from .attribution import conversions_collect
from .checks import CONTACT_KINDS
from .render import needs_holdings, next_maturities, render_message

BATCH = 2000
MAX_HOPS = 20  # steps one enrolment may take in one run (a journey loops only via a wait)
DEFAULT_TASK_HOURS = 48
BRANCH_RECHECK = dt.timedelta(hours=1)  # how often a branch with a window asks again


@dataclass
class Moves:
    """What one step decided for its enrolments: go to a position (None: the journey
    ends), or sleep until a time on the same step."""

    goto: dict[int, int | None] = field(default_factory=dict)
    sleep: dict[int, dt.datetime] = field(default_factory=dict)
    events: list[tuple] = field(default_factory=list)  # rows of EVENT_COLUMNS


class Journey:
    """The steps of one (campaign, version), by position, walked in the journey's own
    order or in an A/B variant's (``order``: the steps' ids, as the enrolment recorded
    at entry). A step missing from the order ends the walk there."""

    def __init__(self, campaign: Campaign, steps: list[CampaignStep], order: list[int] | None = None):
        self.campaign = campaign
        self.by_position = {s.position: s for s in steps}
        if order is None:
            self.positions = sorted(self.by_position)
        else:
            position_of = {s.pk: s.position for s in steps}
            self.positions = [position_of[pk] for pk in order if pk in position_of]
        self._rank = {p: i for i, p in enumerate(self.positions)}

    def after(self, step: CampaignStep) -> int | None:
        rank = self._rank.get(step.position)
        return self.positions[rank + 1] if rank is not None and rank + 1 < len(self.positions) else None

    def last_contact_before(self, step: CampaignStep) -> CampaignStep | None:
        earlier = [self.by_position[p] for p in self.positions[: self._rank.get(step.position, 0)]]
        contacts = [s for s in earlier if s.kind in CONTACT_KINDS]
        return contacts[-1] if contacts else None


EVENT_COLUMNS = ["campaign", "enrolment", "step", "kind", "detail", "at"]


def _event(enrolment: Enrolment, step, kind: str, now: dt.datetime, detail: str = "") -> tuple:
    """A journey event as the row ``core.bulk.rows_insert`` writes (``EVENT_COLUMNS``)."""
    return (enrolment.campaign_id, enrolment.pk, step.pk if step is not None else None, kind, detail[:64], now)


def events_insert(events: list[tuple]) -> None:
    rows_insert(JourneyEvent, EVENT_COLUMNS, events)


def _approved_version(step: CampaignStep) -> ScriptVersion | None:
    return approved_version_of(script_id=step.script_id) if step.script_id is not None else None


def _ledger_key(step: CampaignStep, occurrence: str) -> str:
    base = f"cmp{step.campaign_id}:step{step.pk}"
    return f"{base}:{occurrence[:60]}" if occurrence else base


def _by_occurrence(enrolments: list[Enrolment]) -> dict[str, list[Enrolment]]:
    groups: dict[str, list[Enrolment]] = defaultdict(list)
    for e in enrolments:
        groups[e.occurrence].append(e)
    return groups


def _split_control(journey: Journey, step, group, moves: Moves, now) -> list[Enrolment]:
    treated = []
    for e in group:
        if e.arm == Arm.CONTROL:
            moves.events.append(_event(e, step, JourneyEventKind.CONTROL, now))
            moves.goto[e.pk] = journey.after(step)
        else:
            treated.append(e)
    return treated


MESSAGE_COLUMNS = [
    *("campaign", "step", "enrolment", "customer", "channel", "script_version", "recipient", "subject", "body"),
    *("status", "key", "ledger_entry_id", "send_after", "created_at", "adapter", "external_id", "attempts"),
    "last_error",
]


def _send(journey: Journey, step: CampaignStep, group: list[Enrolment], now: dt.datetime) -> Moves:
    moves = Moves()
    campaign = journey.campaign
    treated = _split_control(journey, step, group, moves, now)
    version = _approved_version(step)
    customers = Customer.objects.only("name", "gender", "mobile", "customer_no").in_bulk(
        [e.customer_id for e in treated]
    )
    holdings = (
        next_maturities(customer_ids=list(customers), product=campaign.product, today=now.date())
        if version is not None and needs_holdings(version.body, campaign.product)
        else {}
    )
    messages = []
    for occurrence, part in _by_occurrence(treated).items():
        if version is None:
            for e in part:
                moves.events.append(_event(e, step, JourneyEventKind.BLOCKED, now, "no_approved_template"))
                moves.goto[e.pk] = journey.after(step)
            continue
        reservation = ledger_reserve(
            customer_ids=[e.customer_id for e in part],
            channel=step.channel,
            key_prefix=_ledger_key(step, occurrence),
            source_id=campaign.pk,
            priority=campaign.priority,
            now=now,
        )
        for e in part:
            moves.goto[e.pk] = journey.after(step)
            entry_id = reservation.reserved.get(e.customer_id)
            if entry_id is None:
                code = reservation.refused.get(e.customer_id, "refused")
                moves.events.append(_event(e, step, JourneyEventKind.BLOCKED, now, code))
                continue
            customer = customers[e.customer_id]
            held = reservation.held_until
            body = render_message(
                template=version.body, customer=customer, product=campaign.product, holding=holdings.get(customer.pk)
            )
            messages.append(
                (
                    campaign.pk,
                    step.pk,
                    e.pk,
                    customer.pk,
                    step.channel,
                    version.pk,
                    _recipient(customer, step.channel),
                    campaign.name[:200],
                    body[:4000],
                    MessageStatus.QUEUED,
                    f"msg:{step.pk}:{e.pk}",
                    entry_id,
                    held or now,
                    now,
                    "",
                    "",
                    0,
                    "",
                )
            )
            kind = JourneyEventKind.HELD if held else JourneyEventKind.SENT
            moves.events.append(_event(e, step, kind, now))
    rows_insert(Message, MESSAGE_COLUMNS, messages, ignore_conflicts=True)
    return moves


def _recipient(customer: Customer, channel: str) -> str:
    """Where the gateway delivers: the mobile for SMS and the AI bot, the customer number
    (the bank's app and WeChat accounts are keyed by it) for push and WeChat."""
    if channel in (Channel.SMS, Channel.AI_BOT, Channel.PHONE):
        return customer.mobile
    return customer.customer_no


def _next_day_opening(now: dt.datetime, calendar: Calendar) -> dt.datetime:
    """When the next working day's call hours open (a task nobody can take today waits
    for it): after a Friday comes Monday, after the eve of a holiday the first day back."""
    tz = call_hours()[2]
    day = calendar.next_working_day(now.astimezone(tz).date())
    return calendar.next_call_slot(dt.datetime.combine(day, dt.time.min, tzinfo=tz))


def _call_task(journey: Journey, step: CampaignStep, group: list[Enrolment], now: dt.datetime) -> Moves:
    moves = Moves()
    campaign = journey.campaign
    treated = _split_control(journey, step, group, moves, now)
    placed_before = set(
        PlannedCall.objects.filter(
            campaign_id=campaign.pk, campaign_step_id=step.pk, enrolment_id__in=[e.pk for e in treated]
        ).values_list("enrolment_id", flat=True)
    )
    version = _approved_version(step)
    calendar = Calendar.load()
    tasks, task_of = [], {}
    for occurrence, part in _by_occurrence(treated).items():
        fresh = [e for e in part if e.pk not in placed_before]
        for e in part:
            if e.pk in placed_before:
                moves.goto[e.pk] = journey.after(step)
        if not fresh:
            continue
        if version is None:
            for e in fresh:
                moves.events.append(_event(e, step, JourneyEventKind.BLOCKED, now, "no_approved_script"))
                moves.goto[e.pk] = journey.after(step)
            continue
        reservation = ledger_reserve(
            customer_ids=[e.customer_id for e in fresh],
            channel=Channel.PHONE,
            key_prefix=_ledger_key(step, occurrence),
            source_id=campaign.pk,
            priority=campaign.priority,
            now=now,
        )
        allowed = []
        for e in fresh:
            if e.customer_id in reservation.reserved:
                allowed.append(e)
            else:
                code = reservation.refused.get(e.customer_id, "refused")
                moves.events.append(_event(e, step, JourneyEventKind.BLOCKED, now, code))
                moves.goto[e.pk] = journey.after(step)
        leads = leads_open_for_campaign(customer_ids=[e.customer_id for e in allowed], now=now)
        # Due from the first call slot on a working day (a task made at night, at the
        # weekend or on a holiday is due when the centre next works), for its window in
        # working days: 48 hours from a Friday afternoon end on Tuesday afternoon.
        due_at = calendar.next_call_slot(reservation.held_until or now)
        due_until = calendar.add_working_days(due_at, (step.due_hours or DEFAULT_TASK_HOURS) / 24)
        for e in allowed:
            lead = leads.get(e.customer_id)
            if lead is None:
                moves.events.append(_event(e, step, JourneyEventKind.BLOCKED, now, "no_lead"))
                moves.goto[e.pk] = journey.after(step)
                continue
            task = CallTask(
                lead=lead,
                due_at=due_at,
                due_until=due_until,
                campaign_id=campaign.pk,
                campaign_step_id=step.pk,
                enrolment_id=e.pk,
                script_version_id=version.pk,
                note=campaign.name[:300],
            )
            tasks.append(task)
            task_of[id(task)] = e
    placement = call_tasks_assign(tasks=tasks)
    by_id = {e.pk: e for e in treated}
    for planned in placement.created:
        e = by_id[planned.enrolment_id]
        moves.events.append(_event(e, step, JourneyEventKind.TASK, now))
        moves.goto[e.pk] = journey.after(step)
    for task in placement.unplaced:
        e = task_of[id(task)]
        moves.events.append(_event(e, step, JourneyEventKind.WAITING, now))
        moves.sleep[e.pk] = _next_day_opening(now, calendar)
    return moves


def _wait(journey: Journey, step: CampaignStep, group: list[Enrolment], now: dt.datetime) -> Moves:
    moves = Moves()
    for e in group:
        until = (e.step_entered_at or now) + dt.timedelta(hours=step.wait_hours or 0)
        if until <= now:
            moves.goto[e.pk] = journey.after(step)
        else:
            moves.sleep[e.pk] = until
    return moves


def branch_answers(*, condition: str, contact: CampaignStep | None, enrolment_ids: list[int]) -> set[int]:
    """The enrolments among ``enrolment_ids`` for which ``condition`` holds of their last
    contact step ``contact`` (one or two queries)."""
    if condition == BranchCondition.CONVERTED:
        return set(
            JourneyEvent.objects.filter(enrolment_id__in=enrolment_ids, kind=JourneyEventKind.CONVERTED).values_list(
                "enrolment_id", flat=True
            )
        )
    if contact is None:
        return set()
    if condition == BranchCondition.RESPONDED:
        if contact.kind == StepKind.CALL_TASK:
            return branch_answers(condition=BranchCondition.REACHED, contact=contact, enrolment_ids=enrolment_ids)
        return set(
            Message.objects.filter(enrolment_id__in=enrolment_ids, step=contact)
            .filter(Q(replied_at__isnull=False) | Q(clicked_at__isnull=False))
            .values_list("enrolment_id", flat=True)
        )
    if condition in (BranchCondition.DELIVERED, BranchCondition.REPLIED, BranchCondition.CLICKED):
        column = {"delivered": "delivered_at", "replied": "replied_at", "clicked": "clicked_at"}[condition]
        return set(
            Message.objects.filter(
                enrolment_id__in=enrolment_ids, step=contact, **{f"{column}__isnull": False}
            ).values_list("enrolment_id", flat=True)
        )
    calls = dict(
        PlannedCall.objects.filter(
            enrolment_id__in=enrolment_ids,
            campaign_step_id=contact.pk,
            status=PlannedCallStatus.DONE,
            call_log_id__isnull=False,
        ).values_list("call_log_id", "enrolment_id")
    )
    logs = CallLog.objects.filter(pk__in=list(calls))
    logs = (
        logs.filter(next_action=NextAction.WON)
        if condition == BranchCondition.WON
        else logs.filter(disposition__connected=True)
    )
    return {calls[pk] for pk in logs.values_list("pk", flat=True)}


def _branch(journey: Journey, step: CampaignStep, group: list[Enrolment], now: dt.datetime) -> Moves:
    moves = Moves()
    yes = branch_answers(
        condition=step.condition,
        contact=journey.last_contact_before(step),
        enrolment_ids=[e.pk for e in group],
    )
    window = dt.timedelta(hours=step.wait_hours or 0)
    for e in group:
        if e.pk in yes:
            moves.events.append(_event(e, step, JourneyEventKind.YES, now))
            moves.goto[e.pk] = step.yes_position
            continue
        closes = (e.step_entered_at or now) + window
        if closes > now:  # still inside the response window: ask again later
            moves.sleep[e.pk] = min(closes, now + BRANCH_RECHECK)
        else:
            moves.events.append(_event(e, step, JourneyEventKind.NO, now))
            moves.goto[e.pk] = step.no_position
    return moves


# A variant's treated enrolments send with its own template and channel (``variants``).
HANDLERS = {
    StepKind.SEND: with_variants(_send),
    StepKind.CALL_TASK: with_variants(_call_task),
    StepKind.WAIT: _wait,
    StepKind.BRANCH: _branch,
}


def exit_reasons(*, campaign: Campaign, enrolments: list[Enrolment], now: dt.datetime) -> dict[int, str]:
    """{enrolment id: exit criterion} for the enrolments that must leave now."""
    rules = set(campaign.exit_rules or [])
    by_customer = defaultdict(list)
    for e in enrolments:
        by_customer[e.customer_id].append(e.pk)
    ids = list(by_customer)
    leaving: dict[int, str] = {}

    def leave(customer_ids, reason: str) -> None:
        for cid in customer_ids:
            for pk in by_customer[cid]:
                leaving.setdefault(pk, reason)

    if ExitRule.CONVERTED in rules:
        converted = JourneyEvent.objects.filter(
            enrolment_id__in=[e.pk for e in enrolments], kind=JourneyEventKind.CONVERTED
        ).values_list("enrolment_id", flat=True)
        for pk in converted:
            leaving.setdefault(pk, ExitRule.CONVERTED)
    if ExitRule.OPTED_OUT in rules:
        leave(
            AutomatedMarketingOptOut.objects.filter(customer_id__in=ids).values_list("customer_id", flat=True),
            ExitRule.OPTED_OUT,
        )
    if ExitRule.UNSUITABLE in rules and campaign.product_id is not None:
        leave(
            Customer.objects.filter(pk__in=ids)
            .filter(unsuitable_q(campaign.product, now))
            .values_list("pk", flat=True),
            ExitRule.UNSUITABLE,
        )
    if ExitRule.LEFT_SEGMENT in rules and campaign.audience_id is not None:
        still = set(segment_members(segment=campaign.audience).filter(pk__in=ids).values_list("pk", flat=True))
        leave([cid for cid in ids if cid not in still], ExitRule.LEFT_SEGMENT)
    return leaving


def _due(now: dt.datetime, enrolment_ids, limit: int):
    qs = Enrolment.objects.select_for_update(skip_locked=True, of=("self",)).filter(state=EnrolmentState.ACTIVE)
    if enrolment_ids is not None:
        return list(qs.filter(pk__in=list(enrolment_ids)).order_by("pk"))
    running = Campaign.objects.filter(status=CampaignStatus.RUNNING).values("pk")
    return list(qs.filter(next_at__lte=now, campaign_id__in=running).order_by("next_at", "pk")[:limit])


def journey_advance(*, enrolment_ids=None, now: dt.datetime | None = None, limit: int = BATCH) -> dict[str, int]:
    """Move due enrolments (or exactly ``enrolment_ids``) on as far as they go now.
    Returns counts: moved (enrolments looked at), completed, exited, sleeping."""
    now = now or timezone.now()
    with transaction.atomic():
        enrolments = _due(now, enrolment_ids, limit)
        if not enrolments:
            return {"moved": 0, "completed": 0, "exited": 0, "sleeping": 0}
        return _advance(enrolments, now)


def journey_start(enrolments: list[Enrolment], *, now: dt.datetime | None = None) -> dict[str, int]:
    """Take enrolments just made in the caller's transaction through their first steps.
    Nobody else can see them before it commits, so they are neither read again nor locked
    (``journey_advance`` does both, for enrolments that are already there)."""
    if not enrolments:
        return {"moved": 0, "completed": 0, "exited": 0, "sleeping": 0}
    return _advance(list(enrolments), now or timezone.now())


def _advance(enrolments: list[Enrolment], now: dt.datetime) -> dict[str, int]:
    campaigns = Campaign.objects.select_related("product", "audience").in_bulk({e.campaign_id for e in enrolments})
    steps = CampaignStep.objects.filter(
        Q(*[Q(campaign_id=c, version=v) for c, v in {(e.campaign_id, e.version) for e in enrolments}], _connector=Q.OR)
    )
    grouped: dict[tuple[int, int], list[CampaignStep]] = defaultdict(list)
    step_by_id = {}
    for s in steps:
        grouped[(s.campaign_id, s.version)].append(s)
        step_by_id[s.pk] = s
    for e in enrolments:  # the step objects the journeys hold (no query per enrolment)
        e.step = step_by_id.get(e.step_id)
    # One journey per (campaign, version, the variant's order recorded at entry).
    keys = {(e.campaign_id, e.version, e.step_order_id) for e in enrolments}
    order_ids = {key[2] for key in keys if key[2] is not None}
    orders = VariantOrder.objects.in_bulk(order_ids) if order_ids else {}
    journeys = {
        key: Journey(campaigns[key[0]], grouped[key[:2]], orders[key[2]].steps if key[2] in orders else None)
        for key in keys
        if key[:2] in grouped
    }
    events: list[tuple] = []
    counts = {"moved": len(enrolments), "completed": 0, "exited": 0, "sleeping": 0}
    active = []
    for campaign_id, part in _group(enrolments, lambda e: e.campaign_id).items():
        leaving = exit_reasons(campaign=campaigns[campaign_id], enrolments=part, now=now)
        for e in part:
            if e.pk in leaving:
                _finish(e, EnrolmentState.EXITED, now, leaving[e.pk])
                events.append(_event(e, e.step, JourneyEventKind.EXITED, now, leaving[e.pk]))
                counts["exited"] += 1
            else:
                active.append(e)
    if counts["exited"]:
        Message.objects.filter(
            enrolment_id__in=[e.pk for e in enrolments if e.state == EnrolmentState.EXITED],
            status=MessageStatus.QUEUED,
        ).update(status=MessageStatus.CANCELLED, last_error="left the journey")
    for _hop in range(MAX_HOPS):
        if not active:
            break
        moving = []
        for (_campaign_id, step_id, _order), group in _group(
            active, lambda e: (e.campaign_id, e.step_id, e.step_order_id)
        ).items():
            journey = journeys.get((group[0].campaign_id, group[0].version, group[0].step_order_id))
            step = step_by_id.get(step_id)
            if journey is None or step is None:
                for e in group:  # its step is gone: nothing more to do
                    _finish(e, EnrolmentState.COMPLETED, now, "")
                    events.append(_event(e, None, JourneyEventKind.COMPLETED, now))
                    counts["completed"] += 1
                continue
            moves = HANDLERS[step.kind](journey, step, group, now)
            events.extend(moves.events)
            for e in group:
                if e.pk in moves.sleep:
                    e.next_at = moves.sleep[e.pk]
                    counts["sleeping"] += 1
                    continue
                target = journey.by_position.get(moves.goto.get(e.pk)) if moves.goto.get(e.pk) else None
                if target is None:
                    _finish(e, EnrolmentState.COMPLETED, now, "")
                    events.append(_event(e, step, JourneyEventKind.COMPLETED, now))
                    counts["completed"] += 1
                    continue
                e.step, e.step_id, e.step_entered_at, e.next_at = target, target.pk, now, now
                moving.append(e)
        active = moving
    _save(enrolments)
    events_insert(events)
    return counts


def _save(enrolments: list[Enrolment]) -> None:
    """Write where each enrolment is now: one UPDATE per set of equal values (the entrants
    of one step mostly move together), not a CASE per row and field."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for e in enrolments:
        groups[(e.step_id, e.step_entered_at, e.next_at, e.state, e.exited_at, e.exit_reason)].append(e.pk)
    for (step_id, entered, next_at, state, exited_at, reason), ids in groups.items():
        for start in range(0, len(ids), BATCH * 5):
            Enrolment.objects.filter(pk__in=ids[start : start + BATCH * 5]).update(
                step_id=step_id,
                step_entered_at=entered,
                next_at=next_at,
                state=state,
                exited_at=exited_at,
                exit_reason=reason,
            )


def _finish(e: Enrolment, state: str, now: dt.datetime, reason: str) -> None:
    e.state, e.exited_at, e.exit_reason, e.next_at = state, now, reason, None


def _group(items, key) -> dict:
    groups: dict = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    return groups


def journeys_collect_conversions(*, now: dt.datetime | None = None, days: int = 3) -> int:
    """Record the conversions of the last ``days`` within each entrant's attribution
    window (a won call, a converted referral, a new holding of the campaign's product;
    ``attribution.py``), once each, and wake the enrolments so their exit criteria apply.
    Returns the number recorded."""
    return conversions_collect(now=now, days=days)
