"""Calls: the outcome taxonomy (dispositions) and the log of every call an advisor made.

A call is logged on a lead (``leads.Lead``) through ``calls.services.call_log_create``,
which also writes the phone interaction (customers), the outcome scoring learns from
(scoring) and, for a referral, the referral (referrals).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.access import RestrictedQuerySet
from customers.models import TouchKind
from leads.models import Lead
from org.roles import ALL_SEEING_ROLES, Role, role_of
from scoring.models import Outcome


class Disposition(models.Model):
    """The configurable call-outcome taxonomy (edited in the admin).

    ``connected`` means someone picked up; ``effective`` marks a real conversation with the
    customer, the numerator of 有效通联率 (effective conversations ÷ dialled calls).
    """

    code = models.SlugField(_("code"), max_length=32, unique=True)
    label = models.CharField(pgettext_lazy("outcome name", "label"), max_length=60)
    label_en = models.CharField(_("English label"), max_length=60, blank=True)
    connected = models.BooleanField(_("connected"), default=False)
    effective = models.BooleanField(_("effective conversation"), default=False)
    requests_callback = models.BooleanField(_("asks for a callback"), default=False)
    active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("call disposition")
        verbose_name_plural = _("call dispositions")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        if self.label_en and (get_language() or "").startswith("en"):
            return self.label_en
        return self.label


class InterestLevel(models.TextChoices):
    NONE = "none", _("No interest")
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class NextAction(models.TextChoices):
    NONE = "none", _("No further action")
    CALLBACK = "callback", _("Call back at a time")
    REFER = "refer", _("Refer to the branch")
    NURTURE = "nurture", _("Nurture")
    WON = "won", _("Won (sold)")
    LOST = "lost", _("Lost")
    OPT_OUT = "opt_out", _("Customer opts out of calls")


class CallPurpose(models.TextChoices):
    MARKETING = "marketing", _("Marketing call")
    SERVICE = "service", _("Service call")


class LostReason(models.TextChoices):
    NO_NEED = "no_need", _("No need")
    NO_FUNDS = "no_funds", _("No funds available")
    PREFERS_OTHER_BANK = "other_bank", _("Prefers another institution")
    PRODUCT_UNSUITABLE = "unsuitable", _("No suitable product")
    UNREACHABLE = "unreachable", _("Repeatedly unreachable")
    OTHER = "other", _("Other")


class CallLogQuerySet(RestrictedQuerySet):
    """Call logs: an advisor's own, a team lead's team's advisors', everyone's for
    compliance and administrators (``calls.access.can_view_call_log``)."""

    def _restrict(self, user, action: str):
        role = role_of(user)
        if role in ALL_SEEING_ROLES:
            return self.all()
        if role == Role.ADVISOR:
            return self.filter(advisor=user)
        if role == Role.TEAM_LEAD:
            return self.filter(advisor__staff_profile__team_id=user.staff_profile.team_id)
        return self.none()


class CallLog(models.Model):
    """One outbound call an advisor made and logged. ``idempotency_key`` comes from the
    form (or API client), so a double submit or a retry creates one row."""

    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls", verbose_name=_("lead")
    )
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="call_logs", verbose_name=_("customer")
    )
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="call_logs", verbose_name=_("advisor")
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    purpose = models.CharField(_("purpose"), max_length=16, choices=CallPurpose.choices, default=CallPurpose.MARKETING)
    service_reason = models.CharField(_("service-call reason"), max_length=300, blank=True)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (s)"), default=0)
    disposition = models.ForeignKey(
        Disposition, on_delete=models.PROTECT, related_name="calls", verbose_name=_("disposition")
    )
    interest = models.CharField(_("interest"), max_length=8, choices=InterestLevel.choices, default=InterestLevel.NONE)
    products = models.ManyToManyField("customers.Product", blank=True, related_name="+", verbose_name=_("products"))
    # Suitability verdicts at call time: [{"product_id", "code", "name", "allowed", "reasons"}].
    product_checks = models.JSONField(_("suitability at call time"), default=list, blank=True)
    needs = models.ManyToManyField("customers.Tag", blank=True, related_name="+", verbose_name=_("needs confirmed"))
    NOTES_MAX = 4000
    notes = models.TextField(_("notes"), blank=True, max_length=NOTES_MAX)
    next_action = models.CharField(_("next action"), max_length=16, choices=NextAction.choices, default="none")
    callback_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    won_product = models.ForeignKey(
        "customers.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    won_amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, null=True, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=16, choices=LostReason.choices, blank=True)
    # The approved script shown on the call screen (compliance.ScriptVersion id; kept as a
    # plain id so the call record survives script archiving).
    script_version_id = models.PositiveBigIntegerField(_("script version"), null=True, blank=True)
    interaction = models.ForeignKey(
        "customers.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the call was for the 12-4-2-1 cadence; copied to the call's interaction, which
    # is what the cadence counts (customers.TouchKind).
    touch_kind = models.CharField(
        _("kind of touch"), max_length=8, choices=TouchKind.choices, blank=True, default="", db_default=""
    )
    outcome = models.ForeignKey(Outcome, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = CallLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("call log")
        verbose_name_plural = _("call logs")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["advisor", "started_at"], name="call_adv_time_idx"),
            models.Index(fields=["customer", "-started_at"], name="call_cust_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.started_at:%Y-%m-%d %H:%M} {self.disposition_id}"
