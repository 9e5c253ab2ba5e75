"""The one contact ledger: consent, do-not-disturb, PIPL opt-out, cooling-off, caps across
campaigns, channels and manual calls, quiet hours held (not dropped), priority, idempotency."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from customers.models import AutomatedMarketingOptOut, Channel, ContactLedgerEntry, LedgerStatus
from customers.services import ledger
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory, HoldingFactory, ProductFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(hour: int, day: int = 2) -> dt.datetime:
    return dt.datetime(2026, 6, day, hour, 0, tzinfo=SH)


def reachable(*channels):
    c = CustomerFactory()
    for channel in channels:
        ContactPreferenceFactory(customer=c, channel=channel, consent=True)
    return c


def test_rules_block_in_order(world):
    ok = reachable(Channel.SMS)
    no_consent = CustomerFactory()
    ContactPreferenceFactory(customer=CustomerFactory(), channel=Channel.SMS, consent=False)
    dnd = reachable(Channel.SMS)
    dnd.contact_preferences.update(dnd_until=at(10) + dt.timedelta(days=10))
    opted = reachable(Channel.SMS)
    AutomatedMarketingOptOut.objects.create(customer=opted, opted_out_at=at(9))
    cooling = reachable(Channel.SMS)
    HoldingFactory(customer=cooling, product=ProductFactory(is_private=True), opened_on=at(10).date())
    check = ledger.ledger_check(
        customer_ids=[ok.pk, no_consent.pk, dnd.pk, opted.pk, cooling.pk], channel=Channel.SMS, now=at(10)
    )
    assert check.allowed == [ok.pk]
    assert check.blocked == {
        no_consent.pk: "no_consent",
        dnd.pk: "do_not_disturb",
        opted.pk: "automated_opt_out",
        cooling.pk: "cooling_off",
    }
    assert check.hold_until is None
    # an advisor's own (not automated) contact is not bound by the PIPL opt-out
    assert ledger.ledger_check(customer_ids=[opted.pk], channel=Channel.SMS, now=at(10), automated=False).allowed


def test_caps_count_two_campaigns_and_a_manual_call(world, settings):
    settings.WORKBENCH_CALL_WEEKLY_CAP = 2
    settings.WORKBENCH_CONTACT_CHANNEL_CAP = 2
    settings.WORKBENCH_CONTACT_TOTAL_CAP = 3
    c = reachable(Channel.PHONE, Channel.SMS, Channel.WECHAT)
    ledger.ledger_record_manual_call(customer_id=c.pk, call_log_id=901, at=at(9, day=1))
    first = ledger.ledger_reserve(
        customer_ids=[c.pk], channel=Channel.PHONE, key_prefix="c1:s1", source_id=1, now=at(10)
    )
    assert c.pk in first.reserved
    # the phone cap (2: a manual call and campaign 1's call task) stops campaign 2's call
    second = ledger.ledger_reserve(
        customer_ids=[c.pk], channel=Channel.PHONE, key_prefix="c2:s1", source_id=2, now=at(11)
    )
    assert second.refused == {c.pk: "channel_cap"}
    # SMS has its own cap, but the total (3) is reached after one SMS
    sms = ledger.ledger_reserve(customer_ids=[c.pk], channel=Channel.SMS, key_prefix="c2:s2", source_id=2, now=at(11))
    assert c.pk in sms.reserved
    wechat = ledger.ledger_reserve(
        customer_ids=[c.pk], channel=Channel.WECHAT, key_prefix="c2:s3", source_id=2, now=at(11)
    )
    assert wechat.refused == {c.pk: "total_cap"}
    # outside the window (7 days) the slots are free again
    later = ledger.ledger_reserve(
        customer_ids=[c.pk], channel=Channel.WECHAT, key_prefix="c2:s4", source_id=2, now=at(11) + dt.timedelta(days=9)
    )
    assert c.pk in later.reserved


def test_reserving_twice_reserves_once(world):
    c = reachable(Channel.SMS)
    one = ledger.ledger_reserve(
        customer_ids=[c.pk, c.pk], channel=Channel.SMS, key_prefix="c1:s1:o1", source_id=1, now=at(10)
    )
    two = ledger.ledger_reserve(
        customer_ids=[c.pk], channel=Channel.SMS, key_prefix="c1:s1:o1", source_id=1, now=at(10)
    )
    assert one.reserved == two.reserved and ContactLedgerEntry.objects.count() == 1


def test_quiet_hours_hold_until_the_window_opens(world):
    c = reachable(Channel.SMS)
    night = at(22)
    result = ledger.ledger_reserve(customer_ids=[c.pk], channel=Channel.SMS, key_prefix="c1", source_id=1, now=night)
    entry = ContactLedgerEntry.objects.get(pk=result.reserved[c.pk])
    assert entry.status == LedgerStatus.HELD
    assert entry.slot_at == dt.datetime(2026, 6, 3, 9, 0, tzinfo=SH) == result.held_until
    early = ledger.next_window_opening(at(7))
    assert early == dt.datetime(2026, 6, 2, 9, 0, tzinfo=SH)
    assert ledger.next_window_opening(at(12)) is None
    # a held contact takes its slot: it counts for the cap like any other
    per_channel, _total = ledger.ledger_usage(customer_ids=[c.pk], now=night)
    assert per_channel[(c.pk, Channel.SMS)] == 1


def test_priority_takes_the_last_slot(world, settings):
    settings.WORKBENCH_CONTACT_CHANNEL_CAP = 1
    c = reachable(Channel.SMS)
    tomorrow = at(10) + dt.timedelta(days=1)
    low = ledger.ledger_reserve(
        customer_ids=[c.pk],
        channel=Channel.SMS,
        key_prefix="low",
        source_id=1,
        priority=3,
        now=at(10),
        slot_at=tomorrow,
    )
    same = ledger.ledger_reserve(
        customer_ids=[c.pk], channel=Channel.SMS, key_prefix="same", source_id=2, priority=3, now=at(10)
    )
    assert same.refused == {c.pk: "channel_cap"}
    high = ledger.ledger_reserve(
        customer_ids=[c.pk], channel=Channel.SMS, key_prefix="high", source_id=3, priority=8, now=at(10)
    )
    assert c.pk in high.reserved and high.bumped == 1
    bumped = ContactLedgerEntry.objects.get(pk=low.reserved[c.pk])
    assert bumped.status == LedgerStatus.RELEASED and bumped.released_reason == "outranked"
    # a contact already made is never taken back
    ledger.ledger_mark_used(entry_ids=[high.reserved[c.pk]], at=at(10))
    higher = ledger.ledger_reserve(
        customer_ids=[c.pk], channel=Channel.SMS, key_prefix="higher", source_id=4, priority=9, now=at(11)
    )
    assert higher.refused == {c.pk: "channel_cap"}


def test_release_gives_the_slot_back(world, settings):
    settings.WORKBENCH_CONTACT_CHANNEL_CAP = 1
    c = reachable(Channel.SMS)
    first = ledger.ledger_reserve(
        customer_ids=[c.pk], channel=Channel.SMS, key_prefix="a", source_id=1, now=timezone.now()
    )
    assert ledger.ledger_release(entry_ids=first.reserved.values(), reason="campaign_ended") == 1
    again = ledger.ledger_reserve(
        customer_ids=[c.pk], channel=Channel.SMS, key_prefix="b", source_id=2, now=timezone.now()
    )
    assert c.pk in again.reserved
