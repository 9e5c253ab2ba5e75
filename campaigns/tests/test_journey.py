"""Editing journeys: steps of every kind, the checks (targets, loops through a wait),
moves and removals that carry the branches' targets, versions of a published campaign
(draft, publish for new entrants only, discard) and the journey's settings."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from campaigns.journeys import checks
from campaigns.models import (
    Campaign,
    CampaignStatus,
    CampaignStep,
    Enrolment,
    EnrolmentState,
    StepKind,
)
from campaigns.services import journey, lifecycle
from campaigns.tests.factories import approved_script, draft_script, make_campaign
from core.models import AuditEvent
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _rows(campaign, version=1):
    return list(
        CampaignStep.objects.filter(campaign=campaign, version=version)
        .order_by("position")
        .values_list("position", "kind", "yes_position", "no_position")
    )


def _four_steps(world, script=None):
    """1 SMS, 2 wait 3 days, 3 branch on a reply (yes: end, no: step 4), 4 call task."""
    script = script or approved_script(world)
    campaign = lifecycle.campaign_create(actor=world.campaigner, name="到期提醒旅程")
    add = journey.journey_step_add
    add(actor=world.campaigner, campaign=campaign, kind=StepKind.SEND, channel="sms", script=script)
    add(actor=world.campaigner, campaign=campaign, kind=StepKind.WAIT, wait_days=3)
    add(actor=world.campaigner, campaign=campaign, kind=StepKind.BRANCH, condition="replied", no_position=None)
    add(actor=world.campaigner, campaign=campaign, kind=StepKind.CALL_TASK, script=script, due_hours=48)
    branch = CampaignStep.objects.get(campaign=campaign, position=3)
    journey.journey_step_edit(
        actor=world.campaigner, step=branch, kind=StepKind.BRANCH, condition="replied", yes_position=None, no_position=4
    )
    return campaign


def test_a_draft_journey_of_every_kind_is_edited_in_place(world):
    campaign = _four_steps(world)
    steps = list(CampaignStep.objects.filter(campaign=campaign).order_by("position"))
    assert [(s.version, s.position, s.kind) for s in steps] == [
        (1, 1, "send"),
        (1, 2, "wait"),
        (1, 3, "branch"),
        (1, 4, "call_task"),
    ]
    assert steps[1].wait_hours == 72 and steps[3].channel == "phone" and steps[3].due_hours == 48
    assert (steps[2].condition, steps[2].yes_position, steps[2].no_position) == ("replied", None, 4)
    assert Campaign.objects.get(pk=campaign.pk).draft_version is None
    assert AuditEvent.objects.filter(verb="campaign.add_step", target_id=str(campaign.pk)).count() == 4
    edit = AuditEvent.objects.get(verb="campaign.edit_step")
    assert edit.details["before"]["no"] is None and edit.details["after"]["no"] == 4
    # a kind change clears what the old kind used
    journey.journey_step_edit(actor=world.campaigner, step=steps[1], kind=StepKind.WAIT, wait_hours=5)
    journey.journey_step_edit(actor=world.campaigner, step=steps[3], kind=StepKind.WAIT, wait_hours=1)
    steps[3].refresh_from_db()
    assert (steps[3].kind, steps[3].script_id, steps[3].channel, steps[3].due_hours) == ("wait", None, "", None)


def test_steps_are_checked_with_clear_messages(world):
    campaign = _four_steps(world)
    add, edit = journey.journey_step_add, journey.journey_step_edit
    branch = CampaignStep.objects.get(campaign=campaign, position=3)
    wait = CampaignStep.objects.get(campaign=campaign, position=2)
    script = branch.campaign.steps.get(position=1).script
    # no reply: back to the SMS, through the wait (a loop through a wait is allowed)
    edit(actor=world.campaigner, step=branch, kind=StepKind.BRANCH, condition="replied", no_position=1)
    before = _rows(campaign)
    with translation.override("en"):
        with pytest.raises(ValidationError) as exc:
            add(actor=world.campaigner, campaign=campaign, kind=StepKind.SEND)
        assert set(exc.value.message_dict) == {"script", "channel"}
        with pytest.raises(ValidationError, match="at least one hour"):
            add(actor=world.campaigner, campaign=campaign, kind=StepKind.WAIT)
        with pytest.raises(ValidationError, match="Choose what the branch asks"):
            add(actor=world.campaigner, campaign=campaign, kind=StepKind.BRANCH, condition="nonsense")
        with pytest.raises(ValidationError, match="cannot lead to itself"):
            edit(actor=world.campaigner, step=branch, kind=StepKind.BRANCH, condition="replied", yes_position=3)
        with pytest.raises(ValidationError, match="step 9, which is not in the journey"):
            edit(actor=world.campaigner, step=branch, kind=StepKind.BRANCH, condition="replied", yes_position=9)
        with pytest.raises(ValidationError, match="A call is its own kind of step"):
            add(actor=world.campaigner, campaign=campaign, kind=StepKind.SEND, channel="phone", script=script)
        # the wait becomes a message: the loop would never rest
        with pytest.raises(ValidationError, match=r"Steps 1 → 2 → 3 → 1 form a loop without a wait"):
            edit(actor=world.campaigner, step=wait, kind=StepKind.SEND, channel="sms", script=script)
        # nor does the wait move out of the loop
        with pytest.raises(ValidationError, match="loop without a wait"):
            journey.journey_step_move(
                actor=world.campaigner, step=CampaignStep.objects.get(pk=branch.pk), direction="up"
            )
    # in Chinese too, and nothing changed by any of the refusals
    with translation.override("zh-hans"), pytest.raises(ValidationError, match="等待"):
        add(actor=world.campaigner, campaign=campaign, kind=StepKind.WAIT, wait_hours=0)
    assert _rows(campaign) == before
    # a journey never starts with a branch
    other = lifecycle.campaign_create(actor=world.campaigner, name="分支开头")
    with translation.override("en"), pytest.raises(ValidationError, match="cannot start with one"):
        add(actor=world.campaigner, campaign=other, kind=StepKind.BRANCH, condition="replied")
    assert not other.steps.exists()


def test_moves_and_removals_carry_the_targets(world):
    campaign = _four_steps(world)
    branch = campaign.steps.get(position=3)
    journey.journey_step_edit(
        actor=world.campaigner, step=branch, kind=StepKind.BRANCH, condition="replied", yes_position=4, no_position=2
    )
    # the wait goes below the branch: the branch's "no" follows it to position 3
    journey.journey_step_move(actor=world.campaigner, step=campaign.steps.get(position=2), direction="down")
    assert _rows(campaign) == [(1, "send", None, None), (2, "branch", 4, 3), (3, "wait", None, None),
                               (4, "call_task", None, None)]  # fmt: skip
    with translation.override("en"):
        # a step a branch leads to is not removed until the branch leads elsewhere
        with pytest.raises(ValidationError, match="leads to step 4"):
            journey.journey_step_remove(actor=world.campaigner, step=campaign.steps.get(position=4))
        with pytest.raises(ValidationError, match="already the last"):
            journey.journey_step_move(actor=world.campaigner, step=campaign.steps.get(position=4), direction="down")
        with pytest.raises(ValidationError, match="already the first"):
            journey.journey_step_move(actor=world.campaigner, step=campaign.steps.get(position=1), direction="up")
        # without the SMS the journey would start with the branch
        with pytest.raises(ValidationError, match="cannot start with one"):
            journey.journey_step_remove(actor=world.campaigner, step=campaign.steps.get(position=1))
    assert len(_rows(campaign)) == 4
    # the branch now ends the journey on "yes": the call task can go, the targets move up
    journey.journey_step_edit(
        actor=world.campaigner, step=campaign.steps.get(position=2), kind=StepKind.BRANCH, condition="replied",
        yes_position=None, no_position=3,
    )  # fmt: skip
    journey.journey_step_add(actor=world.campaigner, campaign=campaign, kind=StepKind.WAIT, wait_hours=1)
    journey.journey_step_remove(actor=world.campaigner, step=campaign.steps.get(position=4))
    assert _rows(campaign) == [(1, "send", None, None), (2, "branch", None, 3), (3, "wait", None, None),
                               (4, "wait", None, None)]  # fmt: skip
    moves = AuditEvent.objects.filter(verb="campaign.move_step").values_list("details", flat=True)
    assert [(d["from"], d["to"]) for d in moves] == [(2, 3)]
    assert AuditEvent.objects.filter(verb="campaign.remove_step").count() == 1


def _running(world, *, in_flight=3):
    script = approved_script(world)
    campaign = make_campaign(world, status=CampaignStatus.RUNNING, script=script)
    step = campaign.steps.get()
    now = timezone.now()
    for i in range(in_flight + 1):
        Enrolment.objects.create(
            campaign=campaign,
            customer=CustomerFactory(),
            bucket=i,
            step=step,
            state=EnrolmentState.ACTIVE if i < in_flight else EnrolmentState.COMPLETED,
            entered_at=now,
        )
    return campaign, step, script


def test_a_running_campaign_is_edited_in_a_draft_version_and_published_for_new_entrants(world):
    campaign, step, script = _running(world)
    journey.journey_step_add(actor=world.campaigner, campaign=campaign, kind=StepKind.WAIT, wait_days=2)
    campaign.refresh_from_db()
    assert (campaign.journey_version, campaign.draft_version) == (1, 2)
    assert _rows(campaign, 1) == [(1, "send", None, None)]  # the live version is untouched
    assert _rows(campaign, 2) == [(1, "send", None, None), (2, "wait", None, None)]
    # an edit of a live step goes to its copy in the draft
    journey.journey_step_edit(actor=world.campaigner, step=step, kind=StepKind.SEND, channel="wechat", script=script)
    step.refresh_from_db()
    assert step.channel == "sms" and campaign.steps.get(version=2, position=1).channel == "wechat"
    # a draft's unapproved script holds back its publication, not the running campaign's moves
    unapproved = draft_script(world, title="新话术")
    journey.journey_step_add(actor=world.campaigner, campaign=campaign, kind=StepKind.CALL_TASK, script=unapproved)
    lifecycle.campaign_pause(actor=world.campaigner, campaign=campaign)
    lifecycle.campaign_resume(actor=world.campaigner, campaign=campaign)
    with translation.override("en"), pytest.raises(ValidationError, match="新话术"):
        journey.journey_publish(actor=world.campaigner, campaign=campaign)
    assert Campaign.objects.get(pk=campaign.pk).journey_version == 1
    journey.journey_step_remove(actor=world.campaigner, step=campaign.steps.get(version=2, position=3))
    # a second campaign manager may publish
    journey.journey_publish(actor=world.campaigner2, campaign=campaign)
    campaign.refresh_from_db()
    assert (campaign.journey_version, campaign.draft_version) == (2, None)
    published = AuditEvent.objects.get(verb="campaign.journey_publish")
    assert published.details["in_flight"] == {"1": 3} and published.details["from_version"] == 1
    # enrolments keep the steps of the version they entered under
    assert set(Enrolment.objects.values_list("version", "step_id")) == {(1, step.pk)}
    assert CampaignStep.objects.filter(campaign=campaign, version=1).count() == 1
    assert AuditEvent.objects.filter(verb="campaign.journey_draft").count() == 1

    # the next edit drafts version 3; discarding it leaves version 2 as it was
    journey.journey_step_remove(actor=world.campaigner, step=campaign.steps.get(version=2, position=2))
    assert Campaign.objects.get(pk=campaign.pk).draft_version == 3
    journey.journey_discard_draft(actor=world.campaigner, campaign=campaign)
    campaign.refresh_from_db()
    assert (campaign.journey_version, campaign.draft_version) == (2, None)
    assert not CampaignStep.objects.filter(campaign=campaign, version=3).exists()
    assert len(_rows(campaign, 2)) == 2
    with pytest.raises(ValidationError):
        journey.journey_publish(actor=world.campaigner, campaign=campaign)
    with pytest.raises(ValidationError):
        journey.journey_discard_draft(actor=world.campaigner, campaign=campaign)
    # a step of an older version is not edited
    with pytest.raises(ValidationError):
        journey.journey_step_edit(actor=world.campaigner, step=step, kind=StepKind.WAIT, wait_hours=3)


def test_who_edits_and_when(world):
    campaign, step, _script = _running(world, in_flight=0)
    for outsider in (world.advisor_a, world.lead_a, world.compliance):
        with pytest.raises(PermissionDenied):
            journey.journey_step_add(actor=outsider, campaign=campaign, kind=StepKind.WAIT, wait_hours=3)
        with pytest.raises(PermissionDenied):
            journey.journey_publish(actor=outsider, campaign=campaign)
    pending = make_campaign(world, status=CampaignStatus.PENDING_APPROVAL)
    with translation.override("en"), pytest.raises(ValidationError, match="cannot be edited"):
        journey.journey_step_add(actor=world.campaigner, campaign=pending, kind=StepKind.WAIT, wait_hours=3)
    ended = make_campaign(world, status=CampaignStatus.ENDED)
    with pytest.raises(PermissionDenied):
        journey.journey_step_remove(actor=world.campaigner, step=ended.steps.get())
    assert not CampaignStep.objects.filter(version=2).exists()
    assert not AuditEvent.objects.filter(verb__startswith="campaign.").exists()


def test_journey_settings(world):
    campaign = make_campaign(world)
    journey.journey_settings_update(
        actor=world.campaigner2,
        campaign=campaign,
        exit_rules=["left_segment", "converted"],
        control_percent=20,
        daily_entry_limit=500,
    )
    campaign.refresh_from_db()
    assert (campaign.exit_rules, campaign.control_percent, campaign.daily_entry_limit) == (
        ["converted", "left_segment"],
        20,
        500,
    )
    event = AuditEvent.objects.get(verb="campaign.journey_settings")
    assert event.details["before"]["control_percent"] == 10 and event.details["after"]["daily_entry_limit"] == 500
    for bad in ({"control_percent": 51}, {"control_percent": -1}, {"exit_rules": ["x"]}, {"daily_entry_limit": 0}):
        kwargs = {"exit_rules": [], "control_percent": 5, "daily_entry_limit": None, **bad}
        with pytest.raises(ValidationError) as exc:
            journey.journey_settings_update(actor=world.campaigner, campaign=campaign, **kwargs)
        assert set(exc.value.message_dict) == set(bad)
    assert Campaign.objects.get(pk=campaign.pk).control_percent == 20
    with pytest.raises(PermissionDenied):
        journey.journey_settings_update(
            actor=world.lead_a, campaign=campaign, exit_rules=[], control_percent=0, daily_entry_limit=None
        )


def test_steps_no_customer_reaches_are_named(world):
    campaign = _four_steps(world)
    assert checks.journey_unreachable(list(campaign.steps.all())) == []
    # the journey ends on a branch: a wait added after it is reached by nobody
    last = campaign.steps.get(position=4)
    journey.journey_step_edit(actor=world.campaigner, step=last, kind=StepKind.BRANCH, condition="reached")
    journey.journey_step_add(actor=world.campaigner, campaign=campaign, kind=StepKind.WAIT, wait_hours=2)
    assert checks.journey_unreachable(list(campaign.steps.all())) == [5]
    journey.journey_step_edit(
        actor=world.campaigner, step=last, kind=StepKind.BRANCH, condition="reached", no_position=5
    )
    assert checks.journey_unreachable(list(campaign.steps.all())) == []


def _settings(campaign, **overrides):
    return {"exit_rules": [], "control_percent": campaign.control_percent, "daily_entry_limit": None, **overrides}


def test_attribution_window_set_audited_and_fixed_once_customers_enter(world):
    campaign = make_campaign(world)
    assert campaign.attribution_days == 30
    journey.journey_settings_update(
        actor=world.campaigner, campaign=campaign, **_settings(campaign, attribution_days=45)
    )
    campaign.refresh_from_db()
    assert campaign.attribution_days == 45
    event = AuditEvent.objects.get(verb="campaign.journey_settings")
    assert (event.details["before"]["attribution_days"], event.details["after"]["attribution_days"]) == (30, 45)
    # bad windows are refused in words, field by field, and change nothing
    for bad in (0, 181, -3):
        with translation.override("zh-hans"):
            with pytest.raises(ValidationError) as exc:
                journey.journey_settings_update(
                    actor=world.campaigner, campaign=campaign, **_settings(campaign, attribution_days=bad)
                )
            assert exc.value.message_dict == {"attribution_days": ["转化归因窗口须为 1 至 180 之间的整数天。"]}
    # omitted: kept
    journey.journey_settings_update(
        actor=world.campaigner, campaign=campaign, **_settings(campaign, control_percent=20)
    )
    assert Campaign.objects.get(pk=campaign.pk).attribution_days == 45
    # once a customer has entered, the window is fixed: the same value passes, another is refused
    Enrolment.objects.create(
        campaign=campaign, customer=CustomerFactory(), bucket=1, entered_at=timezone.now(), state="active"
    )
    journey.journey_settings_update(
        actor=world.campaigner, campaign=campaign, **_settings(campaign, attribution_days=45, control_percent=15)
    )
    audits = AuditEvent.objects.filter(verb="campaign.journey_settings").count()
    with translation.override("en"):
        with pytest.raises(ValidationError) as exc:
            journey.journey_settings_update(
                actor=world.campaigner, campaign=campaign, **_settings(campaign, attribution_days=7, control_percent=5)
            )
        assert "attribution window is fixed" in str(exc.value.message_dict["attribution_days"][0])
    campaign.refresh_from_db()
    assert (campaign.attribution_days, campaign.control_percent) == (45, 15)
    assert AuditEvent.objects.filter(verb="campaign.journey_settings").count() == audits
