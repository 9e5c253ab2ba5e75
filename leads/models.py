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
    # When the nurture cadence wants the next touch (a copy of NurturePlan.next_touch_at,
    # kept by leads.services, so the Nurturing queue sorts on an index).
    next_touch_at = models.DateTimeField(_("next touch"), null=True, blank=True)
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
            # The queues' bounded counts and "unclaimed or mine" filter read owner from the
            # index (index-only scans): added by the queues feature.
            models.Index(fields=["team", "status", "-score", "id"], include=["owner"], name="lead_queue_idx"),
            models.Index(fields=["owner", "status", "next_touch_at"], name="lead_owner_touch_idx"),
            models.Index(fields=["team", "status", "next_touch_at"], name="lead_team_touch_idx"),
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
        db_index=False,  # covered by outcome_cust_idx
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


# --- Queues and calls (issue 5) ------------------------------------------------------


class GradeOverrideReason(models.TextChoices):
    """Why an advisor confirmed a grade other than the proposed one (training signal)."""

    TRANSCRIPT_STRONGER = "transcript_stronger", _("AI-bot conversation shows stronger intent")
    TRANSCRIPT_WEAKER = "transcript_weaker", _("AI-bot conversation shows weaker intent")
    ASSETS_CHANGED = "assets_changed", _("Assets changed since scoring")
    RECENT_CONTACT = "recent_contact", _("Recent contact changes the picture")
    CUSTOMER_SAID = "customer_said", _("Customer stated needs directly")
    DATA_WRONG = "data_wrong", _("Customer data is wrong or stale")
    NOT_SUITABLE = "not_suitable", _("No suitable product for the customer")
    OTHER = "other", _("Other")


class LeadTransition(models.Model):
    """One change of a lead's status: the lifecycle history, with who and why."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("lead"))
    from_status = models.CharField(_("from"), max_length=16, choices=LeadStatus.choices)
    to_status = models.CharField(_("to"), max_length=16, choices=LeadStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), auto_now_add=True)

    class Meta:
        verbose_name = _("lead transition")
        verbose_name_plural = _("lead transitions")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["lead", "-occurred_at"], name="lead_trans_idx")]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.from_status}→{self.to_status}"


class GradeDecision(models.Model):
    """The grade an advisor confirmed, against the proposed one (override rate per advisor)."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="grade_decisions", verbose_name=_("lead"))
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("advisor")
    )
    proposed_grade = models.CharField(_("proposed grade"), max_length=8, choices=Grade.choices)
    confirmed_grade = models.CharField(_("confirmed grade"), max_length=8, choices=Grade.choices)
    overridden = models.BooleanField(_("overridden"), default=False)
    reason_code = models.CharField(_("override reason"), max_length=32, choices=GradeOverrideReason.choices, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    score = models.FloatField(_("score"), null=True, blank=True)
    model_version = models.CharField(_("model version"), max_length=64, blank=True)
    decided_at = models.DateTimeField(_("decided at"), auto_now_add=True)

    class Meta:
        verbose_name = _("grade decision")
        verbose_name_plural = _("grade decisions")
        ordering = ["-decided_at", "-id"]
        indexes = [models.Index(fields=["advisor", "decided_at"], name="grade_dec_adv_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(overridden=False) | ~models.Q(reason_code=""), name="grade_override_needs_reason"
            )
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.proposed_grade}→{self.confirmed_grade}"


class Disposition(models.Model):
    """The configurable call-outcome taxonomy (edited in the admin).

    ``connected`` means someone picked up; ``effective`` marks a real conversation with the
    customer, the numerator of 有效通联率 (effective conversations ÷ dialled calls).
    """

    code = models.SlugField(_("code"), max_length=32, unique=True)
    label = models.CharField(_("label"), max_length=60)
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
        from django.utils.translation import get_language

        if self.label_en and (get_language() or "").startswith("en"):
            return self.label_en
        return self.label


class InterestLevel(models.TextChoices):
    NONE = "none", _("None")
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
    notes = models.TextField(_("notes"), blank=True)
    next_action = models.CharField(_("next action"), max_length=16, choices=NextAction.choices, default="none")
    callback_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    won_product = models.ForeignKey(
        "customers.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    won_amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, null=True, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=16, choices=LostReason.choices, blank=True)
    # The approved script shown on the call screen (campaigns.ScriptVersion id; kept as a
    # plain id so the call record survives script archiving).
    script_version_id = models.PositiveBigIntegerField(_("script version"), null=True, blank=True)
    interaction = models.ForeignKey(
        "customers.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.ForeignKey(Outcome, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

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


class NurturePlan(models.Model):
    """The cadence of a mid lead: ``touches_planned`` touches over ``period_days``."""

    lead = models.OneToOneField(Lead, on_delete=models.CASCADE, related_name="nurture_plan", verbose_name=_("lead"))
    advisor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    touches_planned = models.PositiveSmallIntegerField(_("planned touches"))
    period_days = models.PositiveSmallIntegerField(_("period (days)"))
    started_at = models.DateTimeField(_("started at"))
    touches_done = models.PositiveSmallIntegerField(_("touches done"), default=0)
    next_touch_at = models.DateTimeField(_("next touch"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("nurture plan")
        verbose_name_plural = _("nurture plans")

    def __str__(self) -> str:
        return f"{self.lead_id} {self.touches_done}/{self.touches_planned}"


class PlannedCallKind(models.TextChoices):
    CALLBACK = "callback", _("Callback")
    NURTURE = "nurture", _("Nurture touch")
    CAMPAIGN = "campaign", _("Campaign call task")


class PlannedCallStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class PlannedCall(models.Model):
    """A call an advisor should make at a time: a callback, a nurture touch or a campaign
    task. Today's calls is the advisor's planned calls due today (or overdue); the
    outbound execution rate (外呼执行率) is planned calls made ÷ planned calls."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="planned_calls", verbose_name=_("lead"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="planned_calls", verbose_name=_("advisor")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=PlannedCallKind.choices)
    due_at = models.DateTimeField(_("due"))
    status = models.CharField(
        _("status"), max_length=16, choices=PlannedCallStatus.choices, default=PlannedCallStatus.PLANNED
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    touch_no = models.PositiveSmallIntegerField(_("touch number"), null=True, blank=True)
    call_log = models.ForeignKey(CallLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("planned call")
        verbose_name_plural = _("planned calls")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["advisor", "status", "due_at"], name="planned_adv_due_idx"),
            models.Index(fields=["lead", "status"], name="planned_lead_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind} {self.due_at:%Y-%m-%d %H:%M}"
