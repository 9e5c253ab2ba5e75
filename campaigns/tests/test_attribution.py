"""Conversions attributed within each campaign's window: a won call, a converted referral
and a new holding of the campaign's product, each once, at the window's edges (day 0, the
last day, one day after); the Outcome rows carry campaign and arm; the window validated."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from calls.models import NextAction
from calls.tests.factories import CallLogFactory
from campaigns.journeys.attribution import in_window
from campaigns.journeys.runner import journeys_collect_conversions
from campaigns.models import Arm, Campaign, CampaignStatus, Enrolment, JourneyEvent, JourneyEventKind
from core.models import AuditEvent
from customers.tests.factories import CustomerFactory, HoldingFactory, ProductFactory
from referrals.models import ReferralStatus
from referrals.tests.factories import ReferralFactory
from scoring.models import Outcome, OutcomeSource
from scoring.services.outcomes import outcome_record

pytestmark = pytest.mark.django_db

SH = timezone.get_fixed_timezone(8 * 60)
ENTRY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=SH)  # 2 November, 10:00 in Shanghai
DAYS = 7


def _campaign(days=DAYS, product=None):
    n = Campaign.objects.count() + 1
    return Campaign.objects.create(
        code=f"A{n:03d}",
        name="归因",
        status=CampaignStatus.RUNNING,
        salt=f"a{n}",
        attribution_days=days,
        product=product or ProductFactory(),
    )


def _enrol(campaign, arm=Arm.TREATMENT, customer=None, at=ENTRY, occurrence=""):
    return Enrolment.objects.create(
        campaign=campaign,
        customer=customer or CustomerFactory(),
        occurrence=occurrence,
        bucket=5000 if arm == Arm.TREATMENT else 1,
        arm=arm,
        entered_at=at,
    )


def _won(world, customer, at):
    return CallLogFactory(
        customer=customer, lead__customer=customer, advisor=world.advisor_a, started_at=at, next_action=NextAction.WON
    )


def _collect(at):
    return journeys_collect_conversions(now=at, days=60)


def _converted(enrolment):
    return list(
        JourneyEvent.objects.filter(enrolment=enrolment, kind=JourneyEventKind.CONVERTED).values_list(
            "detail", flat=True
        )
    )


def test_in_window_at_its_edges():
    days = 7
    assert in_window(entered_at=ENTRY, days=days, at=ENTRY)  # the moment of entry
    assert not in_window(entered_at=ENTRY, days=days, at=ENTRY - dt.timedelta(seconds=1))
    assert in_window(entered_at=ENTRY, days=days, at=ENTRY + dt.timedelta(days=7) - dt.timedelta(seconds=1))
    assert not in_window(entered_at=ENTRY, days=days, at=ENTRY + dt.timedelta(days=7))
    assert in_window(entered_at=ENTRY, days=days, day=dt.date(2026, 11, 2))  # day 0
    assert in_window(entered_at=ENTRY, days=days, day=dt.date(2026, 11, 8))  # day 6, the last
    assert not in_window(entered_at=ENTRY, days=days, day=dt.date(2026, 11, 9))  # one day after
    assert not in_window(entered_at=ENTRY, days=days, day=dt.date(2026, 11, 1))


def test_won_calls_at_the_edges(world):
    campaign = _campaign()
    day0, last, after, before = (_enrol(campaign) for _i in range(4))
    _won(world, day0.customer, ENTRY)
    _won(world, last.customer, ENTRY + dt.timedelta(days=DAYS) - dt.timedelta(minutes=1))
    _won(world, after.customer, ENTRY + dt.timedelta(days=DAYS))
    _won(world, before.customer, ENTRY - dt.timedelta(minutes=1))
    assert _collect(ENTRY + dt.timedelta(days=30)) == 2
    assert [bool(_converted(e)) for e in (day0, last, after, before)] == [True, True, False, False]
    assert _collect(ENTRY + dt.timedelta(days=30)) == 0  # each once


def test_holdings_of_the_campaigns_product_at_the_edges(world):
    product = ProductFactory()
    campaign = _campaign(product=product)
    day0, last, after, other = (_enrol(campaign) for _i in range(4))
    HoldingFactory(customer=day0.customer, product=product, opened_on=dt.date(2026, 11, 2))
    HoldingFactory(customer=last.customer, product=product, opened_on=dt.date(2026, 11, 8))
    HoldingFactory(customer=after.customer, product=product, opened_on=dt.date(2026, 11, 9))
    HoldingFactory(customer=other.customer, opened_on=dt.date(2026, 11, 3))  # another product
    assert _collect(ENTRY + dt.timedelta(days=30)) == 2
    assert [bool(_converted(e)) for e in (day0, last, after, other)] == [True, True, False, False]
    event = JourneyEvent.objects.get(enrolment=day0, kind=JourneyEventKind.CONVERTED)
    assert event.at == ENTRY  # a holding of the day of entry counts from the entry on
    assert _collect(ENTRY + dt.timedelta(days=30)) == 0


def test_converted_referrals_at_the_edges(world):
    campaign = _campaign()
    day0, last, after = (_enrol(campaign) for _i in range(3))
    for enrolment, closed in (
        (day0, ENTRY),
        (last, ENTRY + dt.timedelta(days=DAYS, seconds=-1)),
        (after, ENTRY + dt.timedelta(days=DAYS)),
    ):
        ReferralFactory(
            lead__customer=enrolment.customer,
            status=ReferralStatus.CONVERTED,
            closed_at=closed,
            converted_amount=Decimal("100000"),
        )
    lost = _enrol(campaign)
    ReferralFactory(lead__customer=lost.customer, status=ReferralStatus.LOST, closed_at=ENTRY + dt.timedelta(days=1))
    assert _collect(ENTRY + dt.timedelta(days=30)) == 2
    assert [_converted(e) != [] for e in (day0, last, after, lost)] == [True, True, False, False]
    assert _converted(day0)[0].startswith("referral:")


def test_each_source_counts_once_per_campaign_and_for_the_latest_entry(world):
    product = ProductFactory()
    campaign = _campaign(days=30, product=product)
    person = CustomerFactory()
    older = _enrol(campaign, customer=person, occurrence="a")
    newer = _enrol(campaign, customer=person, occurrence="b", at=ENTRY + dt.timedelta(days=2))
    elsewhere = _enrol(_campaign(days=30), customer=person)
    _won(world, person, ENTRY + dt.timedelta(days=3))
    HoldingFactory(customer=person, product=product, opened_on=dt.date(2026, 11, 6))
    assert _collect(ENTRY + dt.timedelta(days=10)) == 3  # the call for both campaigns, the holding once
    assert sorted(s.split(":")[0] for s in _converted(newer)) == ["holding", "won_call"]
    assert _converted(older) == []
    assert [s.split(":")[0] for s in _converted(elsewhere)] == ["won_call"]  # not its product's holding


def test_control_customers_are_attributed_alike(world):
    campaign = _campaign()
    control = _enrol(campaign, arm=Arm.CONTROL)
    _won(world, control.customer, ENTRY + dt.timedelta(days=1))
    assert _collect(ENTRY + dt.timedelta(days=2)) == 1
    assert _converted(control)


def test_outcome_rows_carry_campaign_and_arm(world):
    product = ProductFactory()
    campaign = _campaign(product=product)
    treated, control = _enrol(campaign), _enrol(campaign, arm=Arm.CONTROL)
    call = _won(world, treated.customer, ENTRY + dt.timedelta(days=1))
    call_outcome = outcome_record(
        customer=treated.customer,
        contacted_at=call.started_at,
        channel="phone",
        converted=True,
        external_key=f"call:{call.idempotency_key}",
    )
    assert (call_outcome.campaign_id, call_outcome.arm) == (None, "")
    holding = HoldingFactory(customer=control.customer, product=product, opened_on=dt.date(2026, 11, 3))
    assert _collect(ENTRY + dt.timedelta(days=5)) == 2
    call_outcome.refresh_from_db()
    assert (call_outcome.campaign_id, call_outcome.arm) == (campaign.pk, Arm.TREATMENT)
    from_holding = Outcome.objects.get(external_key=f"holding:{holding.pk}")
    assert (from_holding.campaign_id, from_holding.arm, from_holding.converted) == (campaign.pk, Arm.CONTROL, True)
    assert from_holding.source == OutcomeSource.CAMPAIGN and from_holding.product == product
    assert from_holding.contacted_at == ENTRY  # the features as of entry
    assert AuditEvent.objects.filter(verb="scoring.outcomes_attribute").count() == 1
    assert (
        AuditEvent.objects.get(verb="scoring.outcome_record", target_id=str(from_holding.pk)).details["arm"]
        == "control"
    )
    _collect(ENTRY + dt.timedelta(days=5))
    assert Outcome.objects.count() == 2  # nothing twice


def test_the_service_passes_campaign_and_arm_through(world):
    outcome = outcome_record(
        customer=CustomerFactory(),
        contacted_at=ENTRY,
        channel="sms",
        converted=False,
        campaign_id=42,
        arm="treatment",
        external_key="t:1",
    )
    outcome.refresh_from_db()
    assert (outcome.campaign_id, outcome.arm) == (42, "treatment")


@pytest.mark.parametrize(("days", "ok"), [(0, False), (1, True), (180, True), (181, False)])
def test_the_window_is_validated(days, ok):
    campaign = Campaign(code="V1", name="窗口", attribution_days=days)
    if ok:
        campaign.full_clean(exclude=["salt"])
    else:
        with pytest.raises(ValidationError) as refused:
            campaign.full_clean(exclude=["salt"])
        assert "attribution_days" in refused.value.message_dict


def test_a_new_campaign_takes_the_default_window(settings):
    settings.WORKBENCH_CAMPAIGN_ATTRIBUTION_DAYS = 14
    assert Campaign(code="D1", name="默认").attribution_days == 14
