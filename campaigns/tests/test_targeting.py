"""The exclusion funnel before launch: each reason counted once, suitability exclusions,
the holdout, quiet hours held, the second review of older customers for R4/R5."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from campaigns.holdout import LEGACY_MODULUS
from campaigns.models import HoldoutDraw, Segment, SegmentKind, SegmentMember
from campaigns.targeting import HASH_MULTIPLIER, exclusion_funnel
from campaigns.tests.factories import make_campaign
from customers.models import Channel
from customers.services import ledger
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOON = dt.datetime(2026, 6, 2, 12, 0, tzinfo=SH)


def _holdout(percent: int) -> None:
    """The first draw's rule at ``percent`` (outside the 1–5 % a re-draw allows, to test)."""
    HoldoutDraw.objects.all().delete()
    HoldoutDraw.objects.create(
        percent=percent, salt=HASH_MULTIPLIER, modulus=LEGACY_MODULUS, valid_from=dt.date(2000, 1, 1)
    )


def _customer(*, consent=True, risk=3, assessed_days_ago=30, birth=dt.date(1980, 1, 1)):
    c = CustomerFactory(
        risk_level=risk,
        risk_assessed_at=NOON - dt.timedelta(days=assessed_days_ago) if assessed_days_ago is not None else None,
        birth_date=birth,
        aum=Decimal("100000"),
    )
    ContactPreferenceFactory(customer=c, channel=Channel.SMS, consent=consent)
    return c


def test_funnel_counts_each_reason(world, settings):
    _holdout(0)
    product = ProductFactory(risk_level=4)
    fine = [_customer(risk=5) for _i in range(3)]
    older = _customer(risk=5, birth=dt.date(1950, 1, 1))
    low_risk = _customer(risk=2)
    expired = _customer(risk=5, assessed_days_ago=400)
    missing = _customer(risk=5, assessed_days_ago=None)
    no_consent = _customer(risk=5, consent=False)
    members = [*fine, older, low_risk, expired, missing, no_consent]
    segment = Segment.objects.create(name="名单", kind=SegmentKind.UPLOADED)
    SegmentMember.objects.bulk_create([SegmentMember(segment=segment, customer=c) for c in members])
    campaign = make_campaign(world)
    campaign.audience, campaign.product = segment, product
    campaign.save()
    # one member is already reserved by this campaign
    ledger.ledger_reserve(
        customer_ids=[fine[0].pk], channel=Channel.SMS, key_prefix="x", source_id=campaign.pk, now=NOON
    )
    funnel = exclusion_funnel(campaign=campaign, now=NOON)
    dropped = {row["code"]: row["dropped"] for row in funnel.rows}
    assert funnel.members == 8
    assert dropped["already_in_campaign"] == 1
    assert dropped["unsuitable"] == 3  # risk below the product's, expired, missing
    assert dropped["no_consent"] == 1
    assert funnel.reached == 3 and funnel.second_review == 1
    assert funnel.rows[-1]["left"] == funnel.reached
    assert funnel.held_for_window == 0


def test_holdout_and_quiet_hours(world, settings):
    _holdout(50)
    members = [_customer() for _i in range(10)]
    segment = Segment.objects.create(name="名单", kind=SegmentKind.UPLOADED)
    SegmentMember.objects.bulk_create([SegmentMember(segment=segment, customer=c) for c in members])
    campaign = make_campaign(world)
    campaign.audience = segment
    campaign.save()
    night = NOON.replace(hour=23)
    funnel = exclusion_funnel(campaign=campaign, now=night)
    held_out = sum(1 for c in members if (c.pk * HASH_MULTIPLIER) % 100 < 50)
    assert {r["code"]: r["dropped"] for r in funnel.rows}["holdout"] == held_out
    assert funnel.reached == 10 - held_out
    assert funnel.held_for_window == funnel.reached
    assert timezone.localtime(funnel.hold_until).hour == 9
    assert exclusion_funnel(campaign=make_campaign(world), now=night) is None
