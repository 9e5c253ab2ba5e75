"""Campaigns use only the approved version of a compliance script."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from campaigns import services as campaign_services
from campaigns.models import Campaign
from compliance.services import scripts as services
from compliance.tests.test_services import draft
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_only_the_approved_version_is_attached_to_a_campaign(world):
    campaign = Campaign.objects.create(code="CP1", name="到期续投")
    v1 = draft(world)
    with pytest.raises(ValidationError):
        campaign_services.campaign_attach_script(actor=world.lead_a, campaign=campaign, version=v1)
    services.script_submit_for_review(actor=world.advisor_a, version=v1)
    services.script_approve(actor=world.compliance, version=v1, acknowledge_medium=True)
    campaign_services.campaign_attach_script(actor=world.lead_a, campaign=campaign, version=v1)
    assert Campaign.objects.get(pk=campaign.pk).script_version == v1
    with pytest.raises(PermissionDenied):
        campaign_services.campaign_attach_script(actor=world.advisor_a, campaign=campaign, version=v1)
    assert AuditEvent.objects.filter(verb="campaign.attach_script").count() == 1
    # a newly approved version replaces the retired one on the campaign
    v2 = services.script_revise(actor=world.advisor_a, script=v1.script)
    services.script_submit_for_review(actor=world.advisor_a, version=v2)
    services.script_approve(actor=world.compliance, version=v2, acknowledge_medium=True)
    assert Campaign.objects.get(pk=campaign.pk).script_version == v2
