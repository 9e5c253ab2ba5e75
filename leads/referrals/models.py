"""Models of the branch side of referrals; the Referral itself is leads.models.Referral.

- ``FollowUp``: what a branch relationship manager did about a referral (contact
  attempts, meeting booked, visit, outcome), with the note the advisor reads.
- ``ReferralEvent``: the referral's status history (one row per transition), which the
  detail page shows as a timeline and the dashboard measures from.
- ``SlaBreach``: one row per referral and SLA stage once it is overdue; the unique
  constraint is what makes the beat task safe to run twice.
- ``Holiday``: the working-day calendar (public holidays and make-up working days, 调休).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class FollowUpKind(models.TextChoices):
    ATTEMPT = "attempt", _("Contact attempt")
    MEETING = "meeting", _("Meeting booked")
    VISIT = "visit", _("Visit")
    NOTE = "note", _("Note")
    OUTCOME = "outcome", _("Outcome")


class FollowUp(models.Model):
    referral = models.ForeignKey(
        "leads.Referral", on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("referral")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=FollowUpKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    reached = models.BooleanField(_("customer reached"), null=True, blank=True)
    meeting_at = models.DateTimeField(_("meeting at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["referral", "-occurred_at"], name="ref_followup_idx")]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.kind} {self.occurred_at:%Y-%m-%d}"


class ReferralEvent(models.Model):
    referral = models.ForeignKey(
        "leads.Referral", on_delete=models.CASCADE, related_name="events", verbose_name=_("referral")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    verb = models.CharField(_("action"), max_length=32)
    from_status = models.CharField(_("from status"), max_length=16, blank=True)
    to_status = models.CharField(_("to status"), max_length=16, blank=True)
    note = models.TextField(_("note"), blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), auto_now_add=True)

    class Meta:
        verbose_name = _("referral event")
        verbose_name_plural = _("referral events")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["referral", "-occurred_at"], name="ref_event_idx")]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.verb}"


class SlaStage(models.TextChoices):
    REVIEW = "review", _("Branch review")
    FIRST_CONTACT = "first_contact", _("First contact")


class SlaBreach(models.Model):
    referral = models.ForeignKey(
        "leads.Referral", on_delete=models.CASCADE, related_name="sla_breaches", verbose_name=_("referral")
    )
    stage = models.CharField(_("SLA stage"), max_length=16, choices=SlaStage.choices)
    due_at = models.DateTimeField(_("due at"))
    breached_at = models.DateTimeField(_("marked overdue at"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("SLA breach")
        verbose_name_plural = _("SLA breaches")
        ordering = ["-breached_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["referral", "stage"], name="sla_breach_once_per_stage")]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.stage}"


class HolidayKind(models.TextChoices):
    HOLIDAY = "holiday", _("Public holiday (no work)")
    WORKDAY = "workday", _("Make-up working day")


class Holiday(models.Model):
    """A calendar exception: a weekday off, or a weekend day worked (调休)."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=8, choices=HolidayKind.choices, default=HolidayKind.HOLIDAY)
    name = models.CharField(_("name"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("holiday calendar")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
