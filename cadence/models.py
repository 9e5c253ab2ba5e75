"""The 12-4-2-1 targets (one row, edited by administrators) and the planned calls the
cadence made to keep customers on pace."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.models import Tier
from leads.models import PlannedCall


def default_tiers() -> list[str]:
    return [Tier.WEALTH.value, Tier.PRIVATE.value]


class CadenceTargets(models.Model):
    """The yearly touches each customer of ``tiers`` should get (ICBC private banking's
    12-4-2-1, seed 004): practice, not law, so administrators change them. One row
    (pk 1); until it is saved the defaults apply (``cadence.selectors.targets_current``).

    Reviews are themed interactions too, and face-to-face reviews are reviews: the
    counts nest (``face_to_face`` ≤ ``reviews`` ≤ ``themed``)."""

    tiers = models.JSONField(_("customer tiers"), default=default_tiers)
    themed = models.PositiveSmallIntegerField(_("themed interactions a year"), default=12)
    reviews = models.PositiveSmallIntegerField(_("asset-allocation reviews a year"), default=4)
    face_to_face = models.PositiveSmallIntegerField(_("face-to-face reviews a year"), default=2)
    reports = models.PositiveSmallIntegerField(_("written wealth reports a year"), default=1)
    plan_ahead_days = models.PositiveSmallIntegerField(_("plan a call this many days before a touch is due"), default=7)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("service cadence targets")
        verbose_name_plural = _("service cadence targets")

    def __str__(self) -> str:
        return f"{self.themed}-{self.reviews}-{self.face_to_face}-{self.reports}"


class CadencePlan(models.Model):
    """A planned call the cadence created for a customer's next touch. While its planned
    call is still planned the customer gets no other (what makes the beat task safe to
    run again)."""

    planned_call = models.OneToOneField(
        PlannedCall, on_delete=models.CASCADE, related_name="cadence_plan", verbose_name=_("planned call")
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="+", verbose_name=_("customer")
    )
    touch = models.CharField(_("touch"), max_length=16)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cadence planned call")
        verbose_name_plural = _("cadence planned calls")
        indexes = [models.Index(fields=["customer", "created_at"], name="cadence_plan_cust_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.touch}"
