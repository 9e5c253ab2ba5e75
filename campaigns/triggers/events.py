"""What each trigger kind finds: set-based queries over one id range of the customer base.

Each finder returns ``(customer id, occurrence)`` pairs. The occurrence names the event
(``maturity:<holding>:<date>``, ``birthday:<year>``, ``outflow:<ISO week>``, …), so one
event enters a customer once however often the sweep runs, and the next event (another
holding, next year's birthday, a new assessment) is a new occurrence. The queries read
one id range ``[lo, hi)`` at a time, so the whole base is covered in chunks.
"""

from __future__ import annotations

import calendar
import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Max, Min, Q
from django.utils import timezone

from customers.models import AssetSnapshot, Customer, Holding, InteractionIntent
from customers.services.ledger import cooling_off_ends
from leads.models import Grade
from scoring.models import CustomerScore

from ..models import Trigger, TriggerKind, TriggerMark

# Without a window, an outflow is measured over this many days.
DEFAULT_OUTFLOW_WINDOW_DAYS = 30

Pairs = list[tuple[int, str]]


def _maturity(trigger: Trigger, lo: int, hi: int, now: dt.datetime) -> Pairs:
    today = timezone.localdate(now)
    rows = Holding.objects.filter(
        customer_id__gte=lo,
        customer_id__lt=hi,
        maturity_date__gte=today,
        maturity_date__lte=today + dt.timedelta(days=trigger.days or 0),
    ).values_list("customer_id", "pk", "maturity_date")
    return [(cid, f"maturity:{pk}:{day.isoformat()}") for cid, pk, day in rows]


def outflow_customers(*, lo: int, hi: int, today: dt.date, window_days: int, percent, amount) -> list[int]:
    """Customers whose latest asset snapshot in the window is down from the window's peak
    by at least ``percent`` % or at least ``amount`` CNY.

    One aggregate pass keeps the candidates (the peak, less the lowest value, passes the
    test: necessary for a fall from the peak to the latest), then the latest values of
    those few decide; a correlated "latest snapshot" subquery per customer costs far more."""
    since = today - dt.timedelta(days=window_days)
    window = AssetSnapshot.objects.filter(customer_id__gte=lo, customer_id__lt=hi, date__gte=since, date__lte=today)
    could = Q()
    if amount is not None:
        could |= Q(peak__gte=F("low") + Decimal(amount))
    if percent is not None:
        could |= Q(peak__gt=0, low__lte=F("peak") * (1 - Decimal(percent) / 100))
    candidates = {
        cid: (peak, last)
        for cid, peak, last in window.order_by()
        .values("customer_id")
        .annotate(peak=Max("aum"), low=Min("aum"), last=Max("date"))
        .filter(could)
        .values_list("customer_id", "peak", "last")
    }
    if not candidates:
        return []
    fell = []
    rows = window.filter(customer_id__in=list(candidates)).values_list("customer_id", "date", "aum")
    for cid, day, aum in rows:
        peak, last = candidates[cid]
        if day != last:
            continue
        by_amount = amount is not None and peak - aum >= Decimal(amount)
        by_share = percent is not None and peak > 0 and aum <= peak * (1 - Decimal(percent) / 100)
        if by_amount or by_share:
            fell.append(cid)
    return fell


def _outflow(trigger: Trigger, lo: int, hi: int, now: dt.datetime) -> Pairs:
    if trigger.percent is None and trigger.amount is None:
        return []
    today = timezone.localdate(now)
    year, week, _day = today.isocalendar()
    fell = outflow_customers(
        lo=lo,
        hi=hi,
        today=today,
        window_days=trigger.window_days or DEFAULT_OUTFLOW_WINDOW_DAYS,
        percent=trigger.percent,
        amount=trigger.amount,
    )
    # One outflow event a customer a week: a fall that lasts is not a new event every sweep.
    return [(cid, f"outflow:{year}-W{week:02d}") for cid in fell]


def _risk_expiry(trigger: Trigger, lo: int, hi: int, now: dt.datetime) -> Pairs:
    """Expired (or never assessed), or expiring within ``days``: the assessment is the
    event, so a new assessment that expires again is a new occurrence."""
    valid = dt.timedelta(days=settings.WORKBENCH_RISK_ASSESSMENT_VALID_DAYS)
    horizon = now + dt.timedelta(days=trigger.days or 0)
    rows = (
        Customer.objects.filter(pk__gte=lo, pk__lt=hi)
        .filter(Q(risk_assessed_at__isnull=True) | Q(risk_assessed_at__lte=horizon - valid))
        .values_list("pk", "risk_assessed_at")
    )
    return [(cid, f"risk:{timezone.localdate(at).isoformat()}" if at is not None else "risk:none") for cid, at in rows]


def birthday_days(today: dt.date, days: int) -> dict[tuple[int, int], int]:
    """{(month, day): the year of that birthday} for the birthdays from today to today +
    ``days``; someone born on 29 February has the birthday on the 28th in other years."""
    found: dict[tuple[int, int], int] = {}
    for offset in range(days + 1):
        day = today + dt.timedelta(days=offset)
        found[(day.month, day.day)] = day.year
        if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
            found[(2, 29)] = day.year
    return found


def _birthday(trigger: Trigger, lo: int, hi: int, now: dt.datetime) -> Pairs:
    wanted = birthday_days(timezone.localdate(now), trigger.days or 0)
    on = Q(*[Q(birth_date__month=m, birth_date__day=d) for m, d in wanted], _connector=Q.OR)
    rows = Customer.objects.filter(pk__gte=lo, pk__lt=hi, birth_date__isnull=False).filter(on)
    return [(cid, f"birthday:{wanted[(born.month, born.day)]}") for cid, born in rows.values_list("pk", "birth_date")]


def _ai_intent(trigger: Trigger, lo: int, hi: int, now: dt.datetime) -> Pairs:
    """The latest session in the last ``days`` with one of the intents is the event, so a
    later session with the intent again is a new one. Read from the sessions' intent rows
    (``InteractionIntent``, indexed by intent and time)."""
    codes = [str(c) for c in trigger.intents or []]
    if not codes:
        return []
    rows = (
        InteractionIntent.objects.filter(
            intent__in=codes,
            customer_id__gte=lo,
            customer_id__lt=hi,
            occurred_at__gt=now - dt.timedelta(days=trigger.days or 0),
            occurred_at__lte=now,
        )
        .order_by()
        .values("customer_id")
        .annotate(last=Max("interaction_id"))
        .values_list("customer_id", "last")
    )
    return [(cid, f"intent:{pk}") for cid, pk in rows]


def _grade_high(trigger: Trigger, lo: int, hi: int, now: dt.datetime) -> Pairs:
    """Customers graded high now who were not at the last sweep. The trigger keeps the
    high ones as marks; its first sweep only takes the marks (those already high did not
    cross), and a customer who drops out of high is unmarked, so crossing again counts."""
    high = set(
        CustomerScore.objects.filter(customer_id__gte=lo, customer_id__lt=hi, grade=Grade.HIGH).values_list(
            "customer_id", flat=True
        )
    )
    marks = TriggerMark.objects.filter(trigger=trigger, customer_id__gte=lo, customer_id__lt=hi)
    marked = set(marks.values_list("customer_id", flat=True))
    gone = marked - high
    if gone:
        marks.filter(customer_id__in=gone).delete()
    crossed = sorted(high - marked)
    TriggerMark.objects.bulk_create(
        [TriggerMark(trigger=trigger, customer_id=cid, since=now) for cid in crossed],
        ignore_conflicts=True,
        batch_size=2000,
    )
    if trigger.last_swept_at is None:
        return []
    day = timezone.localdate(now).isoformat()
    return [(cid, f"grade_high:{day}") for cid in crossed]


def _cooling_off_ended(trigger: Trigger, lo: int, hi: int, now: dt.datetime) -> Pairs:
    """Private-product purchases whose cooling-off window (``ledger.cooling_off_ends``,
    the rule the contact ledger blocks with) ended in the last ``days``."""
    since = now - dt.timedelta(days=trigger.days or 0)
    hours = dt.timedelta(hours=settings.WORKBENCH_PRIVATE_COOLING_OFF_HOURS)
    # The window ends the day after the purchase plus the hours: a day either side of
    # these bounds covers the time zone; the exact test is cooling_off_ends below.
    first = timezone.localdate(since - hours) - dt.timedelta(days=2)
    last = timezone.localdate(now - hours)
    rows = Holding.objects.filter(
        customer_id__gte=lo,
        customer_id__lt=hi,
        product__is_private=True,
        opened_on__gte=first,
        opened_on__lte=last,
    ).values_list("customer_id", "pk", "opened_on")
    return [(cid, f"cooling_off:{pk}") for cid, pk, opened in rows if since < cooling_off_ends(opened) <= now]


def _dormant(trigger: Trigger, lo: int, hi: int, now: dt.datetime) -> Pairs:
    """No contact for ``days`` (``last_contact_at`` follows every interaction); never
    contacted counts once the customer has been with the bank that long. The last contact
    is the event, so a customer contacted and then dormant again is a new occurrence."""
    before = now - dt.timedelta(days=trigger.days or 0)
    rows = (
        Customer.objects.filter(pk__gte=lo, pk__lt=hi)
        .filter(Q(last_contact_at__lt=before) | Q(last_contact_at__isnull=True, created_at__lt=before))
        .values_list("pk", "last_contact_at")
    )
    return [
        (cid, f"dormant:{timezone.localdate(at).isoformat()}" if at is not None else "dormant:never")
        for cid, at in rows
    ]


FINDERS = {
    TriggerKind.MATURITY: _maturity,
    TriggerKind.OUTFLOW: _outflow,
    TriggerKind.RISK_EXPIRY: _risk_expiry,
    TriggerKind.BIRTHDAY: _birthday,
    TriggerKind.AI_INTENT: _ai_intent,
    TriggerKind.GRADE_HIGH: _grade_high,
    TriggerKind.COOLING_OFF_ENDED: _cooling_off_ended,
    TriggerKind.DORMANT: _dormant,
}


def trigger_events(*, trigger: Trigger, lo: int, hi: int, now: dt.datetime) -> Pairs:
    """The events of ``trigger`` among customers with ids in ``[lo, hi)``, in id order."""
    return sorted(set(FINDERS[trigger.kind](trigger, lo, hi, now)))
