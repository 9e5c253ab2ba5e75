"""Event triggers: each kind finds the right customers on a frozen clock (and not others),
the sweep is idempotent, the entry rules, the end date, paused campaigns, the service's
validation and the page's role restriction."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from campaigns import tasks
from campaigns.journeys.enrol import in_global_holdout
from campaigns.models import (
    Campaign,
    CampaignStatus,
    CampaignStep,
    Enrolment,
    EntryRule,
    JourneyEvent,
    StepKind,
    Trigger,
    TriggerKind,
    TriggerMark,
)
from campaigns.triggers.events import birthday_days, trigger_events
from campaigns.triggers.services import trigger_set
from campaigns.triggers.sweep import trigger_sweep, triggers_sweep
from core.models import AuditEvent
from customers.models import Customer, Interaction
from customers.tests.factories import (
    AssetSnapshotFactory,
    CustomerFactory,
    HoldingFactory,
    InteractionFactory,
    ProductFactory,
)
from leads.models import Grade
from scoring.models import CustomerScore

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)  # 10:00 on 3 December in Shanghai
TODAY = dt.date(2026, 12, 3)


def person(**fields):
    """A customer outside the global holdout (so entering is up to the trigger alone). A
    held-out draw is deleted: the events query itself does not skip the holdout (enrolment
    does), so a leftover twin with the same fields would be found too."""
    while True:
        c = CustomerFactory(risk_assessed_at=NOW - dt.timedelta(days=30), **fields)
        if not in_global_holdout(c.pk):
            return c
        c.delete()


def running(world, *, status=CampaignStatus.RUNNING):
    n = Campaign.objects.count() + 1
    campaign = Campaign.objects.create(
        code=f"T{n:04d}", name="事件触发", status=status, created_by=world.campaigner, salt=f"s{n}", control_percent=0
    )
    CampaignStep.objects.create(campaign=campaign, position=1, kind=StepKind.WAIT, wait_hours=24)
    return campaign


def make_trigger(world, kind, *, campaign=None, **fields):
    campaign = campaign or running(world)
    return Trigger.objects.create(campaign=campaign, kind=kind, **fields)


def found(trigger, now=NOW):
    return trigger_events(trigger=trigger, lo=0, hi=10**9, now=now)


def entered(campaign):
    return set(Enrolment.objects.filter(campaign=campaign).values_list("customer_id", "occurrence"))


# --- each kind -----------------------------------------------------------------------------


def test_maturity_finds_holdings_maturing_within_n_days(world):
    trigger = make_trigger(world, TriggerKind.MATURITY, days=7)
    soon, today, later, past = person(), person(), person(), person()
    h1 = HoldingFactory(customer=soon, maturity_date=TODAY + dt.timedelta(days=7))
    h2 = HoldingFactory(customer=today, maturity_date=TODAY)
    HoldingFactory(customer=later, maturity_date=TODAY + dt.timedelta(days=8))
    HoldingFactory(customer=past, maturity_date=TODAY - dt.timedelta(days=1))
    HoldingFactory(customer=past, maturity_date=None)
    assert found(trigger) == sorted(
        [(soon.pk, f"maturity:{h1.pk}:2026-12-10"), (today.pk, f"maturity:{h2.pk}:2026-12-03")]
    )


def test_outflow_by_percent_or_amount_within_the_window(world):
    trigger = make_trigger(world, TriggerKind.OUTFLOW, percent=Decimal("20"), amount=Decimal("50000"), window_days=30)
    by_share, by_amount, small, old_peak, rising, recovered = (person() for _i in range(6))

    def snaps(customer, *points):
        for days_ago, aum in points:
            AssetSnapshotFactory(customer=customer, date=TODAY - dt.timedelta(days=days_ago), aum=Decimal(aum))

    snaps(by_share, (10, "200000"), (1, "150000"))  # -25 %
    snaps(by_amount, (20, "2000000"), (0, "1940000"))  # -3 %, but -60,000
    snaps(small, (10, "200000"), (0, "190000"))  # -5 %, -10,000
    snaps(old_peak, (40, "900000"), (20, "300000"), (0, "290000"))  # the fall began before the window
    snaps(rising, (10, "100000"), (0, "300000"))
    snaps(recovered, (20, "300000"), (10, "100000"), (0, "290000"))  # fell, but is back by now
    assert found(trigger) == sorted([(by_share.pk, "outflow:2026-W49"), (by_amount.pk, "outflow:2026-W49")])
    trigger.amount = None
    assert found(trigger) == [(by_share.pk, "outflow:2026-W49")]


def test_risk_assessment_expired_or_expiring_within_n_days(world, settings):
    settings.WORKBENCH_RISK_ASSESSMENT_VALID_DAYS = 365
    trigger = make_trigger(world, TriggerKind.RISK_EXPIRY, days=30)
    expired, expiring, valid, never = person(), person(), person(), person()
    Customer.objects.filter(pk=expired.pk).update(risk_assessed_at=NOW - dt.timedelta(days=400))
    Customer.objects.filter(pk=expiring.pk).update(risk_assessed_at=NOW - dt.timedelta(days=350))
    Customer.objects.filter(pk=valid.pk).update(risk_assessed_at=NOW - dt.timedelta(days=200))
    Customer.objects.filter(pk=never.pk).update(risk_assessed_at=None)
    assert found(trigger) == sorted(
        [(expired.pk, "risk:2025-10-29"), (expiring.pk, "risk:2025-12-18"), (never.pk, "risk:none")]
    )


def test_birthday_within_n_days_across_the_year_end(world):
    trigger = make_trigger(world, TriggerKind.BIRTHDAY, days=7)
    soon = person(birth_date=dt.date(1980, 12, 5))
    far = person(birth_date=dt.date(1980, 12, 20))
    passed = person(birth_date=dt.date(1980, 12, 2))
    january = person(birth_date=dt.date(1990, 1, 2))
    person(birth_date=None)
    assert found(trigger) == [(soon.pk, "birthday:2026")]
    assert far.pk not in {c for c, _o in found(trigger)} and passed.pk not in {c for c, _o in found(trigger)}
    new_year = dt.datetime(2026, 12, 29, 2, 0, tzinfo=dt.UTC)
    assert found(trigger, new_year) == [(january.pk, "birthday:2027")]


def test_a_leap_day_birthday_falls_on_28_february_in_other_years():
    assert birthday_days(dt.date(2027, 2, 28), 0) == {(2, 28): 2027, (2, 29): 2027}
    assert (2, 29) not in birthday_days(dt.date(2028, 2, 28), 0)


def test_ai_intent_detected_in_the_last_n_days(world):
    trigger = make_trigger(world, TriggerKind.AI_INTENT, days=7, intents=["ask_fund", "ask_human"])
    fund, human, old, other = person(), person(), person(), person()
    InteractionFactory(customer=fund, occurred_at=NOW - dt.timedelta(days=6), intents=["ask_fund"])
    recent = NOW - dt.timedelta(days=1)
    last = InteractionFactory(customer=fund, occurred_at=recent, intents=["ask_pension", "ask_fund"])
    asked = InteractionFactory(customer=human, occurred_at=NOW - dt.timedelta(hours=2), intents=["ask_human"])
    InteractionFactory(customer=old, occurred_at=NOW - dt.timedelta(days=8), intents=["ask_fund"])
    InteractionFactory(customer=other, occurred_at=NOW - dt.timedelta(days=1), intents=["ask_maturity", "complaint"])
    InteractionFactory(customer=other, occurred_at=NOW + dt.timedelta(hours=1), intents=["ask_fund"])  # future
    assert found(trigger) == sorted([(fund.pk, f"intent:{last.pk}"), (human.pk, f"intent:{asked.pk}")])


def _score(customer, grade):
    CustomerScore.objects.update_or_create(
        customer=customer, defaults={"score": 80.0, "grade": grade, "method": "rules", "scored_at": NOW}
    )


def test_grade_crossed_into_high_counts_the_crossing_not_the_state(world):
    campaign = running(world)
    trigger = make_trigger(world, TriggerKind.GRADE_HIGH, campaign=campaign)
    already, rising, falling = person(), person(), person()
    _score(already, Grade.HIGH)
    _score(rising, Grade.MID)
    _score(falling, Grade.HIGH)
    trigger_sweep(trigger_id=trigger.pk, now=NOW)  # the first sweep only takes the marks
    assert entered(campaign) == set()
    assert set(TriggerMark.objects.values_list("customer_id", flat=True)) == {already.pk, falling.pk}
    _score(rising, Grade.HIGH)
    _score(falling, Grade.MID)
    later = NOW + dt.timedelta(minutes=5)
    trigger_sweep(trigger_id=trigger.pk, now=later)
    assert entered(campaign) == {(rising.pk, "grade_high:2026-12-03")}
    assert set(TriggerMark.objects.values_list("customer_id", flat=True)) == {already.pk, rising.pk}
    _score(falling, Grade.HIGH)  # back into high: a new crossing
    next_day = NOW + dt.timedelta(days=1)
    trigger_sweep(trigger_id=trigger.pk, now=next_day)
    assert entered(campaign) == {(rising.pk, "grade_high:2026-12-03"), (falling.pk, "grade_high:2026-12-04")}


def test_cooling_off_ended_in_the_last_n_days(world, settings):
    settings.WORKBENCH_PRIVATE_COOLING_OFF_HOURS = 24
    trigger = make_trigger(world, TriggerKind.COOLING_OFF_ENDED, days=1)
    private = ProductFactory(is_private=True)
    ended, still, long_ago, public = person(), person(), person(), person()
    # Bought on 1 December: the window ends at midnight starting 3 December (10 hours ago).
    h = HoldingFactory(customer=ended, product=private, opened_on=dt.date(2026, 12, 1))
    HoldingFactory(customer=still, product=private, opened_on=dt.date(2026, 12, 2))
    HoldingFactory(customer=long_ago, product=private, opened_on=dt.date(2026, 11, 20))
    HoldingFactory(customer=public, product=ProductFactory(is_private=False), opened_on=dt.date(2026, 12, 1))
    assert found(trigger) == [(ended.pk, f"cooling_off:{h.pk}")]


def test_dormant_for_n_days(world):
    trigger = make_trigger(world, TriggerKind.DORMANT, days=30)
    quiet, recent, never_old, never_new = person(), person(), person(), person()
    Customer.objects.filter(pk=quiet.pk).update(last_contact_at=NOW - dt.timedelta(days=40))
    Customer.objects.filter(pk=recent.pk).update(last_contact_at=NOW - dt.timedelta(days=10))
    Customer.objects.filter(pk=never_old.pk).update(last_contact_at=None, created_at=NOW - dt.timedelta(days=100))
    Customer.objects.filter(pk=never_new.pk).update(last_contact_at=None, created_at=NOW - dt.timedelta(days=2))
    assert found(trigger) == sorted([(quiet.pk, "dormant:2026-10-24"), (never_old.pk, "dormant:never")])


# --- the sweep -----------------------------------------------------------------------------


def test_the_sweep_enters_each_event_once_and_a_second_run_creates_nothing(world):
    campaign = running(world)
    trigger = make_trigger(world, TriggerKind.MATURITY, campaign=campaign, days=7)
    a, b = person(), person()
    ha = HoldingFactory(customer=a, maturity_date=TODAY + dt.timedelta(days=3))
    hb = HoldingFactory(customer=b, maturity_date=TODAY + dt.timedelta(days=5))
    first = trigger_sweep(trigger_id=trigger.pk, now=NOW, chunk=1)  # one customer id a chunk
    assert first.entered == 2
    assert entered(campaign) == {(a.pk, f"maturity:{ha.pk}:2026-12-06"), (b.pk, f"maturity:{hb.pk}:2026-12-08")}
    # The entrants went on to the journey's first step (a wait: asleep until tomorrow).
    assert set(Enrolment.objects.filter(campaign=campaign).values_list("next_at", flat=True)) == {
        NOW + dt.timedelta(hours=24)
    }
    enrolments, events = Enrolment.objects.count(), JourneyEvent.objects.count()
    second = trigger_sweep(trigger_id=trigger.pk, now=NOW + dt.timedelta(minutes=5))
    assert second.entered == 0 and second.found == 2
    assert (Enrolment.objects.count(), JourneyEvent.objects.count()) == (enrolments, events)
    trigger.refresh_from_db()
    assert (trigger.last_found, trigger.last_entered, trigger.last_swept_at) == (
        2,
        0,
        NOW + dt.timedelta(minutes=5),
    )
    # A second holding maturing is a new event for the same customer.
    hc = HoldingFactory(customer=a, maturity_date=TODAY + dt.timedelta(days=6))
    trigger_sweep(trigger_id=trigger.pk, now=NOW + dt.timedelta(minutes=10))
    assert (a.pk, f"maturity:{hc.pk}:2026-12-09") in entered(campaign)


def test_the_beat_task_run_twice_has_one_effect(world):
    campaign = running(world)
    make_trigger(world, TriggerKind.MATURITY, campaign=campaign, days=7)
    customer = person()
    HoldingFactory(customer=customer, maturity_date=timezone.localdate() + dt.timedelta(days=2))
    assert tasks.sweep_triggers()["entered"] == 1
    assert tasks.sweep_triggers()["entered"] == 0
    assert Enrolment.objects.filter(campaign=campaign, customer=customer).count() == 1


def test_once_per_n_days_and_once_ever(world):
    per_week = running(world)
    ever = running(world)
    t_week = make_trigger(
        world,
        TriggerKind.AI_INTENT,
        campaign=per_week,
        days=30,
        intents=["ask_fund"],
        entry_rule=EntryRule.ONCE_PER_DAYS,
        entry_days=7,
    )
    t_ever = make_trigger(
        world, TriggerKind.AI_INTENT, campaign=ever, days=30, intents=["ask_fund"], entry_rule=EntryRule.ONCE_EVER
    )
    customer = person()

    def session(at):
        InteractionFactory(customer=customer, occurred_at=at, intents=["ask_fund"])

    def sweep(now):
        trigger_sweep(trigger_id=t_week.pk, now=now)
        trigger_sweep(trigger_id=t_ever.pk, now=now)

    session(NOW - dt.timedelta(hours=1))
    sweep(NOW)
    day3, day9 = NOW + dt.timedelta(days=3), NOW + dt.timedelta(days=9)
    session(day3 - dt.timedelta(hours=1))
    sweep(day3)  # a new session within the 7 days: not again
    assert Enrolment.objects.filter(campaign=per_week).count() == 1
    session(day9 - dt.timedelta(hours=1))
    sweep(day9)  # 9 days after the first entry: again
    assert Enrolment.objects.filter(campaign=per_week).count() == 2
    assert Enrolment.objects.filter(campaign=ever).count() == 1
    t_week.refresh_from_db()
    assert t_week.last_entered == 1
    last = Interaction.objects.filter(customer=customer).order_by("-pk").first()
    assert entered(per_week) >= {(customer.pk, f"intent:{last.pk}")}


def test_once_per_n_days_takes_one_event_a_customer(world):
    campaign = running(world)
    trigger = make_trigger(
        world, TriggerKind.MATURITY, campaign=campaign, days=30, entry_rule=EntryRule.ONCE_PER_DAYS, entry_days=30
    )
    customer = person()
    HoldingFactory(customer=customer, maturity_date=TODAY + dt.timedelta(days=3))
    HoldingFactory(customer=customer, maturity_date=TODAY + dt.timedelta(days=4))
    counts = trigger_sweep(trigger_id=trigger.pk, now=NOW)
    assert (counts.found, counts.entered, counts.skipped) == (2, 1, 1)


def test_the_end_date_inactive_triggers_and_paused_campaigns_are_not_swept(world):
    ended = make_trigger(world, TriggerKind.DORMANT, days=30, ends_on=TODAY - dt.timedelta(days=1))
    last_day = make_trigger(world, TriggerKind.DORMANT, days=30, ends_on=TODAY)
    off = make_trigger(world, TriggerKind.DORMANT, days=30, active=False)
    paused = make_trigger(world, TriggerKind.DORMANT, days=30, campaign=running(world, status=CampaignStatus.PAUSED))
    customer = person()
    Customer.objects.filter(pk=customer.pk).update(last_contact_at=NOW - dt.timedelta(days=40))
    totals = triggers_sweep(now=NOW)
    assert totals["triggers"] == 1
    assert entered(last_day.campaign) == {(customer.pk, "dormant:2026-10-24")}
    for trigger in (ended, off, paused):
        assert entered(trigger.campaign) == set()
        trigger.refresh_from_db()
        assert trigger.last_swept_at is None
    # A sweep asked for directly stops as well: the campaign no longer runs.
    assert trigger_sweep(trigger_id=paused.pk, now=NOW).entered == 0
    assert entered(paused.campaign) == set()


# --- the service and the page ----------------------------------------------------------------


def test_trigger_set_validates_audits_and_resets_a_new_kind(world):
    campaign = running(world)
    trigger = trigger_set(actor=world.campaigner, campaign=campaign, kind=TriggerKind.GRADE_HIGH, percent=Decimal(5))
    assert trigger.percent is None  # a parameter the kind does not read is not kept
    TriggerMark.objects.create(trigger=trigger, customer=person(), since=NOW)
    Trigger.objects.filter(pk=trigger.pk).update(last_swept_at=NOW)
    trigger = trigger_set(actor=world.campaigner, campaign=campaign, kind=TriggerKind.MATURITY, days=10)
    assert (trigger.kind, trigger.days, trigger.last_swept_at) == (TriggerKind.MATURITY, 10, None)
    assert not TriggerMark.objects.exists()
    audits = AuditEvent.objects.filter(verb="campaign.set_trigger", target_id=str(campaign.pk)).order_by("pk")
    assert [a.details["trigger"] for a in audits] == ["grade_high", "maturity"]
    assert "days" in audits.last().details["fields"]
    trigger_set(actor=world.campaigner, campaign=campaign, kind=TriggerKind.MATURITY, days=10)
    assert audits.count() == 2  # nothing changed, nothing recorded


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "nonsense"}, "kind"),
        ({"kind": TriggerKind.MATURITY}, "days"),
        ({"kind": TriggerKind.BIRTHDAY, "days": 61}, "days"),
        ({"kind": TriggerKind.OUTFLOW, "window_days": 30}, "percent"),
        ({"kind": TriggerKind.OUTFLOW, "percent": Decimal(150), "window_days": 30}, "percent"),
        ({"kind": TriggerKind.OUTFLOW, "amount": Decimal(-1), "window_days": 30}, "amount"),
        ({"kind": TriggerKind.OUTFLOW, "percent": Decimal(20)}, "window_days"),
        ({"kind": TriggerKind.AI_INTENT, "days": 7}, "intents"),
        ({"kind": TriggerKind.AI_INTENT, "days": 7, "intents": ["complaint"]}, "intents"),
        ({"kind": TriggerKind.DORMANT, "days": 30, "entry_rule": EntryRule.ONCE_PER_DAYS}, "entry_days"),
        ({"kind": TriggerKind.DORMANT, "days": 30, "ends_on": dt.date(2000, 1, 1)}, "ends_on"),
    ],
)
def test_trigger_set_refuses_bad_input_and_changes_nothing(world, fields, field):
    campaign = running(world)
    with pytest.raises(ValidationError) as exc:
        trigger_set(actor=world.campaigner, campaign=campaign, **fields)
    assert field in exc.value.message_dict
    assert not Trigger.objects.exists()
    assert not AuditEvent.objects.filter(verb="campaign.set_trigger").exists()


def test_only_who_may_change_the_campaign_sets_its_trigger(world):
    campaign = running(world)
    for user in (world.advisor_a, world.lead_a, world.compliance):
        with pytest.raises(PermissionDenied):
            trigger_set(actor=user, campaign=campaign, kind=TriggerKind.DORMANT, days=30)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ENDED)
    campaign.refresh_from_db()
    with pytest.raises(PermissionDenied):
        trigger_set(actor=world.campaigner, campaign=campaign, kind=TriggerKind.DORMANT, days=30)
    assert not Trigger.objects.exists()


def test_the_trigger_page_is_for_campaign_managers_only(world, client_for):
    campaign = running(world)
    url = reverse("campaigns:trigger", args=[campaign.pk])
    for user in (world.advisor_a, world.lead_a, world.compliance, world.manager_x):
        assert client_for(user).get(url).status_code == 403
        assert client_for(user).post(url, {"kind": "dormant", "days": "30"}).status_code == 403
    assert not Trigger.objects.exists()
    assert client_for(world.campaigner).get(url).status_code == 200
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ENDED)
    assert client_for(world.campaigner).get(url).status_code == 404  # an ended campaign is not changed


def test_the_trigger_page_saves_a_trigger(world, client_for):
    campaign = running(world)
    url = reverse("campaigns:trigger", args=[campaign.pk])
    response = client_for(world.campaigner).post(
        url,
        {
            "kind": "outflow",
            "percent": "20",
            "window_days": "30",
            "entry_rule": "once_per_days",
            "entry_days": "14",
            "active": "on",
        },
    )
    assert response.status_code == 302
    trigger = Trigger.objects.get(campaign=campaign)
    assert (trigger.kind, trigger.percent, trigger.amount, trigger.entry_days, trigger.active) == (
        "outflow",
        Decimal("20.00"),
        None,
        14,
        True,
    )
    page = client_for(world.campaigner).get(url)
    assert page.status_code == 200 and page.context["form"].initial["percent"] == Decimal("20.00")


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "maturity", "entry_rule": "each_event"},  # no N
        {"kind": "outflow", "percent": "abc", "window_days": "30", "entry_rule": "each_event"},
        {"kind": "birthday", "days": "-3", "entry_rule": "each_event"},
        {"kind": "<script>", "days": "3", "entry_rule": "each_event"},
        {"kind": "ai_intent", "days": "7", "intents": ["drop table"], "entry_rule": "each_event"},
    ],
)
def test_the_trigger_page_shows_bad_input_and_changes_nothing(world, client_for, data):
    campaign = running(world)
    trigger_set(actor=world.campaigner, campaign=campaign, kind=TriggerKind.DORMANT, days=30)
    client = client_for(world.campaigner)
    client.cookies["django_language"] = "zh-hans"
    response = client.post(reverse("campaigns:trigger", args=[campaign.pk]), data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert response.context["form"].errors
    trigger = Trigger.objects.get(campaign=campaign)
    assert (trigger.kind, trigger.days) == ("dormant", 30)


def test_a_service_refusal_is_shown_in_the_users_language(world, client_for):
    campaign = running(world)
    client = client_for(world.campaigner)
    response = client.post(
        reverse("campaigns:trigger", args=[campaign.pk]),
        {"kind": "maturity", "entry_rule": "each_event"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert "天数" in response.content.decode()
    assert not Trigger.objects.exists()


def test_a_sweep_costs_the_same_queries_for_few_or_many_events(world):
    def queries_for(n: int) -> int:
        campaign = running(world)
        trigger = make_trigger(world, TriggerKind.MATURITY, campaign=campaign, days=7)
        for _i in range(n):
            HoldingFactory(customer=person(), maturity_date=TODAY + dt.timedelta(days=2), product=product)
        with CaptureQueriesContext(connection) as captured:
            assert trigger_sweep(trigger_id=trigger.pk, now=NOW).entered >= n
        return len(captured)

    product = ProductFactory()
    assert queries_for(1) == queries_for(8)
