"""Campaigns (经营策略): a group of customers reached through channels with approved words.

Only the record exists so far; segments, journeys, the contact ledger and call tasks come
with the campaigns issue. A campaign's script must be an approved compliance version.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from compliance.models import ScriptVersion, VersionStatus
from customers.models import Channel


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


class Campaign(models.Model):
    code = models.CharField(_("campaign code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    segment = models.JSONField(_("segment definition"), default=dict, blank=True)
    product = models.ForeignKey(
        "customers.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    status = models.CharField(_("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    # The script the campaign's words come from. Only its approved version is ever used
    # (``script_version``); approving a new version moves the campaign with it.
    script = models.ForeignKey(
        "compliance.Script",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("script"),
    )
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def script_version(self):
        """The version of the campaign's script in use now (None without an approved one)."""
        if self.script_id is None:
            return None
        return ScriptVersion.objects.filter(script_id=self.script_id, status=VersionStatus.APPROVED).first()
