"""The campaign lifecycle: audited moves, launch blocked on unapproved scripts, four eyes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from campaigns.models import Campaign, CampaignStatus, CampaignTransition, StepKind
from campaigns.services import journey, lifecycle
from campaigns.tests.factories import approved_script, draft_script, make_campaign
from compliance.models import ScriptVersion, VersionStatus
from compliance.services import scripts as script_services
from compliance.tests.test_services import draft
from core.models import AuditEvent
from customers.models import ContactLedgerEntry, LedgerStatus
from customers.services import ledger
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def test_only_the_approved_version_is_attached_to_a_campaign(world):
    campaign = make_campaign(world)
    v1 = draft(world)
    with pytest.raises(ValidationError):
        lifecycle.campaign_attach_script(actor=world.campaigner, campaign=campaign, version=v1)
    script_services.script_submit_for_review(actor=world.advisor_a, version=v1)
    script_services.script_approve(actor=world.compliance, version=v1, acknowledge_medium=True)
    lifecycle.campaign_attach_script(actor=world.campaigner, campaign=campaign, version=v1)
    assert Campaign.objects.get(pk=campaign.pk).script_version == v1
    for outsider in (world.advisor_a, world.lead_a):
        with pytest.raises(PermissionDenied):
            lifecycle.campaign_attach_script(actor=outsider, campaign=campaign, version=v1)
    assert AuditEvent.objects.filter(verb="campaign.attach_script").count() == 1
    # a newly approved version replaces the retired one on the campaign
    v2 = script_services.script_revise(actor=world.advisor_a, script=v1.script)
    script_services.script_submit_for_review(actor=world.advisor_a, version=v2)
    script_services.script_approve(actor=world.compliance, version=v2, acknowledge_medium=True)
    assert Campaign.objects.get(pk=campaign.pk).script_version == v2


def _built(world, *, script=None):
    campaign = lifecycle.campaign_create(actor=world.campaigner, name="到期续投提醒", priority=7)
    journey.journey_step_add(
        actor=world.campaigner,
        campaign=campaign,
        kind=StepKind.SEND,
        channel="sms",
        script=script or approved_script(world),
    )
    journey.journey_step_add(actor=world.campaigner, campaign=campaign, kind=StepKind.WAIT, wait_hours=72)
    return campaign


def test_the_whole_lifecycle_is_audited(world):
    campaign = _built(world)
    lifecycle.campaign_submit(actor=world.campaigner, campaign=campaign)
    lifecycle.campaign_approve_launch(actor=world.campaigner2, campaign=campaign)
    lifecycle.campaign_start(actor=world.campaigner, campaign=campaign)
    lifecycle.campaign_pause(actor=world.campaigner, campaign=campaign, note="客户投诉排查")
    lifecycle.campaign_resume(actor=world.campaigner, campaign=campaign)
    customer = CustomerFactory()
    ContactPreferenceFactory(customer=customer, channel="sms", consent=True)
    reserved = ledger.ledger_reserve(
        customer_ids=[customer.pk], channel="sms", key_prefix=f"c{campaign.pk}", source_id=campaign.pk
    )
    lifecycle.campaign_end(actor=world.campaigner2, campaign=campaign)
    # the contacts it had not made give their slots back
    assert ContactLedgerEntry.objects.get(pk=reserved.reserved[customer.pk]).status == LedgerStatus.RELEASED
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.ENDED
    assert campaign.launch_approved_by == world.campaigner2 and campaign.launch_approved_at
    moves = list(CampaignTransition.objects.filter(campaign=campaign).values_list("from_status", "to_status"))
    assert moves == [
        ("draft", "draft"),
        ("draft", "pending_approval"),
        ("pending_approval", "scheduled"),
        ("scheduled", "running"),
        ("running", "paused"),
        ("paused", "running"),
        ("running", "ended"),
    ]
    assert AuditEvent.objects.filter(verb="campaign.transition", target_id=str(campaign.pk)).count() == 6
    # the approval records the script versions that were approved at the time
    approval = CampaignTransition.objects.get(campaign=campaign, to_status="scheduled")
    step_script = campaign.steps.get(position=1).script_id
    approved = ScriptVersion.objects.get(script_id=step_script, status=VersionStatus.APPROVED)
    assert approval.script_versions == {str(step_script): approved.pk}
    # an ended campaign changes no more
    with pytest.raises(PermissionDenied):
        lifecycle.campaign_pause(actor=world.campaigner, campaign=campaign)


def test_launch_is_blocked_until_every_script_is_approved(world):
    campaign = _built(world)
    unapproved = draft_script(world, title="到期外呼话术")
    journey.journey_step_add(actor=world.campaigner, campaign=campaign, kind=StepKind.CALL_TASK, script=unapproved)
    with pytest.raises(ValidationError, match="到期外呼话术"):
        lifecycle.campaign_submit(actor=world.campaigner, campaign=campaign)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT
    assert not AuditEvent.objects.filter(verb="campaign.transition").exists()
    # compliance approves it: the campaign may go
    version = unapproved.versions.get()
    script_services.script_submit_for_review(actor=world.lead_a, version=version)
    script_services.script_approve(actor=world.compliance, version=version, acknowledge_medium=True)
    lifecycle.campaign_submit(actor=world.campaigner, campaign=campaign)
    # retired before approval: the launch is refused again
    script_services.script_retire(actor=world.compliance, version=version)
    with pytest.raises(ValidationError):
        lifecycle.campaign_approve_launch(actor=world.lead_a, campaign=campaign)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.PENDING_APPROVAL


def test_no_self_approval_and_only_approvers(world):
    campaign = _built(world)
    lifecycle.campaign_submit(actor=world.campaigner, campaign=campaign)
    with translation.override("en"), pytest.raises(PermissionDenied, match="own campaign"):
        lifecycle.campaign_approve_launch(actor=world.campaigner, campaign=campaign)
    for outsider in (world.advisor_a, world.compliance, world.manager_x):
        with pytest.raises(PermissionDenied):
            lifecycle.campaign_approve_launch(actor=outsider, campaign=campaign)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.PENDING_APPROVAL
    # a team lead may approve; a return needs a reason and goes back to draft
    with pytest.raises(ValidationError):
        lifecycle.campaign_return(actor=world.lead_a, campaign=campaign, note="  ")
    lifecycle.campaign_return(actor=world.lead_a, campaign=campaign, note="请补充退出条件")
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT
    lifecycle.campaign_submit(actor=world.campaigner, campaign=campaign)
    lifecycle.campaign_approve_launch(actor=world.lead_a, campaign=campaign)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SCHEDULED


def test_moves_from_the_wrong_status_are_refused(world):
    campaign = _built(world)
    with pytest.raises(ValidationError):
        lifecycle.campaign_start(actor=world.campaigner, campaign=campaign)
    with pytest.raises(ValidationError):
        lifecycle.campaign_resume(actor=world.campaigner, campaign=campaign)
    empty = lifecycle.campaign_create(actor=world.campaigner, name="空流程")
    with pytest.raises(ValidationError):
        lifecycle.campaign_submit(actor=world.campaigner, campaign=empty)
    with pytest.raises(ValidationError):
        lifecycle.campaign_create(actor=world.campaigner, name=" ")
    with pytest.raises(ValidationError):
        lifecycle.campaign_create(
            actor=world.campaigner, name="日期", starts_on=dt.date(2026, 5, 2), ends_on=dt.date(2026, 5, 1)
        )
    with pytest.raises(PermissionDenied):
        lifecycle.campaign_create(actor=world.lead_a, name="组长不建策略")


def test_steps_are_validated_and_only_drafts_edited(world):
    campaign = lifecycle.campaign_create(actor=world.campaigner, name="校验")
    with pytest.raises(ValidationError) as exc:
        journey.journey_step_add(actor=world.campaigner, campaign=campaign, kind=StepKind.SEND)
    assert set(exc.value.message_dict) == {"script", "channel"}
    with pytest.raises(ValidationError):
        journey.journey_step_add(actor=world.campaigner, campaign=campaign, kind=StepKind.WAIT, wait_hours=0)
    script = approved_script(world)
    first = journey.journey_step_add(actor=world.campaigner, campaign=campaign, kind=StepKind.CALL_TASK, script=script)
    second = journey.journey_step_add(actor=world.campaigner, campaign=campaign, kind=StepKind.WAIT, wait_hours=24)
    assert first.channel == "phone" and second.position == 2
    journey.journey_step_remove(actor=world.campaigner, step=first)
    second.refresh_from_db()
    assert second.position == 1
    lifecycle.campaign_update(actor=world.campaigner, campaign=campaign, name="校验二", priority=9)
    assert Campaign.objects.get(pk=campaign.pk).priority == 9
    journey.journey_step_add(actor=world.campaigner, campaign=campaign, kind=StepKind.CALL_TASK, script=script)
    lifecycle.campaign_submit(actor=world.campaigner, campaign=campaign)
    with pytest.raises(ValidationError):
        lifecycle.campaign_update(actor=world.campaigner, campaign=campaign, name="改不了")


def test_the_calendar_starts_and_ends_campaigns_once(world):
    today = dt.date(2026, 6, 1)
    due = _built(world)
    lifecycle.campaign_update(actor=world.campaigner, campaign=due, starts_on=today, ends_on=dt.date(2026, 6, 30))
    over = _built(world)
    lifecycle.campaign_update(
        actor=world.campaigner, campaign=over, starts_on=dt.date(2026, 5, 1), ends_on=dt.date(2026, 5, 31)
    )
    for campaign in (due, over):
        lifecycle.campaign_submit(actor=world.campaigner, campaign=campaign)
        lifecycle.campaign_approve_launch(actor=world.campaigner2, campaign=campaign)
    assert lifecycle.campaigns_advance_calendar(today=today) == {"started": 1, "ended": 1}
    assert lifecycle.campaigns_advance_calendar(today=today) == {"started": 0, "ended": 0}
    assert Campaign.objects.get(pk=due.pk).status == CampaignStatus.RUNNING
    assert Campaign.objects.get(pk=over.pk).status == CampaignStatus.ENDED
