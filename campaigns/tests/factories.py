"""Factories of campaigns tests: an approved script, and a campaign ready to submit."""

from __future__ import annotations

from campaigns.models import Campaign, CampaignStatus, CampaignStep, StepKind
from compliance.models import ScriptPurpose
from compliance.services import scripts as script_services
from compliance.tests.factories import CLEAN_WEALTH_BODY
from customers.tests.factories import ProductFactory


def approved_script(world, *, title="到期提醒短信", purpose=ScriptPurpose.SERVICE, body=CLEAN_WEALTH_BODY):
    """A script written by a team lead and approved by compliance."""
    version = script_services.script_create(
        actor=world.lead_a, title=title, purpose=purpose, body=body, product=ProductFactory(risk_level=2)
    )
    script_services.script_submit_for_review(actor=world.lead_a, version=version)
    script_services.script_approve(actor=world.compliance, version=version, acknowledge_medium=True)
    return version.script


def draft_script(world, *, title="外呼话术草稿", author=None):
    """A script with only a draft version (not usable yet)."""
    version = script_services.script_create(
        actor=author or world.lead_a,
        title=title,
        purpose=ScriptPurpose.PRODUCT_INTRO,
        body=CLEAN_WEALTH_BODY,
        product=ProductFactory(risk_level=2),
    )
    return version.script


def make_campaign(world, *, author=None, status=CampaignStatus.DRAFT, script=None, code=None, name="到期续投提醒"):
    """A campaign with one SMS step (rows written directly: the services are tested on their own)."""
    n = Campaign.objects.count() + 1
    campaign = Campaign.objects.create(
        code=code or f"T{n:05d}", name=name, status=status, created_by=author or world.campaigner
    )
    CampaignStep.objects.create(campaign=campaign, position=1, kind=StepKind.SEND, channel="sms", script=script)
    return campaign
