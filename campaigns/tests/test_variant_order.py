"""An A/B variant's own order of the steps: its entrants walk the steps in that order on a
real run (asserted on the outbox, the ledger and the planned calls), the control group is
still never contacted, the order is recorded at entry and never changes after the fact,
bad orders are refused in words and change nothing, every change is audited, only those
who may edit the journey may change it, and the editor's queries stay constant."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from campaigns.journeys.enrol import enrol_customers
from campaigns.journeys.runner import journey_advance
from campaigns.models import (
    Arm,
    BranchCondition,
    CampaignStep,
    Enrolment,
    EnrolmentState,
    JourneyEvent,
    JourneyEventKind,
    Message,
    StepKind,
    Variant,
    VariantOrder,
)
from campaigns.results import arm_key, results_refresh, step_funnel
from campaigns.tests.factories import approved_script
from campaigns.tests.test_journeys import NOW, customers, running
from campaigns.variants import variant_add, variant_order_set
from core.models import AuditEvent
from customers.models import Channel, ContactLedgerEntry
from leads.models import PlannedCall

pytestmark = pytest.mark.django_db

LATER = NOW + dt.timedelta(hours=73)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def scripts(world):
    return approved_script(world, title="到期提醒短信"), approved_script(world, title="到期续投外呼话术")


def sms_wait_call(world, scripts, *, control_percent=20):
    """1 SMS, 2 wait three days, 3 an advisor call task; variants A (as designed) and B."""
    sms, call = scripts
    campaign = running(
        world,
        steps=[
            {"kind": StepKind.SEND, "channel": Channel.SMS, "script": sms},
            {"kind": StepKind.WAIT, "wait_hours": 72},
            {"kind": StepKind.CALL_TASK, "channel": Channel.PHONE, "script": call, "due_hours": 24},
        ],
        control_percent=control_percent,
    )
    a = variant_add(actor=world.campaigner, campaign=campaign, label="A", weight=1)
    b = variant_add(actor=world.campaigner, campaign=campaign, label="B", weight=1)
    return campaign, a, b


def places(*order):
    """``order`` (positions in walking order) as the service's places: {position: place}."""
    return {position: place for place, position in enumerate(order, start=1)}


def test_a_variant_walks_the_steps_in_its_order_and_control_is_never_contacted(world, scripts):
    campaign, a, b = sms_wait_call(world, scripts)
    variant_order_set(actor=world.campaigner, variant=b, places=places(3, 2, 1))  # call first, SMS last
    people = customers(world, 40)
    entry = enrol_customers(campaign=campaign, entrants=[c.pk for c in people], now=NOW)
    journey_advance(enrolment_ids=entry.entered, now=NOW)
    journey_advance(now=LATER)
    enrolments = list(Enrolment.objects.filter(campaign=campaign))
    arms = {(e.arm, e.variant_id) for e in enrolments}
    assert {(Arm.CONTROL, None), (Arm.TREATMENT, a.pk), (Arm.TREATMENT, b.pk)} <= arms
    sms_step, _wait, call_step = CampaignStep.objects.filter(campaign=campaign).order_by("position")
    order_b = VariantOrder.objects.get(variant=b)
    for e in enrolments:
        assert e.state == EnrolmentState.COMPLETED
        sent = list(Message.objects.filter(enrolment=e))
        calls = list(PlannedCall.objects.filter(enrolment_id=e.pk))
        ledger = dict(
            ContactLedgerEntry.objects.filter(customer_id=e.customer_id, source_id=campaign.pk).values_list(
                "channel", "slot_at"
            )
        )
        if e.arm == Arm.CONTROL:
            assert e.step_order_id is None and sent == [] and calls == [] and ledger == {}
            continue
        assert len(sent) == 1 and len(calls) == 1
        at = dict(
            JourneyEvent.objects.filter(
                enrolment_id=e.pk, kind__in=(JourneyEventKind.SENT, JourneyEventKind.TASK)
            ).values_list("kind", "at")
        )
        if e.variant_id == b.pk:  # the call at entry, the SMS three days later
            assert e.step_order_id == order_b.pk
            assert (at[JourneyEventKind.TASK], at[JourneyEventKind.SENT], sent[0].send_after) == (NOW, LATER, LATER)
            assert ledger[Channel.PHONE] < ledger[Channel.SMS]
        else:  # the journey as designed: the SMS at entry, the call three days later
            assert e.step_order_id is None
            assert (at[JourneyEventKind.SENT], at[JourneyEventKind.TASK], sent[0].send_after) == (NOW, LATER, NOW)
            assert ledger[Channel.SMS] < ledger[Channel.PHONE]
    # The journey's events say the same, step by step (the entry on B's first step).
    b_one = next(e for e in enrolments if e.variant_id == b.pk)
    walked = list(
        JourneyEvent.objects.filter(enrolment_id=b_one.pk)
        .exclude(kind=JourneyEventKind.COMPLETED)
        .order_by("at", "pk")
        .values_list("step_id", "kind")
    )
    assert walked[0] == (call_step.pk, JourneyEventKind.ENTERED)
    assert [kind for step, kind in walked if step == sms_step.pk] == [JourneyEventKind.SENT]
    # The control group walked the steps (a control event where it would be contacted).
    control = [e for e in enrolments if e.arm == Arm.CONTROL]
    assert JourneyEvent.objects.filter(enrolment__in=control, kind=JourneyEventKind.CONTROL).count() == 2 * len(control)
    # The funnel counts the customers of each arm on each step, whatever their order.
    funnel = step_funnel(campaign=campaign)
    entered = Counter(arm_key(e.arm, e.variant_id) for e in enrolments)
    for row in funnel:  # every contact step (a wait writes no event)
        assert row["kind"] == StepKind.WAIT or row["arms"] == entered, row


def test_the_order_is_recorded_at_entry_and_never_changes_after(world, scripts):
    campaign, _a, b = sms_wait_call(world, scripts, control_percent=0)
    first = variant_order_set(actor=world.campaigner, variant=b, places=places(3, 2, 1))
    people = customers(world, 20)
    enrol_customers(campaign=campaign, entrants=[c.pk for c in people], now=NOW)
    entered_b = set(Enrolment.objects.filter(variant=b).values_list("pk", flat=True))
    assert entered_b and set(Enrolment.objects.filter(variant=b).values_list("step_order", flat=True)) == {first.pk}
    # A new order (and then the journey's own) applies to new entrants only.
    second = variant_order_set(actor=world.campaigner, variant=b, places=places(1, 2, 3))
    assert second is None and Variant.objects.get(pk=b.pk).step_order_id is None
    assert VariantOrder.objects.get(pk=first.pk).steps == first.steps  # the row stays as written
    enrol_customers(campaign=campaign, entrants=[(c.pk, "again") for c in people], now=NOW)
    assert set(Enrolment.objects.filter(pk__in=entered_b).values_list("step_order", flat=True)) == {first.pk}
    assert set(Enrolment.objects.filter(variant=b, occurrence="again").values_list("step_order", flat=True)) == {None}


def branch_journey(world, scripts):
    """1 SMS, 2 branch replied within 3 days? yes → end, no → 3; 3 call task, 4 SMS."""
    sms, call = scripts
    campaign = running(
        world,
        steps=[
            {"kind": StepKind.SEND, "channel": Channel.SMS, "script": sms},
            {
                "kind": StepKind.BRANCH,
                "condition": BranchCondition.REPLIED,
                "wait_hours": 72,
                "yes_position": None,
                "no_position": 3,
            },
            {"kind": StepKind.CALL_TASK, "channel": Channel.PHONE, "script": call, "due_hours": 24},
            {"kind": StepKind.SEND, "channel": Channel.SMS, "script": sms},
        ],
    )
    return campaign, variant_add(actor=world.campaigner, campaign=campaign, label="B", weight=1)


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({1: 1, 2: 1, 3: 3, 4: 4}, "Give each of the 4 steps its own place, from 1 to 4."),
        ({1: 1, 2: 2, 3: 3}, "Give each of the 4 steps its own place, from 1 to 4."),
        ({1: 1, 2: 2, 3: 3, 4: 9}, "Give each of the 4 steps its own place, from 1 to 4."),
        ({1: 1, 2: 2, 3: 3, 4: None}, "Give each of the 4 steps its own place, from 1 to 4."),
        (places(2, 1, 3, 4), "the journey cannot start with one"),
        (places(1, 2, 4, 3), "In this order no customer would reach step 4"),
        (places(3, 1, 2, 4), "In this order no customer would reach step 4"),
    ],
)
def test_a_bad_order_is_refused_in_words_and_changes_nothing(world, scripts, given, words):
    campaign, b = branch_journey(world, scripts)
    with pytest.raises(ValidationError) as refused:
        variant_order_set(actor=world.campaigner, variant=b, places=given)
    assert any(words in m for m in refused.value.messages), refused.value.messages
    assert not VariantOrder.objects.exists() and Variant.objects.get(pk=b.pk).step_order_id is None
    assert not AuditEvent.objects.filter(verb="campaign.variant_order").exists()


def test_a_loop_without_a_wait_and_a_call_branch_asking_at_once_are_refused(world, scripts):
    sms, call = scripts
    looping = running(
        world,
        steps=[
            {"kind": StepKind.SEND, "channel": Channel.SMS, "script": sms},
            {"kind": StepKind.WAIT, "wait_hours": 24},
            {"kind": StepKind.BRANCH, "condition": BranchCondition.DELIVERED, "yes_position": None, "no_position": 1},
            {"kind": StepKind.CALL_TASK, "channel": Channel.PHONE, "script": call},
        ],
    )
    b = variant_add(actor=world.campaigner, campaign=looping, label="B", weight=1)
    with pytest.raises(ValidationError) as refused:  # 2 → 1 → 3 → (no) 1 → 3 …: the wait is left out
        variant_order_set(actor=world.campaigner, variant=b, places=places(2, 1, 3, 4))
    assert any("form a loop without a wait" in m for m in refused.value.messages)
    asking = running(
        world,
        steps=[
            {"kind": StepKind.CALL_TASK, "channel": Channel.PHONE, "script": call},
            {"kind": StepKind.SEND, "channel": Channel.SMS, "script": sms},
            {"kind": StepKind.BRANCH, "condition": BranchCondition.REACHED, "yes_position": None, "no_position": None},
        ],
    )
    c = variant_add(actor=world.campaigner, campaign=asking, label="C", weight=1)
    with pytest.raises(ValidationError) as refused:  # the call just before the branch, asked at once
        variant_order_set(actor=world.campaigner, variant=c, places=places(2, 1, 3))
    assert any("asks about the call of step 1 at once" in m for m in refused.value.messages)
    with translation.override("zh-hans"), pytest.raises(ValidationError) as in_chinese:
        variant_order_set(actor=world.campaigner, variant=c, places={1: 1, 2: 1, 3: 3})
    assert "每个步骤" in in_chinese.value.messages[0]
    assert not VariantOrder.objects.exists()


def test_setting_an_order_is_audited_with_the_order_before(world, scripts):
    _campaign, b = branch_journey(world, scripts)
    variant_order_set(actor=world.campaigner, variant=b, places=places(1, 4, 2, 3))
    variant_order_set(actor=world.campaigner, variant=b, places=None)
    rows = list(AuditEvent.objects.filter(verb="campaign.variant_order").order_by("pk"))
    assert [(r.details["order"], r.details["before"]) for r in rows] == [("1 → 4 → 2 → 3", ""), ("", "1 → 4 → 2 → 3")]
    assert rows[0].actor == world.campaigner and rows[0].details["variant"] == "B"
    # Putting back the journey's own order when it already follows it writes nothing.
    variant_order_set(actor=world.campaigner, variant=b, places=None)
    assert AuditEvent.objects.filter(verb="campaign.variant_order").count() == 2


def test_only_those_who_may_edit_the_journey_set_an_order(world, scripts, client):
    _campaign, b = branch_journey(world, scripts)
    for who in (world.lead_a, world.compliance, world.advisor_a, world.manager_x):
        with pytest.raises(PermissionDenied):
            variant_order_set(actor=who, variant=b, places=places(1, 4, 2, 3))
        client.force_login(who)
        response = client.post(reverse("campaigns:variant_order", args=[b.pk]), {f"o{b.pk}-place_1": "1"})
        assert response.status_code == 404
    assert not VariantOrder.objects.exists()
    variant_order_set(actor=world.admin, variant=b, places=places(1, 4, 2, 3))
    assert Variant.objects.get(pk=b.pk).step_order is not None


def test_the_htmx_editor_sets_an_order_and_answers_bad_input_in_words(world, scripts, client):
    campaign, b = branch_journey(world, scripts)
    client.force_login(world.campaigner)
    url = reverse("campaigns:variant_order", args=[b.pk])
    bad = {f"o{b.pk}-place_{p}": v for p, v in {1: "1", 2: "1", 3: "3", 4: "4"}.items()}
    response = client.post(url, bad, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'id="variants"' in html and "<html" not in html
    assert 'data-testid="form-errors"' in html and "每个步骤须有各自不同的位次" in html  # the user's language
    assert not VariantOrder.objects.exists()
    garbage = {**bad, f"o{b.pk}-place_2": "二"}
    assert 'data-testid="form-errors"' in client.post(url, garbage, HTTP_HX_REQUEST="true").content.decode()
    good = {f"o{b.pk}-place_{p}": str(v) for p, v in places(1, 4, 2, 3).items()}
    html = client.post(url, good, HTTP_HX_REQUEST="true").content.decode()
    assert "步骤顺序：1 → 4 → 2 → 3" in html
    assert Variant.objects.get(pk=b.pk).step_order.steps == list(
        CampaignStep.objects.filter(campaign=campaign).order_by("position").values_list("pk", flat=True)
    )[:1] + [CampaignStep.objects.get(campaign=campaign, position=p).pk for p in (4, 2, 3)]
    html = client.post(url, {"reset": "yes"}, HTTP_HX_REQUEST="true").content.decode()
    assert "步骤顺序：1" not in html and Variant.objects.get(pk=b.pk).step_order_id is None


def test_the_variants_page_with_orders_takes_the_same_queries_for_few_or_many(world, scripts, client):
    campaign, b = branch_journey(world, scripts)
    variant_order_set(actor=world.campaigner, variant=b, places=places(1, 4, 2, 3))
    client.force_login(world.campaigner)
    url = reverse("campaigns:variants", args=[campaign.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    enrol_customers(campaign=campaign, entrants=[c.pk for c in customers(world, 20)], now=NOW)
    c = variant_add(actor=world.campaigner, campaign=campaign, label="C", weight=1)
    variant_order_set(actor=world.campaigner, variant=c, places=places(1, 4, 2, 3))
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(few) == len(many)


def test_the_results_page_names_each_variant_order_beside_the_funnel(world, scripts, client):
    campaign, _a, b = sms_wait_call(world, scripts)
    variant_order_set(actor=world.campaigner, variant=b, places=places(3, 2, 1))
    entry = enrol_customers(campaign=campaign, entrants=[c.pk for c in customers(world, 20)], now=NOW)
    journey_advance(enrolment_ids=entry.entered, now=NOW)
    results_refresh(campaign_id=campaign.pk, now=NOW)
    client.force_login(world.lead_a)  # whoever may view the campaign
    html = client.get(reverse("campaigns:results", args=[campaign.pk])).content.decode()
    assert 'data-testid="arm-orders"' in html and "B 按 3 → 2 → 1 的顺序执行各步骤" in html
    # An order nobody entered with is not named.
    variant_order_set(actor=world.campaigner, variant=b, places=places(1, 3, 2))
    html = client.get(reverse("campaigns:results", args=[campaign.pk])).content.decode()
    assert html.count("的顺序执行各步骤") == 1 and "1 → 3 → 2" not in html
