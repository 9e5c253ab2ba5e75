"""Live counts per journey step, and the flow diagram drawn from them."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone, translation

from campaigns import selectors
from campaigns.diagram import journey_rows, render_journey
from campaigns.models import (
    Campaign,
    CampaignStatus,
    CampaignStep,
    Enrolment,
    EnrolmentState,
    JourneyEvent,
    Message,
    MessageStatus,
    StepKind,
)
from compliance.models import Script
from customers.tests.factories import CustomerFactory
from leads.models import PlannedCallKind, PlannedCallStatus
from leads.tests.factories import PlannedCallFactory

pytestmark = pytest.mark.django_db


def _journey(world, n_steps: int) -> tuple[Campaign, list[CampaignStep]]:
    """SMS, wait 3 days, branch on a reply (yes: end, no: call task), call task, then waits.
    (Rows written directly: the services are tested on their own.) The campaign's author
    stands in as the advisor of its call tasks."""
    campaign = Campaign.objects.create(
        code=f"J{n_steps}", name="到期提醒", status=CampaignStatus.RUNNING, created_by=world.advisor_a
    )
    script = Script.objects.create(title="到期提醒短信", author=world.lead_a)
    rows = [
        {"kind": StepKind.SEND, "channel": "sms", "script": script},
        {"kind": StepKind.WAIT, "wait_hours": 72},
        {"kind": StepKind.BRANCH, "condition": "replied", "yes_position": None, "no_position": 4},
        {"kind": StepKind.CALL_TASK, "channel": "phone", "script": script, "due_hours": 48},
    ]
    rows += [{"kind": StepKind.WAIT, "wait_hours": 24} for _i in range(n_steps - len(rows))]
    steps = [CampaignStep.objects.create(campaign=campaign, position=i + 1, **row) for i, row in enumerate(rows)]
    return campaign, steps


def _traffic(campaign, steps, *, people: int) -> None:
    send, _wait, branch, call = steps[:4]
    now = timezone.now()
    for i in range(people):
        customer = CustomerFactory()
        on = steps[i % len(steps)]
        enrolment = Enrolment.objects.create(
            campaign=campaign, customer=customer, bucket=i, step=on, entered_at=now, state=EnrolmentState.ACTIVE
        )
        JourneyEvent.objects.create(campaign=campaign, enrolment=enrolment, step=send, kind="entered", at=now)
        JourneyEvent.objects.create(campaign=campaign, enrolment=enrolment, step=send, kind="sent", at=now)
        Message.objects.create(
            campaign=campaign,
            step=send,
            enrolment=enrolment,
            customer=customer,
            channel="sms",
            body="您好",
            key=f"{campaign.pk}-{i}",
            send_after=now,
            status=MessageStatus.DELIVERED if i % 2 else MessageStatus.FAILED,
            replied_at=now if i % 4 == 1 else None,
        )
        JourneyEvent.objects.create(
            campaign=campaign, enrolment=enrolment, step=branch, kind="yes" if i % 4 == 1 else "no", at=now
        )
        if i % 4 != 1:
            PlannedCallFactory(
                customer=customer,
                advisor=campaign.created_by,
                kind=PlannedCallKind.CAMPAIGN,
                campaign_id=campaign.pk,
                campaign_step_id=call.pk,
                enrolment_id=enrolment.pk,
                status=PlannedCallStatus.DONE if i % 4 == 2 else PlannedCallStatus.PLANNED,
            )
    blocked = Enrolment.objects.create(
        campaign=campaign, customer=CustomerFactory(), bucket=99, entered_at=now, state=EnrolmentState.EXITED,
        exit_reason="opted_out",
    )  # fmt: skip
    for detail in ("do_not_disturb", "do_not_disturb", "channel_cap"):
        JourneyEvent.objects.create(
            campaign=campaign, enrolment=blocked, step=send, kind="blocked", detail=detail, at=now
        )
    JourneyEvent.objects.create(campaign=campaign, enrolment=blocked, step=call, kind="converted", at=now)


def test_counts_per_step(world):
    campaign, steps = _journey(world, 4)
    _traffic(campaign, steps, people=8)
    with translation.override("en"):
        counts = selectors.journey_counts(campaign=campaign, steps=steps)
    send, wait, branch, call = (counts.of(s) for s in steps)
    assert [c.active for c in (send, wait, branch, call)] == [2, 2, 2, 2]
    assert send.passed == 9 and branch.passed == 8 and wait.passed == 0
    assert (send.sent, send.delivered, send.failed, send.replied, send.queued) == (4, 4, 4, 2, 0)
    assert send.blocked == {"Do-not-disturb": 2, "Frequency cap on the channel": 1} and send.blocked_total == 3
    assert (branch.yes, branch.no) == (2, 6)
    assert (call.tasks_planned, call.tasks_done, call.converted) == (4, 2, 1)
    assert counts.active == 8 and counts.exits == [("Opted out of marketing", 1)]
    # the in-flight counts before a publication are the same numbers
    assert [row["active"] for row in selectors.journey_in_flight(campaign=campaign)] == [2, 2, 2, 2]


@pytest.mark.parametrize("n_steps", [4, 16])
def test_counts_take_the_same_queries_whatever_the_journey(world, django_assert_num_queries, n_steps):
    campaign, steps = _journey(world, n_steps)
    _traffic(campaign, steps, people=n_steps * 2)
    with django_assert_num_queries(5):
        counts = selectors.journey_counts(campaign=campaign, steps=steps)
    assert sum(counts.of(s).active for s in steps) == n_steps * 2


def test_the_diagram_draws_boxes_arrows_counts_and_both_arms(world):
    campaign, steps = _journey(world, 4)
    _traffic(campaign, steps, people=8)
    counts = selectors.journey_counts(campaign=campaign, steps=steps)
    with translation.override("zh-hans"):
        svg = str(render_journey(steps, counts=counts, title="到期提醒 第1版"))
    assert svg.startswith("<svg") and 'viewBox="0 0 ' in svg and "style" not in svg and "<script" not in svg
    assert '<title id="journey-diagram-title">到期提醒 第1版</title>' in svg and "<desc" in svg
    assert re.findall(r'class="jd-step jd-step-(\w+)" data-position="(\d)"', svg) == [
        ("send", "1"),
        ("wait", "2"),
        ("branch", "3"),
        ("call_task", "4"),
    ]
    arrows = re.findall(r'class="jd-arrow jd-arrow-(\w+)"[^>]*data-from="(\d)" data-to="(\w+)"', svg)
    assert arrows == [
        ("next", "1", "2"),
        ("next", "2", "3"),
        ("yes", "3", "end"),
        ("no", "3", "4"),
        ("next", "4", "end"),
    ]
    assert ">是</text>" in svg and ">否</text>" in svg and svg.count(">结束</text>") == 2
    assert "到期提醒短信" in svg and "短信" in svg
    assert "当前 2 · 经过 9" in svg  # the SMS step's live counts
    with translation.override("en"):
        english = str(render_journey(steps, counts=counts, title="t"))
    assert ">Yes</text>" in english and ">No</text>" in english and "Now here 2 · passed 9" in english


def test_any_journey_the_services_allow_is_drawn(world):
    """Long journeys, a branch back to a wait, jumps forward: every arrow has a target."""
    campaign, steps = _journey(world, 30)
    # step 30 branches back to the wait at 2 and forward to nothing; step 10 jumps to 20
    for position, yes, no in ((10, 20, 2), (30, None, 2)):
        CampaignStep.objects.filter(campaign=campaign, position=position).update(
            kind=StepKind.BRANCH, condition="delivered", yes_position=yes, no_position=no, wait_hours=None
        )
    steps = list(CampaignStep.objects.filter(campaign=campaign).order_by("position"))
    svg = str(render_journey(steps, counts=None, title="长旅程"))
    assert svg.count('class="jd-step ') == 30
    back = re.findall(r'<path d="([^"]+)" class="jd-arrow jd-arrow-no"[^>]*data-from="(\d+)" data-to="(\d+)"', svg)
    assert {(f, t) for _d, f, t in back} == {("10", "2"), ("30", "2")}
    # the two loops back run on different lanes (different x of their vertical runs)
    lanes = {re.search(r"H(\d+) V", d).group(1) for d, _f, _t in back}
    assert len(lanes) == 2
    height = int(re.search(r'viewBox="0 0 \d+ (\d+)"', svg).group(1))
    assert height > 30 * 100
    rows = journey_rows(steps, None)
    assert rows[9]["next"] and rows[-1]["counts"] == ""
    assert str(render_journey([], counts=None, title="空")).count("jd-step") == 0
