"""Leads, branch referrals and the outcomes scoring learns from.

The foundation defines the records and their invariants; the scoring, queue and
referral features add behaviour through services.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from workbench.roles import ALL_SEEING_ROLES, BRANCH_ROLES, Role, role_of


class Grade(models.TextChoices):
    HIGH = "high", _("High")
    MID = "mid", _("Mid")
    LOW = "low", _("Low")


class LeadSource(models.TextChoices):
    MODEL = "model", _("Scoring model")
    RULES = "rules", _("Scoring rules")
    AI_BOT = "ai_bot", _("AI-bot conversation")
    MANUAL = "manual", _("Manual")
    CAMPAIGN = "campaign", _("Campaign")


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    CONFIRMED = "confirmed", _("Confirmed")
    CONTACTING = "contacting", _("Contacting")
    NURTURING = "nurturing", _("Nurturing")
    REFERRED = "referred", _("Referred")
    POOLED = "pooled", _("Incubation pool")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    CLOSED = "closed", _("Closed")


OPEN_LEAD_STATUSES = (
    LeadStatus.NEW,
    LeadStatus.CONFIRMED,
    LeadStatus.CONTACTING,
    LeadStatus.NURTURING,
    LeadStatus.REFERRED,
    LeadStatus.POOLED,
)


class LeadQuerySet(models.QuerySet):
    def open(self) -> LeadQuerySet:
        return self.filter(status__in=OPEN_LEAD_STATUSES)

    def visible_to(self, user) -> LeadQuerySet:
        """Leads ``user`` may see: advisors and team leads their team's (and an
        advisor's own book), branch staff the leads referred to their branch,
        compliance and administrators all."""
        role = role_of(user)
        if role in ALL_SEEING_ROLES:
            return self.all()
        profile = getattr(user, "staff_profile", None)
        if role == Role.ADVISOR:
            return self.filter(
                models.Q(team_id=profile.team_id) | models.Q(owner=user) | models.Q(customer__owner=user)
            )
        if role == Role.TEAM_LEAD:
            return self.filter(
                models.Q(team_id=profile.team_id) | models.Q(owner__staff_profile__team_id=profile.team_id)
            )
        if role in BRANCH_ROLES:
            referred = Referral.objects.filter(lead_id=models.OuterRef("pk"), branch_id=profile.branch_id)
            return self.filter(models.Exists(referred))
        return self.none()


class Lead(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="leads", verbose_name=_("customer")
    )
    team = models.ForeignKey(
        "customers.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads", verbose_name=_("team")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        verbose_name=_("advisor"),
    )
    source = models.CharField(_("source"), max_length=16, choices=LeadSource.choices, default=LeadSource.MODEL)
    score = models.FloatField(_("score"), null=True, blank=True)
    proposed_grade = models.CharField(_("proposed grade"), max_length=8, choices=Grade.choices)
    confirmed_grade = models.CharField(_("confirmed grade"), max_length=8, choices=Grade.choices, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=LeadStatus.choices, default=LeadStatus.NEW)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    model_version = models.CharField(_("model version"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(status__in=OPEN_LEAD_STATUSES),
                name="lead_one_open_per_customer",
            )
        ]
        indexes = [
            models.Index(fields=["team", "status", "-score"], name="lead_team_status_idx"),
            models.Index(fields=["owner", "status", "-score"], name="lead_owner_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.proposed_grade} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_LEAD_STATUSES


class ReferralStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    CONTACTED = "contacted", _("Contacted")
    MEETING = "meeting", _("Meeting booked")
    CONVERTED = "converted", _("Converted")
    LOST = "lost", _("Lost")
    RETURNED = "returned", _("Returned to advisor")


class ReferralQuerySet(models.QuerySet):
    def visible_to(self, user) -> ReferralQuerySet:
        """Referrals ``user`` may see: branch staff their branch's, an advisor the ones
        they made, a team lead their team's, compliance and administrators all."""
        role = role_of(user)
        if role in ALL_SEEING_ROLES:
            return self.all()
        profile = getattr(user, "staff_profile", None)
        if role in BRANCH_ROLES:
            return self.filter(branch_id=profile.branch_id)
        if role == Role.ADVISOR:
            return self.filter(from_advisor=user)
        if role == Role.TEAM_LEAD:
            return self.filter(
                models.Q(from_advisor__staff_profile__team_id=profile.team_id) | models.Q(lead__team_id=profile.team_id)
            )
        return self.none()


class RejectReason(models.TextChoices):
    ALREADY_SERVED = "already_served", _("Already served by the branch")
    UNREACHABLE = "unreachable", _("Customer not reachable")
    NOT_A_FIT = "not_a_fit", _("Not a fit")
    INSUFFICIENT_INFO = "insufficient_info", _("Insufficient information")
    OTHER = "other", _("Other")


class Referral(models.Model):
    """A high lead handed to a branch (seed 002: high-score leads go to offline managers).

    Created by the advisor's side (queues); reviewed, assigned and worked by the branch
    side (leads.referrals). Deadlines are computed in working days when created/accepted.
    """

    lead = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="referrals", verbose_name=_("lead"))
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="referrals", verbose_name=_("customer")
    )
    branch = models.ForeignKey(
        "customers.Branch", on_delete=models.PROTECT, related_name="referrals", verbose_name=_("branch")
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
    needs_summary = models.TextField(_("needs summary"), blank=True)
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
    reject_note = models.TextField(_("reject note"), blank=True)
    first_contacted_at = models.DateTimeField(_("first contacted at"), null=True, blank=True)
    converted_product = models.ForeignKey(
        "customers.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_amount = models.DecimalField(
        _("converted amount"), max_digits=18, decimal_places=2, null=True, blank=True
    )
    outcome_note = models.TextField(_("outcome note"), blank=True)
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


class CustomerScore(models.Model):
    """The current propensity score of a customer: written in bulk by rescoring.

    ``reasons`` is a list of ``{"code": ..., "text": ..., "weight": ...}`` with text in
    Chinese (the top feature contributions in words); ``method`` says whether a trained
    model or the cold-start rules produced it.
    """

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="score", primary_key=True
    )
    score = models.FloatField(_("score"))
    grade = models.CharField(_("grade"), max_length=8, choices=Grade.choices)
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    model_version = models.CharField(_("model version"), max_length=64, blank=True)
    method = models.CharField(_("method"), max_length=8, choices=[("model", _("Model")), ("rules", _("Rules"))])
    scored_at = models.DateTimeField(_("scored at"))

    class Meta:
        verbose_name = _("customer score")
        verbose_name_plural = _("customer scores")
        indexes = [models.Index(fields=["grade", "-score"], name="score_grade_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.score:.1f} {self.grade}"


class OutcomeSource(models.TextChoices):
    CALL = "call", _("Call log")
    IMPORT = "import", _("Historical import")
    DEMO = "demo", _("Demo data")


class Outcome(models.Model):
    """One past contact and what came of it, with the features as they were then.

    ``features`` is the point-in-time snapshot the model trains on; fields known only
    after the contact (call duration, ...) never go in it.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outcomes",
        verbose_name=_("customer"),
    )
    contacted_at = models.DateTimeField(_("contacted at"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="outcomes"
    )
    product = models.ForeignKey(
        "customers.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="outcomes"
    )
    converted = models.BooleanField(_("converted"))
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, null=True, blank=True)
    features = models.JSONField(_("features at contact time"), default=dict)
    source = models.CharField(_("source"), max_length=8, choices=OutcomeSource.choices, default=OutcomeSource.CALL)
    external_key = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("outcome")
        verbose_name_plural = _("outcomes")
        ordering = ["-contacted_at", "-id"]
        indexes = [models.Index(fields=["customer", "-contacted_at"], name="outcome_cust_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.contacted_at} {'+' if self.converted else '-'}"

    @property
    def amount_or_zero(self) -> Decimal:
        return self.amount or Decimal("0")
