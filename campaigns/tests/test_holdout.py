"""The global holdout: draws (the quarterly limit, history, audit), deterministic
membership in Python and SQL alike, proportions on 100,000 ids, nobody held out ever
enrolled or messaged, and the monthly report's arithmetic on known data."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calls.models import NextAction
from calls.tests.factories import CallLogFactory
from campaigns import holdout, tasks
from campaigns.holdout import (
    LEGACY_MODULUS,
    LEGACY_SALT,
    MODULUS,
    MeanMoments,
    held_out_q,
    holdout_current,
    holdout_history,
    holdout_redraw,
    holdout_report,
    is_held_out,
    mean_difference,
)
from campaigns.journeys.enrol import enrol_customers, in_global_holdout
from campaigns.journeys.runner import journey_advance
from campaigns.models import (
    Arm,
    Campaign,
    CampaignStatus,
    CampaignStep,
    Enrolment,
    HoldoutDraw,
    HoldoutReportMonth,
    Message,
    Segment,
    SegmentKind,
    SegmentMember,
    StepKind,
)
from campaigns.targeting import exclusion_funnel
from campaigns.tests.factories import approved_script
from core.models import AuditEvent
from customers.models import AssetSnapshot, Channel, ContactLedgerEntry, Customer
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory, HoldingFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 2)
NOW = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


def first_draw(percent: int = 5) -> HoldoutDraw:
    """The data migration's draw (made again: a transactional test may have flushed it)."""
    HoldoutDraw.objects.all().delete()
    return HoldoutDraw.objects.create(
        percent=percent, salt=LEGACY_SALT, modulus=LEGACY_MODULUS, valid_from=dt.date(2000, 1, 1)
    )


# --- membership ---------------------------------------------------------------------------


def test_the_first_draw_is_the_rule_before_draws():
    draw = first_draw()
    assert all(is_held_out(draw, pk) == ((pk * 2654435761) % 100 < 5) for pk in range(1, 20_000))


def test_the_data_migration_wrote_the_first_draw_at_five_percent(django_db_setup):
    # The migration's row is in the test database unless a transactional test flushed it.
    draw = HoldoutDraw.objects.filter(salt=LEGACY_SALT).first()
    if draw is not None:
        assert (draw.percent, draw.modulus, draw.valid_from) == (5, LEGACY_MODULUS, dt.date(2000, 1, 1))


def test_without_any_draw_the_first_draws_rule_applies():
    HoldoutDraw.objects.all().delete()
    draw = holdout_current()
    assert (draw.percent, draw.salt, draw.modulus) == (5, LEGACY_SALT, LEGACY_MODULUS)


@pytest.mark.parametrize("percent", [1, 3, 5])
def test_proportions_within_tolerance_on_100000_ids(percent):
    draw = HoldoutDraw(percent=percent, salt=1_234_567_891 % MODULUS, modulus=MODULUS, valid_from=TODAY)
    held = sum(is_held_out(draw, pk) for pk in range(1, 100_001))
    # Binomial sd at 5 % of 100,000 is about 69: allow five of them.
    sd = math.sqrt(100_000 * percent / 100 * (1 - percent / 100))
    assert abs(held - 100_000 * percent / 100) < 5 * sd


def test_two_salts_hold_out_nearly_independent_sets():
    a = HoldoutDraw(percent=5, salt=987_654_321, modulus=MODULUS, valid_from=TODAY)
    b = HoldoutDraw(percent=5, salt=123_456_789, modulus=MODULUS, valid_from=TODAY)
    ids = range(1, 100_001)
    both = sum(1 for pk in ids if is_held_out(a, pk) and is_held_out(b, pk))
    assert 150 < both < 350  # independent: 100,000 × 5 % × 5 % = 250


def test_membership_is_deterministic_and_sql_agrees_with_python():
    customers = [CustomerFactory() for _i in range(60)]
    for draw in (
        first_draw(50),
        HoldoutDraw(percent=40, salt=1_000_003, modulus=MODULUS, valid_from=TODAY),
    ):
        in_sql = set(Customer.objects.filter(held_out_q(draw)).values_list("pk", flat=True))
        in_python = {c.pk for c in customers if is_held_out(draw, c.pk)}
        assert in_sql == in_python and 0 < len(in_sql) < 60
        assert in_python == {c.pk for c in customers if is_held_out(draw, c.pk)}


def test_large_ids_do_not_overflow_in_sql():
    draw = HoldoutDraw(percent=5, salt=MODULUS - 1, modulus=MODULUS, valid_from=TODAY)
    big = CustomerFactory(pk=2_000_000_000)
    assert Customer.objects.filter(pk=big.pk).filter(held_out_q(draw)).exists() == is_held_out(draw, big.pk)


# --- re-drawing ---------------------------------------------------------------------------


def test_redraw_keeps_history_and_is_audited_in_the_transaction(world):
    first = first_draw()
    draw = holdout_redraw(
        actor=world.campaigner, percent=3, valid_from=dt.date(2027, 1, 1), note="年度重抽", today=TODAY
    )
    assert (draw.percent, draw.modulus, draw.drawn_by) == (3, MODULUS, world.campaigner)
    assert 2 <= draw.salt < MODULUS
    first.refresh_from_db()
    assert (first.percent, first.salt) == (5, LEGACY_SALT)  # the earlier draw is unchanged
    assert holdout_current(on=dt.date(2026, 12, 31)) == first
    assert holdout_current(on=dt.date(2027, 1, 1)) == draw
    history = holdout_history(today=dt.date(2027, 2, 1))
    assert [row.draw for row in history] == [draw, first]
    assert history[0].is_current and history[0].valid_until is None
    assert history[1].valid_until == dt.date(2026, 12, 31) and history[1].is_legacy
    event = AuditEvent.objects.get(verb="campaign.holdout_redraw")
    assert event.actor == world.campaigner and event.target_id == str(draw.pk)
    assert event.details == {
        "held_out_percent": 3,
        "valid_from": "2027-01-01",
        "previous_draw": first.pk,
        "note": "年度重抽",
    }


def test_at_most_one_redraw_a_quarter(world):
    first_draw()
    holdout_redraw(actor=world.admin, percent=5, valid_from=dt.date(2027, 1, 1), today=TODAY)
    for day in (dt.date(2027, 2, 1), dt.date(2027, 3, 1)):
        with pytest.raises(ValidationError) as refused:
            holdout_redraw(actor=world.admin, percent=5, valid_from=day, today=TODAY)
        message = refused.value.message_dict["valid_from"][0]
        assert "2027-04-01" in message  # says when the next draw may start
    assert HoldoutDraw.objects.count() == 2
    assert AuditEvent.objects.filter(verb="campaign.holdout_redraw").count() == 1
    holdout_redraw(actor=world.admin, percent=2, valid_from=dt.date(2027, 4, 1), today=TODAY)
    assert holdout.earliest_redraw(today=TODAY) == dt.date(2027, 7, 1)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"percent": 0, "valid_from": dt.date(2027, 1, 1)}, "percent"),
        ({"percent": 6, "valid_from": dt.date(2027, 1, 1)}, "percent"),
        ({"percent": "x", "valid_from": dt.date(2027, 1, 1)}, "percent"),
        ({"percent": 5, "valid_from": dt.date(2027, 1, 2)}, "valid_from"),  # not a month's first day
        ({"percent": 5, "valid_from": dt.date(2026, 12, 1)}, "valid_from"),  # in the past
        ({"percent": 5, "valid_from": None}, "valid_from"),
        ({"percent": 5, "valid_from": dt.date(2027, 1, 1), "note": "长" * 201}, "note"),
    ],
)
def test_bad_input_is_refused_with_its_field_and_changes_nothing(world, fields, field):
    first_draw()
    with pytest.raises(ValidationError) as refused:
        holdout_redraw(actor=world.admin, today=TODAY, **fields)
    assert field in refused.value.message_dict
    assert HoldoutDraw.objects.count() == 1
    assert not AuditEvent.objects.filter(verb="campaign.holdout_redraw").exists()


def test_the_current_quarter_is_refused_when_the_first_draw_is_this_quarter(world):
    HoldoutDraw.objects.all().delete()
    HoldoutDraw.objects.create(percent=5, salt=7, modulus=MODULUS, valid_from=dt.date(2026, 10, 1))
    with pytest.raises(ValidationError):
        holdout_redraw(actor=world.admin, percent=5, valid_from=dt.date(2026, 12, 1), today=dt.date(2026, 12, 1))
    assert holdout_redraw(actor=world.admin, percent=5, valid_from=dt.date(2027, 1, 1), today=TODAY)


@pytest.mark.parametrize("who", ["advisor_a", "lead_a", "compliance", "manager_x"])
def test_only_campaign_managers_and_admins_redraw(world, who):
    first_draw()
    with pytest.raises(PermissionDenied):
        holdout_redraw(actor=getattr(world, who), percent=5, valid_from=dt.date(2027, 1, 1), today=TODAY)
    assert HoldoutDraw.objects.count() == 1


# --- nobody held out is ever enrolled or messaged -------------------------------------------


def _sms_campaign(world):
    campaign = Campaign.objects.create(
        code="H0001", name="全量短信", status=CampaignStatus.RUNNING, created_by=world.campaigner, salt="h1"
    )
    script = approved_script(world, title="全量提醒短信")
    CampaignStep.objects.create(campaign=campaign, position=1, kind=StepKind.SEND, channel=Channel.SMS, script=script)
    return campaign


def test_nobody_held_out_is_enrolled_or_messaged_under_the_old_or_the_new_draw(world):
    first_draw()
    people = [CustomerFactory(owner=world.advisor_a) for _i in range(80)]
    for c in people:
        ContactPreferenceFactory(customer=c, channel=Channel.SMS, consent=True)
    new = HoldoutDraw.objects.create(percent=5, salt=1_000_003, modulus=MODULUS, valid_from=dt.date(2026, 12, 1))
    # Make the new draw hold out somebody the first did not, and check against it.
    new.percent = 30
    new.save()
    campaign = _sms_campaign(world)
    entry = enrol_customers(campaign=campaign, entrants=[c.pk for c in people], now=NOW)
    journey_advance(enrolment_ids=entry.entered, now=NOW)
    held = {c.pk for c in people if is_held_out(new, c.pk)}
    assert held and entry.holdout == len(held)
    assert held == {c.pk for c in people if in_global_holdout(c.pk)}
    enrolled = set(Enrolment.objects.values_list("customer_id", flat=True))
    assert enrolled == {c.pk for c in people} - held
    assert not Message.objects.filter(customer_id__in=held).exists()  # the outbox
    assert not ContactLedgerEntry.objects.filter(customer_id__in=held).exists()  # the ledger
    assert set(Message.objects.values_list("customer_id", flat=True)) <= enrolled and Message.objects.exists()


def test_the_exclusion_funnel_drops_the_current_draws_holdout(world):
    first_draw()
    HoldoutDraw.objects.create(percent=30, salt=1_000_003, modulus=MODULUS, valid_from=dt.date(2026, 12, 1))
    people = [CustomerFactory() for _i in range(40)]
    campaign = _sms_campaign(world)
    campaign.audience = _segment_of(people)
    campaign.save()
    funnel = exclusion_funnel(campaign=campaign, now=NOW)
    dropped = {r["code"]: r["dropped"] for r in funnel.rows}
    assert dropped["holdout"] == sum(1 for c in people if in_global_holdout(c.pk)) > 0


def _segment_of(people):
    segment = Segment.objects.create(name="名单", kind=SegmentKind.UPLOADED)
    SegmentMember.objects.bulk_create([SegmentMember(segment=segment, customer=c) for c in people])
    return segment


# --- the monthly report ---------------------------------------------------------------------


def _local(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=timezone.get_current_timezone())


def test_mean_difference_by_hand():
    a = MeanMoments(n=4, s=10.0, ss=30.0)  # 1, 2, 3, 4: mean 2.5, variance 5/3
    b = MeanMoments(n=3, s=3.0, ss=5.0)  # 0, 1, 2: mean 1, variance 1
    d = mean_difference(a, b)
    se = math.sqrt((5 / 3) / 4 + 1 / 3)
    assert d.estimate == pytest.approx(1.5)
    assert (d.low, d.high) == (pytest.approx(1.5 - 1.959963984540054 * se), pytest.approx(1.5 + 1.959963984540054 * se))
    assert d.p_value == pytest.approx(math.erfc(1.5 / se / math.sqrt(2)))
    assert a.interval == (
        pytest.approx(2.5 - 1.959963984540054 * math.sqrt(5 / 12)),
        pytest.approx(2.5 + 1.959963984540054 * math.sqrt(5 / 12)),
    )
    assert mean_difference(MeanMoments(1, 1.0, 1.0), b) is None


def _report_world(world):
    """Known data in October and November 2026: two touched, the held-out, snapshots."""
    draw = first_draw(50)
    people = [CustomerFactory() for _i in range(12)]
    held = [c for c in people if is_held_out(draw, c.pk)]
    free = [c for c in people if not is_held_out(draw, c.pk)]
    campaign = Campaign.objects.create(code="R1", name="报告", status=CampaignStatus.RUNNING, salt="r")
    touched = free[:2]
    for c in touched:
        Enrolment.objects.create(
            campaign=campaign, customer=c, bucket=5000, arm=Arm.TREATMENT, entered_at=_local(dt.date(2026, 11, 3))
        )
    # A control entrant is not "touched".
    Enrolment.objects.create(
        campaign=campaign, customer=free[2], bucket=1, arm=Arm.CONTROL, entered_at=_local(dt.date(2026, 11, 3))
    )
    # Conversions in November: touched[0] twice (a won call and a holding), held[0] once.
    CallLogFactory(
        customer=touched[0],
        lead__customer=touched[0],
        advisor=world.advisor_a,
        started_at=_local(dt.date(2026, 11, 10)),
        next_action=NextAction.WON,
    )
    HoldingFactory(customer=touched[0], opened_on=dt.date(2026, 11, 30))
    HoldingFactory(customer=held[0], opened_on=dt.date(2026, 11, 1))
    HoldingFactory(customer=held[1], opened_on=dt.date(2026, 12, 1))  # December, not November
    # AUM: end of October and end of November.
    for c, (oct_aum, nov_aum) in zip(touched, [(100, 160), (200, 220)], strict=True):
        AssetSnapshot.objects.create(customer=c, date=dt.date(2026, 10, 31), aum=Decimal(oct_aum))
        AssetSnapshot.objects.create(customer=c, date=dt.date(2026, 11, 30), aum=Decimal(nov_aum))
    for c in held:
        AssetSnapshot.objects.create(customer=c, date=dt.date(2026, 10, 20), aum=Decimal(100))
        AssetSnapshot.objects.create(customer=c, date=dt.date(2026, 11, 15), aum=Decimal(110))
    return draw, touched, held


def test_report_arithmetic_on_known_data_with_empty_months(world):
    _draw, _touched, held = _report_world(world)
    months = holdout_report(today=TODAY)
    assert [m.month for m in months][-3:] == [dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 12, 1)]
    assert len(months) == 12
    october, november, december = months[-3:]
    assert october.touched.customers == 0 and october.holdout.customers == len(held)
    assert months[0].is_empty is False  # the held-out group exists in every month
    t, h = november.touched, november.holdout
    assert (t.customers, t.converted, t.conversions) == (2, 1, 2)
    assert (h.customers, h.converted, h.conversions) == (len(held), 1, 1)
    assert t.rate == 0.5 and h.rate == pytest.approx(1 / len(held))
    assert t.aum.n == 2 and t.aum.mean == pytest.approx(190)
    assert t.change.n == 2 and t.change.mean == pytest.approx(40)  # (60 + 20) / 2
    assert h.aum.mean == pytest.approx(110) and h.change.mean == pytest.approx(10)
    assert h.change.variance == 0
    diff = november.rate_difference
    assert diff.estimate == pytest.approx(0.5 - 1 / len(held))
    assert november.change_difference.estimate == pytest.approx(30)
    assert (december.holdout.converted, december.touched.customers) == (1, 0)
    assert december.rate_difference is None  # nobody touched in December


def test_report_uses_the_draw_valid_on_each_months_first_day(world):
    first_draw(50)
    people = [CustomerFactory() for _i in range(30)]
    later = HoldoutDraw.objects.create(percent=20, salt=1_000_003, modulus=MODULUS, valid_from=dt.date(2026, 12, 1))
    months = holdout_report(today=TODAY)
    assert months[-1].draw == later and months[-2].draw.salt == LEGACY_SALT
    assert months[-1].holdout.customers == sum(1 for c in people if is_held_out(later, c.pk))
    assert months[-2].holdout.customers == sum(1 for c in people if (c.pk * LEGACY_SALT) % 100 < 50)


def test_report_takes_two_queries_whatever_the_size(world):
    _report_world(world)
    with CaptureQueriesContext(connection) as small:
        holdout_report(today=TODAY)
    for _i in range(20):
        c = CustomerFactory()
        HoldingFactory(customer=c, opened_on=dt.date(2026, 11, 5))
    HoldoutDraw.objects.create(percent=5, salt=99_991, modulus=MODULUS, valid_from=dt.date(2026, 12, 1))
    with CaptureQueriesContext(connection) as large:
        holdout_report(today=TODAY)
    assert len(small) == len(large) == 2


# --- the stored report (what the page reads) ---------------------------------------------------


def _figures(months):
    return [
        (m.month, g.customers, g.converted, g.conversions, g.aum.n, g.aum.mean, g.change.n, g.change.mean)
        for m in months
        for g in (m.touched, m.holdout)
    ]


def test_the_stored_report_equals_the_live_one_and_refreshes_the_latest_months(world):
    _draw, touched, _held = _report_world(world)
    at = _local(TODAY, 10)
    assert holdout.holdout_report_stored(today=TODAY) is None  # nothing stored yet
    assert holdout.holdout_report_refresh(now=at) == 12
    assert HoldoutReportMonth.objects.count() == 24
    stored = holdout.holdout_report_stored(today=TODAY)
    assert _figures(stored.months) == _figures(holdout_report(today=TODAY))
    assert stored.recent_as_of == stored.oldest_as_of == at
    assert [m.draw for m in stored.months] == [m.draw for m in holdout_report(today=TODAY)]
    # an hour later only the two latest months are computed again; a late conversion in
    # November shows, the earlier months keep their time
    HoldingFactory(customer=touched[1], opened_on=dt.date(2026, 11, 20))
    later = at + dt.timedelta(hours=1)
    assert holdout.holdout_report_refresh(now=later) == 2
    stored = holdout.holdout_report_stored(today=TODAY)
    assert stored.months[-2].touched.converted == 2
    assert (stored.recent_as_of, stored.oldest_as_of) == (later, at)
    assert _figures(stored.months) == _figures(holdout_report(today=TODAY))
    assert holdout.holdout_report_refresh(now=later) == 2  # run again: the same rows
    assert _figures(holdout.holdout_report_stored(today=TODAY).months) == _figures(stored.months)
    assert HoldoutReportMonth.objects.count() == 24
    # a day on, every month again; in January the oldest month leaves the report
    assert holdout.holdout_report_refresh(now=at + dt.timedelta(days=1, minutes=1)) == 12
    january = _local(dt.date(2027, 1, 5), 10)
    assert holdout.holdout_report_refresh(now=january) == 12
    assert HoldoutReportMonth.objects.count() == 24
    assert not HoldoutReportMonth.objects.filter(month=dt.date(2026, 1, 1)).exists()


def test_the_refresh_task_twice_stores_the_same(world):
    _report_world(world)
    assert tasks.refresh_holdout_report() == 12
    first = list(HoldoutReportMonth.objects.values_list("month", "group", "customers", "converted", "sums"))
    assert tasks.refresh_holdout_report() == 2
    assert list(HoldoutReportMonth.objects.values_list("month", "group", "customers", "converted", "sums")) == first
