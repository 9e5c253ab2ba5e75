"""Writes of campaigns. Atomic, actor first, audited."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from compliance.models import ScriptVersion, VersionStatus
from core.audit import audit_record

from .access import can_change_campaigns
from .models import Campaign


@transaction.atomic
def campaign_attach_script(*, actor, campaign: Campaign, version: ScriptVersion) -> Campaign:
    """Attach a script to a campaign: only the script's current approved version may be
    given. The campaign then follows the script: a newly approved version replaces the
    old one without touching the campaign."""
    if not can_change_campaigns(actor):
        raise PermissionDenied(_("You may not change campaigns."))
    version = ScriptVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != VersionStatus.APPROVED:
        raise ValidationError(_("Only the approved version of a script can be attached to a campaign."))
    campaign.script_id = version.script_id
    campaign.save(update_fields=["script"])
    audit_record(
        actor=actor,
        verb="campaign.attach_script",
        target=campaign,
        details={"script": version.script_id, "script_version": version.pk},
    )
    return campaign
