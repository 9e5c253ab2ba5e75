"""Referrals: high leads handed to a branch, and everything the branch side records.

- ``Referral``: created from the advisor's side (``calls`` routes a confirmed high lead
  here through ``referrals.services.referral_create``); reviewed, assigned and worked by
  the branch. Deadlines are computed in working days (``org.calendar``).
- ``FollowUp``: what a branch relationship manager did about a referral (contact
  attempts, meeting booked, visit, outcome), with the note the advisor reads.
- ``ReferralEvent``: the referral's status history (one row per transition), which the
  detail page shows as a timeline and the dashboard measures from.
- ``SlaBreach``: one row per referral and SLA stage once it is overdue; the unique
  constraint is what makes the beat task safe to run twice.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.access import FencedExists, RestrictedQuerySet
from leads.models import Lead
from org.models import StaffProfile
from org.roles import BRANCH_ROLES, Role, role_of

# The longest note a person writes on a referral (a reject explanation, a follow-up, an
# outcome): a paragraph. A 10,000-character note made the detail page 18,000 px tall.
NOTE_MAX = 1000


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    CONTACTED = "contacted", _("Contacted")
    MEETING = "meeting", _("Meeting booked")
    CONVERTED = "converted", pgettext_lazy("referral status", "Converted")
    LOST = "lost", pgettext_lazy("referral status", "Lost")
    RETURNED = "returned", _("Returned to advisor")


class ReferralQuerySet(RestrictedQuerySet):
    """``restrict(user, action)``: the referrals ``user`` may ``action``; the same rule,
    object by object, is ``referrals.access`` (tested to agree in tests/test_access.py).

    - ``view``: branch staff their branch's, an advisor the ones they made, a team lead
      the team's (made by an advisor of the team, or about a lead of the team),
      compliance and administrators all;
    - ``decide`` (accept, reject, reassign): the managers of the receiving branch;
    - ``work`` (follow up, record the outcome, return): the relationship manager it is
      assigned to and the managers of the receiving branch.

    Administrators may do everything. Whether the referral's status allows the action
    is the service's check, not part of the rule.
    """

    ACTIONS = ("view", "decide", "work")

    def _restrict(self, user, action: str):
        role = role_of(user)
        if role == Role.ADMIN:
            return self.all()
        profile = getattr(user, "staff_profile", None)
        branch_id = getattr(profile, "branch_id", None)
        if action == "view":
            if role == Role.COMPLIANCE:
                return self.all()
            if role in BRANCH_ROLES and branch_id is not None:
                return self.filter(branch_id=branch_id)
            if role == Role.ADVISOR:
                return self.filter(from_advisor=user)
            if role == Role.TEAM_LEAD:  # a team lead always has a team (a database constraint)
                return self.filter(_team_q(profile.team_id))
            return self.none()
        if branch_id is None:
            return self.none()
        if role == Role.BRANCH_MANAGER:
            return self.filter(branch_id=branch_id)
        if role == Role.BRANCH_RM and action == "work":
            return self.filter(branch_id=branch_id, assigned_rm=user)
        return self.none()


def _team_q(team_id: int):
    """A team's referrals: made by one of its advisors, or about one of its leads.

    The fast form of ``Q(from_advisor__staff_profile__team_id=t) | Q(lead__team_id=t)``:
    the team's advisors as a small id set (their staff profiles), and the lead side as a
    per-referral probe of the lead's primary key (``core.access.FencedExists`` on
    PostgreSQL) rather than a hash of the team's 100,000 leads; test_access checks both
    forms give the same rows.
    """
    team_leads = Lead.objects.filter(pk=models.OuterRef("lead_id"), team_id=team_id)
    of_team_lead = FencedExists(team_leads) if connection.vendor == "postgresql" else models.Exists(team_leads)
    return models.Q(from_advisor_id__in=StaffProfile.objects.filter(team_id=team_id).values("user_id")) | models.Q(
        of_team_lead
    )


class RejectReason(models.TextChoices):
    ALREADY_SERVED = "already_served", _("Already served by the branch")
    UNREACHABLE = "unreachable", _("Customer not reachable")
    NOT_A_FIT = "not_a_fit", _("Not a fit")
    INSUFFICIENT_INFO = "insufficient_info", _("Insufficient information")
    OTHER = "other", _("Other")


class Referral(models.Model):
    """A high lead handed to a branch (seed 002: high-score leads go to offline managers).

    Created by the advisor's side (queues); reviewed, assigned and worked by the branch
    side (referrals). Deadlines are computed in working days when created/accepted.
    """

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("lead"))
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="referrals", verbose_name=_("customer")
    )
    branch = models.ForeignKey(
        "org.Branch", on_delete=models.PROTECT, related_name="referrals", verbose_name=_("branch")
    )
    branch_reason = models.CharField(_("reason for another branch"), max_length=200, blank=True)
    from_advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="referrals_made",
        verbose_name=_("referring advisor"),
    )
    assigned_rm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals_assigned",
        verbose_name=_("relationship manager"),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.PENDING
    )
    needs_summary = models.TextField(_("needs summary"), blank=True, max_length=NOTE_MAX)
    ai_highlights = models.JSONField(_("AI-bot highlights"), default=list, blank=True)
    score = models.FloatField(_("score"), null=True, blank=True)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    # [{"product_id": 1, "code": "...", "name": "...", "allowed": true, "reasons": ["..."]}]
    products_of_interest = models.JSONField(_("products of interest"), default=list, blank=True)
    preferred_contact_time = models.CharField(_("preferred contact time"), max_length=100, blank=True)
    review_due_at = models.DateTimeField(_("review due"), null=True, blank=True)
    first_contact_due_at = models.DateTimeField(_("first contact due"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    rejected_at = models.DateTimeField(_("rejected at"), null=True, blank=True)
    reject_reason = models.CharField(_("reject reason"), max_length=20, choices=RejectReason.choices, blank=True)
    reject_note = models.TextField(_("reject note"), blank=True, max_length=NOTE_MAX)
    first_contacted_at = models.DateTimeField(_("first contacted at"), null=True, blank=True)
    converted_product = models.ForeignKey(
        "customers.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_amount = models.DecimalField(
        _("converted amount"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    outcome_note = models.TextField(_("outcome note"), blank=True, max_length=NOTE_MAX)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    overdue_at = models.DateTimeField(_("marked overdue at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["branch", "status", "-created_at"], name="ref_branch_status_idx"),
            models.Index(fields=["from_advisor", "-created_at"], name="ref_advisor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.branch_id} {self.status}"

    @property
    def is_overdue(self) -> bool:
        """Past its review or first-contact deadline now, the same test as the Overdue
        tab (``selectors._overdue_q``); ``overdue_at`` is when the SLA sweep noticed."""
        now = timezone.now()
        if self.status == ReferralStatus.PENDING:
            return bool(self.review_due_at and self.review_due_at < now)
        if self.status == ReferralStatus.ACCEPTED and self.first_contacted_at is None:
            return bool(self.first_contact_due_at and self.first_contact_due_at < now)
        return False


class ReferralPartQuerySet(RestrictedQuerySet):
    """Rows that hang off a referral (follow-ups, events, SLA breaches): whoever may
    see the referral sees them."""

    def _restrict(self, user, action: str):
        return self.filter(referral__in=Referral.objects.restrict(user, action))


class FollowUpKind(models.TextChoices):
    ATTEMPT = "attempt", _("Contact attempt")
    MEETING = "meeting", _("Meeting booked")
    VISIT = "visit", _("Visit")
    NOTE = "note", _("Note")
    OUTCOME = "outcome", _("Outcome")


class FollowUp(models.Model):
    referral = models.ForeignKey(
        Referral, on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("referral")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=FollowUpKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    occurred_at = models.DateTimeField(_("occurred at"))
    reached = models.BooleanField(_("customer reached"), null=True, blank=True)
    meeting_at = models.DateTimeField(_("meeting at"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=NOTE_MAX)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ReferralPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["referral", "-occurred_at"], name="ref_followup_idx")]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.kind} {self.occurred_at:%Y-%m-%d}"


class ReferralEvent(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events", verbose_name=_("referral"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("by")
    )
    verb = models.CharField(_("action"), max_length=32)
    from_status = models.CharField(_("from status"), max_length=16, blank=True)
    to_status = models.CharField(_("to status"), max_length=16, blank=True)
    note = models.TextField(_("note"), blank=True, max_length=NOTE_MAX)
    occurred_at = models.DateTimeField(_("occurred at"), auto_now_add=True)

    objects = ReferralPartQuerySet.as_manager()

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
        Referral, on_delete=models.CASCADE, related_name="sla_breaches", verbose_name=_("referral")
    )
    stage = models.CharField(_("SLA stage"), max_length=16, choices=SlaStage.choices)
    due_at = models.DateTimeField(_("due at"))
    breached_at = models.DateTimeField(_("marked overdue at"))
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    objects = ReferralPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("SLA breach")
        verbose_name_plural = _("SLA breaches")
        ordering = ["-breached_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["referral", "stage"], name="sla_breach_once_per_stage")]

    def __str__(self) -> str:
        return f"{self.referral_id} {self.stage}"
