"""The journey runner: entry, hashed arms, sends through the ledger, call tasks within
capacity, waits and branches on a frozen clock, exits, conversions, and the chunked
enrolment job run twice."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calls.models import NextAction
from calls.tests.factories import CallLogFactory, disposition
from campaigns.journeys.assignment import BUCKETS, arm_of, bucket_of
from campaigns.journeys.enrol import (
    enrol_customers,
    enrolment_chunk_run,
    enrolment_dispatch,
    enrolment_start,
    in_global_holdout,
)
from campaigns.journeys.render import render_message
from campaigns.journeys.runner import journey_advance, journeys_collect_conversions
from campaigns.models import (
    Arm,
    BranchCondition,
    Campaign,
    CampaignStatus,
    CampaignStep,
    Enrolment,
    EnrolmentState,
    JourneyEvent,
    JourneyEventKind,
    Message,
    Segment,
    StepKind,
)
from campaigns.tests.factories import approved_script
from core import services as core_services
from core.models import Job
from customers.models import AutomatedMarketingOptOut, Channel, ContactLedgerEntry
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory
from leads.models import Lead, LeadSource, PlannedCall, PlannedCallStatus
from org.models import Holiday, HolidayKind, StaffProfile

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai: inside the window
NIGHT = dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC)  # 23:00 in Shanghai


def customers(world, n, *, channels=(Channel.SMS, Channel.PHONE)):
    """Customers of advisor_a (team A) with consent on ``channels``, none in the holdout."""
    made = []
    while len(made) < n:
        c = CustomerFactory(owner=world.advisor_a)
        if in_global_holdout(c.pk):
            continue
        for channel in channels:
            ContactPreferenceFactory(customer=c, channel=channel, consent=True)
        made.append(c)
    return made


def running(world, *, steps, control_percent=0, **fields):
    n = Campaign.objects.count() + 1
    campaign = Campaign.objects.create(
        code=f"J{n:04d}",
        name="到期续投提醒",
        status=CampaignStatus.RUNNING,
        created_by=world.campaigner,
        salt=f"salt{n}",
        control_percent=control_percent,
        **fields,
    )
    for position, step in enumerate(steps, start=1):
        CampaignStep.objects.create(campaign=campaign, position=position, **step)
    return campaign


@pytest.fixture
def sms_script(world):
    return approved_script(world, title="到期提醒短信")


@pytest.fixture
def call_script(world):
    return approved_script(world, title="到期续投外呼话术")


def maturity_journey(world, sms_script, call_script, **fields):
    """SMS, wait three days, replied? → end; else an advisor call task."""
    return running(
        world,
        steps=[
            {"kind": StepKind.SEND, "channel": Channel.SMS, "script": sms_script},
            {"kind": StepKind.WAIT, "wait_hours": 72},
            {"kind": StepKind.BRANCH, "condition": BranchCondition.REPLIED, "yes_position": None, "no_position": 4},
            {"kind": StepKind.CALL_TASK, "channel": Channel.PHONE, "script": call_script, "due_hours": 24},
        ],
        **fields,
    )


def events(campaign, kind):
    return JourneyEvent.objects.filter(campaign=campaign, kind=kind).count()


def test_sms_then_wait_then_a_call_task_for_those_who_did_not_reply(world, sms_script, call_script):
    campaign = maturity_journey(world, sms_script, call_script)
    people = customers(world, 3)
    entry = enrol_customers(campaign=campaign, entrants=[c.pk for c in people], now=NOW)
    assert len(entry.entered) == 3
    counts = journey_advance(enrolment_ids=entry.entered, now=NOW)
    assert counts["sleeping"] == 3
    messages = Message.objects.filter(campaign=campaign)
    assert messages.count() == 3 and {m.send_after for m in messages} == {NOW}
    assert ContactLedgerEntry.objects.filter(source_id=campaign.pk, channel=Channel.SMS).count() == 3
    wait = CampaignStep.objects.get(campaign=campaign, position=2)
    assert set(Enrolment.objects.values_list("step", "next_at")) == {(wait.pk, NOW + dt.timedelta(hours=72))}
    # Nothing is due before the wait ends.
    assert journey_advance(now=NOW + dt.timedelta(hours=71))["moved"] == 0
    replied = messages.get(customer=people[0])
    Message.objects.filter(pk=replied.pk).update(replied_at=NOW + dt.timedelta(hours=5))
    later = NOW + dt.timedelta(hours=73)
    counts = journey_advance(now=later)
    assert counts["moved"] == 3 and counts["completed"] == 3
    assert events(campaign, JourneyEventKind.YES) == 1 and events(campaign, JourneyEventKind.NO) == 2
    tasks = PlannedCall.objects.filter(campaign_id=campaign.pk)
    assert sorted(tasks.values_list("customer_id", flat=True)) == sorted(c.pk for c in people[1:])
    task = tasks.first()
    step4 = CampaignStep.objects.get(campaign=campaign, position=4)
    assert task.campaign_step_id == step4.pk and task.script_version.script == call_script
    # ``later`` is a Sunday: the task is due from Monday's first call slot for one working day.
    monday = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    assert (task.due_at, task.due_until) == (monday, monday + dt.timedelta(days=1))
    assert task.advisor == world.advisor_a
    assert Lead.objects.get(customer=people[1]).source == LeadSource.CAMPAIGN
    # A second run does nothing: every enrolment has completed.
    assert journey_advance(now=later + dt.timedelta(hours=1))["moved"] == 0
    assert tasks.count() == 2 and messages.count() == 3


def test_entering_twice_enters_nobody_new_and_a_new_occurrence_enters_again(world, sms_script, call_script):
    campaign = maturity_journey(world, sms_script, call_script)
    people = [c.pk for c in customers(world, 2)]
    assert len(enrol_customers(campaign=campaign, entrants=people, now=NOW).entered) == 2
    again = enrol_customers(campaign=campaign, entrants=people, now=NOW + dt.timedelta(minutes=5))
    assert again.entered == [] and again.already == 2
    event = enrol_customers(campaign=campaign, entrants=[(people[0], "maturity:2026-12-20")], now=NOW)
    assert len(event.entered) == 1
    assert Enrolment.objects.filter(campaign=campaign).count() == 3


def test_a_paused_campaign_enters_nobody_and_its_enrolments_wait(world, sms_script, call_script):
    campaign = maturity_journey(world, sms_script, call_script)
    entry = enrol_customers(campaign=campaign, entrants=[c.pk for c in customers(world, 1)], now=NOW)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.PAUSED)
    campaign.refresh_from_db()
    assert enrol_customers(campaign=campaign, entrants=[c.pk for c in customers(world, 1)], now=NOW).entered == []
    assert journey_advance(now=NOW)["moved"] == 0
    assert Enrolment.objects.get(pk=entry.entered[0]).next_at == NOW


def test_the_control_group_is_tracked_and_never_contacted(world, sms_script, call_script):
    campaign = maturity_journey(world, sms_script, call_script, control_percent=100)
    entry = enrol_customers(campaign=campaign, entrants=[c.pk for c in customers(world, 2)], now=NOW)
    assert entry.control == 2
    journey_advance(enrolment_ids=entry.entered, now=NOW)
    journey_advance(now=NOW + dt.timedelta(hours=73))
    assert Message.objects.count() == 0 and PlannedCall.objects.count() == 0
    assert ContactLedgerEntry.objects.count() == 0
    assert events(campaign, JourneyEventKind.CONTROL) == 4  # the SMS and the call task, each
    assert set(Enrolment.objects.values_list("state", flat=True)) == {EnrolmentState.COMPLETED}


def test_assignment_is_stable_per_campaign_and_close_to_the_share():
    buckets = [bucket_of("salt-a", cid) for cid in range(1, 20_001)]
    assert buckets == [bucket_of("salt-a", cid) for cid in range(1, 20_001)]
    assert all(0 <= b < BUCKETS for b in buckets)
    control = sum(1 for b in buckets if arm_of(b, 10) == Arm.CONTROL)
    assert 1800 < control < 2200
    assert buckets != [bucket_of("salt-b", cid) for cid in range(1, 20_001)]
    assert arm_of(999, 10) == Arm.CONTROL and arm_of(1000, 10) == Arm.TREATMENT


def test_a_message_at_night_is_held_for_the_window(world, sms_script, call_script):
    campaign = maturity_journey(world, sms_script, call_script)
    entry = enrol_customers(campaign=campaign, entrants=[c.pk for c in customers(world, 1)], now=NIGHT)
    journey_advance(enrolment_ids=entry.entered, now=NIGHT)
    message = Message.objects.get()
    assert message.send_after == dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai
    assert events(campaign, JourneyEventKind.HELD) == 1


def test_the_contact_rules_skip_a_send_and_say_why(world, sms_script, call_script):
    campaign = maturity_journey(world, sms_script, call_script)
    no_sms = customers(world, 1, channels=(Channel.PHONE,))[0]
    entry = enrol_customers(campaign=campaign, entrants=[no_sms.pk], now=NOW)
    journey_advance(enrolment_ids=entry.entered, now=NOW)
    assert Message.objects.count() == 0
    blocked = JourneyEvent.objects.get(kind=JourneyEventKind.BLOCKED)
    assert blocked.detail == "no_consent" and blocked.step.position == 1


def test_exit_criteria_take_an_opted_out_customer_out_and_cancel_their_queued_message(world, sms_script, call_script):
    campaign = maturity_journey(world, sms_script, call_script)
    person = customers(world, 1)[0]
    entry = enrol_customers(campaign=campaign, entrants=[person.pk], now=NOW)
    journey_advance(enrolment_ids=entry.entered, now=NOW)
    AutomatedMarketingOptOut.objects.create(customer=person, opted_out_at=NOW)
    Enrolment.objects.update(next_at=NOW)
    journey_advance(now=NOW + dt.timedelta(minutes=1))
    enrolment = Enrolment.objects.get()
    assert enrolment.state == EnrolmentState.EXITED and enrolment.exit_reason == "opted_out"
    assert Message.objects.get().status == "cancelled"


def test_a_won_campaign_call_is_a_conversion_on_its_step_and_ends_the_journey(world, sms_script, call_script):
    campaign = running(
        world,
        steps=[
            {"kind": StepKind.CALL_TASK, "channel": Channel.PHONE, "script": call_script},
            {"kind": StepKind.WAIT, "wait_hours": 24},
            {"kind": StepKind.SEND, "channel": Channel.SMS, "script": sms_script},
        ],
    )
    person = customers(world, 1)[0]
    entry = enrol_customers(campaign=campaign, entrants=[person.pk], now=NOW)
    journey_advance(enrolment_ids=entry.entered, now=NOW)
    task = PlannedCall.objects.get(campaign_id=campaign.pk)
    call = CallLogFactory(lead=task.lead, advisor=world.advisor_a, next_action=NextAction.WON)
    PlannedCall.objects.filter(pk=task.pk).update(
        status=PlannedCallStatus.DONE, call_log_id=call.pk, done_at=NOW + dt.timedelta(hours=1)
    )
    assert journeys_collect_conversions(now=NOW + dt.timedelta(hours=2)) == 1
    assert journeys_collect_conversions(now=NOW + dt.timedelta(hours=2)) == 0
    converted = JourneyEvent.objects.get(kind=JourneyEventKind.CONVERTED)
    assert converted.step_id == task.campaign_step_id
    journey_advance(now=NOW + dt.timedelta(hours=2))
    enrolment = Enrolment.objects.get()
    assert enrolment.state == EnrolmentState.EXITED and enrolment.exit_reason == "converted"
    assert Message.objects.count() == 0  # the SMS after the call never goes


def test_call_tasks_beyond_capacity_wait_for_the_next_day_on_their_step(world, call_script):
    StaffProfile.objects.filter(user__in=[world.advisor_a, world.advisor_a2]).update(daily_call_capacity=1)
    campaign = running(world, steps=[{"kind": StepKind.CALL_TASK, "channel": Channel.PHONE, "script": call_script}])
    entry = enrol_customers(campaign=campaign, entrants=[c.pk for c in customers(world, 3)], now=NOW)
    journey_advance(enrolment_ids=entry.entered, now=NOW)
    assert PlannedCall.objects.count() == 2  # one each for advisor_a and advisor_a2
    waiting = Enrolment.objects.get(state=EnrolmentState.ACTIVE)
    assert waiting.next_at == dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC)
    assert events(campaign, JourneyEventKind.WAITING) == 1
    journey_advance(now=waiting.next_at)
    assert PlannedCall.objects.count() == 3
    assert ContactLedgerEntry.objects.filter(channel=Channel.PHONE).count() == 3  # reserved once each


def test_the_daily_entry_limit_holds_entrants_back_for_another_day(world, sms_script, call_script):
    campaign = maturity_journey(world, sms_script, call_script, daily_entry_limit=2)
    people = [c.pk for c in customers(world, 3)]
    entry = enrol_customers(campaign=campaign, entrants=people, now=NOW)
    assert len(entry.entered) == 2 and entry.held_back == 1
    assert enrol_customers(campaign=campaign, entrants=people, now=NOW).entered == []
    tomorrow = enrol_customers(campaign=campaign, entrants=people, now=NOW + dt.timedelta(days=1))
    assert len(tomorrow.entered) == 1


def test_an_unsuitable_customer_does_not_enter_a_product_campaign(world, sms_script, call_script):
    product = sms_script.product
    campaign = maturity_journey(world, sms_script, call_script, product=product)
    person = customers(world, 1)[0]
    person.risk_level = None
    person.save(update_fields=["risk_level"])
    entry = enrol_customers(campaign=campaign, entrants=[person.pk], now=NOW)
    assert entry.entered == [] and entry.unsuitable == 1


def test_the_enrolment_job_enters_a_segment_once_even_when_run_again(world, sms_script, call_script, monkeypatch):
    people = customers(world, 4)
    segment = Segment.objects.create(name="到期客群", definition={"owner": [str(world.advisor_a.pk)]})
    campaign = maturity_journey(world, sms_script, call_script, audience=segment)
    sent = []
    monkeypatch.setattr(core_services, "send", lambda name, *args: sent.append((name, *args)))
    monkeypatch.setattr("django.conf.settings.WORKBENCH_CAMPAIGN_ENROL_CHUNK", 2)
    job = enrolment_start(campaign=campaign)
    assert enrolment_start(campaign=campaign) == job  # one job at a time per campaign
    queued = enrolment_dispatch(job_id=job.pk)
    assert queued == len(sent) >= 2
    for _name, job_id, lo in sent:
        enrolment_chunk_run(job_id=job_id, lo=lo, now=NOW)
    for _name, job_id, lo in sent:  # redelivered: nothing happens twice
        assert enrolment_chunk_run(job_id=job_id, lo=lo, now=NOW) is None
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.result["entered"] == len(people)
    assert Enrolment.objects.filter(campaign=campaign).count() == len(people)
    assert Message.objects.filter(campaign=campaign).count() == len(people)


def test_a_template_is_personalised_without_showing_more_of_the_name():
    person = CustomerFactory.build(name="张三丰", gender="F")
    text = render_message(template="{称呼}您好，您的{产品}即将到期。", customer=person, product=None, holding=None)
    assert text == "张女士您好，您的即将到期。"


def test_the_runner_takes_the_same_number_of_queries_for_few_or_many(world, sms_script, call_script):
    def cost(n, at):
        campaign = maturity_journey(world, sms_script, call_script)
        entry = enrol_customers(campaign=campaign, entrants=[c.pk for c in customers(world, n)], now=at)
        with CaptureQueriesContext(connection) as first:
            journey_advance(enrolment_ids=entry.entered, now=at)
        with CaptureQueriesContext(connection) as second:
            journey_advance(now=at + dt.timedelta(hours=73))
        return len(first), len(second)

    assert cost(2, NOW) == cost(12, NOW + dt.timedelta(days=10))


def test_the_advisor_sees_the_task_with_its_script_and_a_won_call_converts_on_its_step(
    world, client_for, call_script, settings, today_is_a_working_day
):
    settings.WORKBENCH_CALL_HOURS_START, settings.WORKBENCH_CALL_HOURS_END = "00:00", "23:59"
    disposition("effective")
    campaign = running(world, steps=[{"kind": StepKind.CALL_TASK, "channel": Channel.PHONE, "script": call_script}])
    person = customers(world, 1)[0]
    person.risk_level = 5
    person.risk_assessed_at = timezone.now()
    person.save(update_fields=["risk_level", "risk_assessed_at"])
    entry = enrol_customers(campaign=campaign, entrants=[person.pk], now=timezone.now())
    journey_advance(enrolment_ids=entry.entered, now=timezone.now())
    task = PlannedCall.objects.get(campaign_id=campaign.pk)
    client = client_for(world.advisor_a)
    html = client.get(reverse("calls:call", args=[task.lead_id])).content.decode()
    assert "策略外呼任务：到期续投提醒" in html
    assert f'name="script_version_id" value="{task.script_version_id}"' in html
    assert task.script_version.body.splitlines()[0] in html
    product = call_script.product
    response = client.post(
        reverse("calls:log_call", args=[task.lead_id]),
        {
            "idempotency_key": "won-1",
            "purpose": "marketing",
            "started_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": "6",
            "disposition": str(disposition("effective").pk),
            "interest": "high",
            "notes": "客户同意续投",
            "next_action": "won",
            "products": [str(product.pk)],
            "won_product": str(product.pk),
            "won_amount": "200000",
            "script_version_id": str(task.script_version_id),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    task.refresh_from_db()
    assert task.status == PlannedCallStatus.DONE and task.call_log_id is not None
    assert journeys_collect_conversions() == 1
    assert JourneyEvent.objects.get(kind=JourneyEventKind.CONVERTED).step_id == task.campaign_step_id


def test_a_branch_with_a_window_says_yes_as_soon_as_the_customer_replies_and_no_when_it_closes(
    world, sms_script, call_script
):
    """ "No reply within 3 days → call": one who replies on day 1 leaves the journey then,
    not on day 3; one who never replies gets the call task once the window has closed."""
    campaign = running(
        world,
        steps=[
            {"kind": StepKind.SEND, "channel": Channel.SMS, "script": sms_script},
            {
                "kind": StepKind.BRANCH,
                "condition": BranchCondition.RESPONDED,
                "wait_hours": 72,
                "yes_position": None,
                "no_position": 3,
            },
            {"kind": StepKind.CALL_TASK, "channel": Channel.PHONE, "script": call_script, "due_hours": 24},
        ],
    )
    replier, silent = customers(world, 2)
    entry = enrol_customers(campaign=campaign, entrants=[replier.pk, silent.pk], now=NOW)
    counts = journey_advance(enrolment_ids=entry.entered, now=NOW)
    assert counts["sleeping"] == 2 and events(campaign, JourneyEventKind.NO) == 0
    Message.objects.filter(customer=replier).update(clicked_at=NOW + dt.timedelta(hours=5))
    counts = journey_advance(now=NOW + dt.timedelta(hours=5, minutes=30))
    assert counts["completed"] == 1 and events(campaign, JourneyEventKind.YES) == 1
    assert Enrolment.objects.get(customer=replier).state == EnrolmentState.COMPLETED
    silent_enrolment = Enrolment.objects.get(customer=silent)
    assert silent_enrolment.state == EnrolmentState.ACTIVE
    assert silent_enrolment.next_at == NOW + dt.timedelta(hours=6, minutes=30)  # asked again within the hour
    assert PlannedCall.objects.count() == 0
    closes = NOW + dt.timedelta(hours=72)
    for hour in range(7, 72, 8):  # the runner keeps asking; nothing moves before the window closes
        journey_advance(now=NOW + dt.timedelta(hours=hour))
    assert events(campaign, JourneyEventKind.NO) == 0 and PlannedCall.objects.count() == 0
    journey_advance(now=closes)
    assert events(campaign, JourneyEventKind.NO) == 1
    assert list(PlannedCall.objects.values_list("customer_id", flat=True)) == [silent.pk]


def test_a_branch_on_a_response_to_a_call_asks_whether_the_call_reached_the_customer(world, sms_script, call_script):
    campaign = running(
        world,
        steps=[
            {"kind": StepKind.CALL_TASK, "channel": Channel.PHONE, "script": call_script, "due_hours": 24},
            {
                "kind": StepKind.BRANCH,
                "condition": BranchCondition.RESPONDED,
                "wait_hours": 48,
                "yes_position": None,
                "no_position": 3,
            },
            {"kind": StepKind.SEND, "channel": Channel.SMS, "script": sms_script},
        ],
    )
    reached, missed = customers(world, 2)
    entry = enrol_customers(campaign=campaign, entrants=[reached.pk, missed.pk], now=NOW)
    journey_advance(enrolment_ids=entry.entered, now=NOW)
    for customer, connected in ((reached, True), (missed, False)):
        task = PlannedCall.objects.get(customer=customer)
        log = CallLogFactory(
            customer=customer,
            advisor=world.advisor_a,
            disposition=disposition("effective" if connected else "no_answer"),
        )
        PlannedCall.objects.filter(pk=task.pk).update(status=PlannedCallStatus.DONE, call_log_id=log.pk)
    journey_advance(now=NOW + dt.timedelta(hours=1))
    assert Enrolment.objects.get(customer=reached).state == EnrolmentState.COMPLETED
    assert not Message.objects.exists()  # the missed call may still be returned
    journey_advance(now=NOW + dt.timedelta(hours=48))
    assert set(Message.objects.values_list("customer_id", flat=True)) == {missed.pk}


def test_a_call_task_made_on_the_eve_of_a_holiday_is_due_after_it(world, sms_script, call_script):
    """Friday 2026-12-04 is made a holiday: a task created Thursday night waits for Monday,
    and a task of two working days made on Thursday morning is due on Tuesday."""
    Holiday.objects.create(date=dt.date(2026, 12, 4), kind=HolidayKind.HOLIDAY, name="测试假日")
    campaign = running(
        world, steps=[{"kind": StepKind.CALL_TASK, "channel": Channel.PHONE, "script": call_script, "due_hours": 48}]
    )
    morning, night = customers(world, 2)
    first = enrol_customers(campaign=campaign, entrants=[morning.pk], now=NOW)
    journey_advance(enrolment_ids=first.entered, now=NOW)
    second = enrol_customers(campaign=campaign, entrants=[night.pk], now=NIGHT)
    journey_advance(enrolment_ids=second.entered, now=NIGHT)
    by_customer = {p.customer_id: p for p in PlannedCall.objects.all()}
    monday_9 = dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC)
    assert by_customer[morning.pk].due_at == NOW
    assert by_customer[morning.pk].due_until == NOW + dt.timedelta(days=5)  # Thu → (Fri off) Mon → Tue 10:00
    assert by_customer[night.pk].due_at == monday_9
    assert by_customer[night.pk].due_until == monday_9 + dt.timedelta(days=2)
