"""Demo history for targeting by uplift: a past campaign whose half control group lets the
uplift model find something true.

The campaign (an SMS reminder, ended) entered customers 75 days ago; half were hashed into
the control group. Conversions in the 30 days after entry are drawn from a known truth on
the customers' features *at entry* (the features the model reads):

- **persuadable**: base or wealth tier with a holding maturing within 30 days of entry —
  45 % convert when contacted, 3 % when not;
- **would convert anyway**: wealth and private tier otherwise — 15 % in both groups;
- everyone else: 5 % in both groups.

So the uplift model has exactly one group to find (and ``campaigns/tests/test_uplift.py``
checks it does, on held-out customers). Built through the lifecycle services; the
conversions are journey events written directly, as the demo's message history is.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.conf import settings
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from compliance.models import Script
from customers.models import AssetSnapshot, Customer, Holding

from .journeys.enrol import enrol_customers
from .models import Campaign, Enrolment, JourneyEvent, JourneyEventKind
from .services import journey, lifecycle

CODE = "DEMO-UPLIFT"
ENTRY_DAYS_AGO = 75
DEFAULT_ENTRANTS = 3000
SEED = 13
PERSUADABLE = (0.45, 0.03)  # P(convert) contacted, not contacted
ANYWAY = 0.15
BASELINE = 0.05


def _entry_time(today: dt.date) -> dt.datetime:
    day = today - dt.timedelta(days=ENTRY_DAYS_AGO)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))


def truth(*, customer_ids: list[int], entered_at: dt.datetime) -> tuple[set[int], set[int]]:
    """(persuadable, would convert anyway) customers, from what they were at entry: the
    tier of their last snapshot before the day of entry (the features' rule) and their
    holdings maturing within 30 days of it. Set-based: two queries."""
    day = timezone.localdate(entered_at)
    aum_then = Subquery(
        AssetSnapshot.objects.filter(customer_id=OuterRef("pk"), date__lte=day, date__gt=day - dt.timedelta(days=130))
        .order_by("-date")
        .values("aum")[:1]
    )
    maturing = Holding.objects.filter(
        customer_id=OuterRef("pk"),
        opened_on__lte=day,
        maturity_date__gte=day,
        maturity_date__lte=day + dt.timedelta(days=30),
    )
    rows = (
        Customer.objects.filter(pk__in=customer_ids)
        .annotate(aum_then=aum_then, maturing=Exists(maturing))
        .values_list("pk", "aum_then", "maturing")
    )
    persuadable, anyway = set(), set()
    for pk, aum, soon in rows:
        if aum is None:
            continue
        wealth = aum >= settings.WORKBENCH_TIER_WEALTH_MIN
        base_or_wealth = aum >= settings.WORKBENCH_TIER_BASE_MIN and aum < settings.WORKBENCH_TIER_PRIVATE_MIN
        if base_or_wealth and soon:
            persuadable.add(pk)
        elif wealth:
            anyway.add(pk)
    return persuadable, anyway


def seed_uplift_history(*, author, approver, today: dt.date, entrants: int = DEFAULT_ENTRANTS, script=None) -> int:
    """The past campaign and its conversions; returns the enrolments written (0 when
    the campaign exists already)."""
    if Campaign.objects.filter(code=CODE).exists():
        return 0
    script = script or Script.objects.filter(title="开场白：到期资金关怀").first()
    if script is None:
        return 0
    entered_at = _entry_time(today)
    campaign = lifecycle.campaign_create(
        actor=author,
        code=CODE,
        name="到期资金关怀短信（历史，含50%对照组）",
        description="上一季度的短信关怀，一半客户作为对照组从未联系：增量效果模型从中学习。",
        starts_on=entered_at.date(),
        ends_on=entered_at.date() + dt.timedelta(days=30),
    )
    journey.journey_step_add(actor=author, campaign=campaign, kind="send", channel="sms", script=script)
    campaign = journey.journey_settings_update(
        actor=author, campaign=campaign, exit_rules=[], control_percent=50, daily_entry_limit=None
    )
    lifecycle.campaign_submit(actor=author, campaign=campaign)
    lifecycle.campaign_approve_launch(actor=approver, campaign=campaign)
    campaign = lifecycle.campaign_start(actor=author, campaign=campaign)
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True)[:entrants])
    enrol_customers(campaign=campaign, entrants=ids, now=entered_at)
    enrolments = list(
        Enrolment.objects.filter(campaign=campaign).order_by("pk").values_list("pk", "customer_id", "arm")
    )
    persuadable_ids, anyway_ids = truth(customer_ids=[cid for _pk, cid, _arm in enrolments], entered_at=entered_at)
    persuadable = np.array([cid in persuadable_ids for _pk, cid, _arm in enrolments], dtype=bool)
    anyway = np.array([cid in anyway_ids for _pk, cid, _arm in enrolments], dtype=bool)
    treated = np.array([arm == "treatment" for _pk, _cid, arm in enrolments], dtype=bool)
    p = np.where(persuadable, np.where(treated, PERSUADABLE[0], PERSUADABLE[1]), np.where(anyway, ANYWAY, BASELINE))
    rng = np.random.default_rng(SEED)
    converts = rng.random(len(p)) < p
    after = rng.integers(1, 29, len(p))
    JourneyEvent.objects.bulk_create(
        [
            JourneyEvent(
                campaign=campaign,
                enrolment_id=pk,
                kind=JourneyEventKind.CONVERTED,
                at=entered_at + dt.timedelta(days=int(days)),
            )
            for (pk, _cid, _arm), yes, days in zip(enrolments, converts.tolist(), after.tolist(), strict=True)
            if yes
        ],
        batch_size=5000,
    )
    lifecycle.campaign_end(actor=author, campaign=campaign, note="历史策略")
    return len(enrolments)
