"""Every contact-policy rule and the sentence the advisor reads (zh-hans)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from calls.policy import contact_policy_verdict
from calls.tests.factories import CallLogFactory
from customers.services.ledger import ledger_record_manual_call
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory, HoldingFactory, ProductFactory
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0, days_ago: int = 1) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SH)


@pytest.fixture
def customer(world):
    c = CustomerFactory()
    ContactPreferenceFactory(customer=c, consent=True)
    return c


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def test_all_clear(customer):
    verdict = contact_policy_verdict(customer=customer, now=at(10))
    assert verdict.allowed and verdict.blocks == []


def test_no_consent(world):
    customer = CustomerFactory()
    verdict = contact_policy_verdict(customer=customer, now=at(10))
    assert verdict.codes == ["no_consent"]
    assert verdict.messages == ["客户未同意接收电话营销，不能拨打营销电话。"]
    ContactPreferenceFactory(customer=customer, consent=False)
    assert contact_policy_verdict(customer=customer, now=at(10)).codes == ["no_consent"]


def test_do_not_disturb(customer):
    pref = customer.contact_preferences.get()
    pref.dnd_until = at(10) + dt.timedelta(days=30)
    pref.save()
    verdict = contact_policy_verdict(customer=customer, now=at(10))
    assert verdict.codes == ["do_not_disturb"]
    until = timezone.localtime(pref.dnd_until).date().isoformat()
    assert verdict.messages == [f"客户处于电话免打扰期（至 {until}），不能拨打营销电话。"]
    assert contact_policy_verdict(customer=customer, now=at(10) + dt.timedelta(days=31)).allowed


@pytest.mark.parametrize(
    ("hour", "minute", "allowed"), [(8, 59, False), (9, 0, True), (20, 59, True), (21, 0, False), (23, 30, False)]
)
def test_quiet_hours(customer, hour, minute, allowed):
    verdict = contact_policy_verdict(customer=customer, now=at(hour, minute))
    assert verdict.allowed is allowed
    if not allowed:
        assert verdict.codes == ["quiet_hours"]
        assert verdict.messages == [f"现在是 {hour:02d}:{minute:02d}，营销电话只能在 09:00–21:00（北京时间）之间拨打。"]


def test_quiet_hours_are_configurable(customer, settings):
    settings.WORKBENCH_CALL_HOURS_START = "10:00"
    settings.WORKBENCH_CALL_HOURS_END = "20:00"
    assert contact_policy_verdict(customer=customer, now=at(9, 30)).codes == ["quiet_hours"]
    assert contact_policy_verdict(customer=customer, now=at(20, 0)).codes == ["quiet_hours"]
    assert contact_policy_verdict(customer=customer, now=at(19, 59)).allowed


def test_weekly_cap(world, customer, settings):
    settings.WORKBENCH_CALL_WEEKLY_CAP = 3
    lead = LeadFactory(customer=customer)
    now = at(15)

    # manual marketing calls are counted through the one contact ledger (as call_log records them)
    def marketing_call(advisor, started_at):
        call = CallLogFactory(lead=lead, advisor=advisor, started_at=started_at)
        ledger_record_manual_call(customer_id=customer.pk, call_log_id=call.pk, at=started_at)

    marketing_call(world.advisor_a, now - dt.timedelta(days=8))  # outside the window
    CallLogFactory(lead=lead, advisor=world.advisor_a, started_at=now - dt.timedelta(days=1), purpose="service")
    for d in (1, 3):
        marketing_call(world.advisor_a, now - dt.timedelta(days=d))
    assert contact_policy_verdict(customer=customer, now=now).allowed  # 2 marketing calls in 7 days
    marketing_call(world.advisor_b, now - dt.timedelta(hours=2))
    verdict = contact_policy_verdict(customer=customer, now=now)
    assert verdict.codes == ["weekly_cap"]
    assert verdict.messages == ["该客户近 7 天已接到 3 次营销电话，已达上限 3 次，暂时不能再拨打营销电话。"]
    settings.WORKBENCH_CALL_WEEKLY_CAP = 4
    assert contact_policy_verdict(customer=customer, now=now).allowed


def test_cooling_off_after_private_purchase(customer, settings):
    settings.WORKBENCH_PRIVATE_COOLING_OFF_HOURS = 24
    bought = timezone.localdate() - dt.timedelta(days=1)
    product = ProductFactory(is_private=True, name="私募精选一号")
    HoldingFactory(customer=customer, product=product, opened_on=bought)
    now = dt.datetime.combine(bought, dt.time(15), tzinfo=SH)
    verdict = contact_policy_verdict(customer=customer, now=now)
    assert verdict.codes == ["cooling_off"]
    until = (bought + dt.timedelta(days=2)).isoformat()
    assert verdict.messages == [
        f"客户于 {bought.isoformat()} 购买了私募产品“私募精选一号”，冷静期至 {until} 00:00，冷静期内不能营销。"
    ]
    # The window counts from the end of the purchase day: 24 h later it is over.
    assert contact_policy_verdict(customer=customer, now=now + dt.timedelta(days=1, hours=8, minutes=59)).codes == [
        "quiet_hours",
        "cooling_off",
    ]
    assert contact_policy_verdict(customer=customer, now=now + dt.timedelta(days=1, hours=18)).allowed


def test_non_private_purchase_has_no_cooling_off(customer):
    HoldingFactory(customer=customer, product=ProductFactory(is_private=False), opened_on=timezone.localdate())
    assert contact_policy_verdict(customer=customer, now=at(10, days_ago=0)).codes in ([], ["quiet_hours"])


def test_several_blocks_are_all_listed(world):
    customer = CustomerFactory()
    verdict = contact_policy_verdict(customer=customer, now=at(22))
    assert verdict.codes == ["no_consent", "quiet_hours"]


def test_english_messages(customer):
    with translation.override("en"):
        verdict = contact_policy_verdict(customer=customer, now=at(7))
    assert verdict.messages[0].startswith("It is 07:00 now")
