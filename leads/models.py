"""Leads: the record of a customer worth working, its lifecycle and its plans.

A lead is proposed by scoring (or, later, a campaign), confirmed and worked by a remote
advisor (``calls``), and may be referred to a branch (``referrals``). This app holds the
lead, its status history, the advisor's grade decisions, the nurture cadence of mid
leads and the calls planned on it; the apps above move it only through
``leads.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection, models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.access import FencedExists, RestrictedQuerySet
from core.languages import in_reader_language
from customers.models import AccessReason, Customer, CustomerAccess
from org.models import StaffProfile
from org.roles import ALL_SEEING_ROLES, BRANCH_ROLES, Role, role_of, team_of


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


class LeadQuerySet(RestrictedQuerySet):
    """The lead row rule, one branch per action (``leads.access`` has the predicates)."""

    ACTIONS = ("view", "work", "claim", "confirm", "call")

    # Set by ``one_lead``: the rule is asked about one lead (carried through clones).
    _one_lead = False

    def one_lead(self) -> LeadQuerySet:
        """This queryset, for reading one lead by its key (``restrict`` then ``get``).

        The rule's customer checks are then per-lead probes of that lead's customer and
        grant (two index lookups) instead of the list plan, which hashes every customer
        of the book and every open-lead grant of the team (33,000 and 100,000+ rows at a
        million customers: 130-200 ms to read one lead). Same rows: tested equal to the
        list form for every role and action (``leads/tests/test_access.py``).
        """
        qs = self._chain()
        qs._one_lead = True
        return qs

    def _clone(self):
        clone = super()._clone()
        clone._one_lead = self._one_lead
        return clone

    def open(self) -> LeadQuerySet:
        return self.filter(status__in=OPEN_LEAD_STATUSES)

    def _restrict(self, user, action: str) -> LeadQuerySet:
        if action == "view":
            return self._viewable(user)
        if action == "claim":
            # work ∩ unclaimed ∩ new, written out: an unclaimed lead an advisor may work is
            # one of their team's, and the plain (team, status) range lets "claim next"
            # read the queue index in score order instead of sorting the team's leads.
            if role_of(user) != Role.ADVISOR:
                return self.none()
            grants = self._team_grants(team_of(user)).filter(customer_id=models.OuterRef("customer_id"))
            return self.filter(team_id=team_of(user), owner__isnull=True, status=LeadStatus.NEW).filter(
                models.Exists(grants)
            )
        # What one may work, one may see: a lead owned in another team's book stays out.
        workable = self._workable(user) & self._viewable(user)
        if action == "work":
            return workable
        if action == "confirm":  # new, or called before its grade was confirmed
            return workable.filter(
                models.Q(status=LeadStatus.NEW) | models.Q(status=LeadStatus.CONTACTING, confirmed_grade="")
            )
        return workable.filter(status__in=OPEN_LEAD_STATUSES)  # call

    def _viewable(self, user) -> LeadQuerySet:
        """A lead shows its customer, so it is seen only where the customer is
        (``Customer.objects.restrict(user, "view")``): the lead's own reach (the team's
        leads, one's own, those of one's book) narrowed to the customers the user may see.
        A closed lead of the team on a customer outside one's book is not shown.

        The customer checks are ``customer_id IN (…)`` over one index range each (the
        team's grants, the book's customers by owner), which PostgreSQL hashes once: a
        join to the customers would read all of them, and correlated probes cost enough
        on paper to start the JIT compiler (seconds) on a team's list."""
        role = role_of(user)
        if role in ALL_SEEING_ROLES:
            return self.all()
        profile = getattr(user, "staff_profile", None)
        team_id = profile.team_id if profile is not None else None
        if role in (Role.ADVISOR, Role.TEAM_LEAD):
            if team_id is None:
                return self.filter(customer__owner=user) if role == Role.ADVISOR else self.none()
            # "Owned in the team" as a sub-select of the team's staff, not a join through
            # users and profiles (the customer rule does the same).
            team = StaffProfile.objects.filter(team_id=team_id).values("user_id")
            owners = {"owner": user} if role == Role.ADVISOR else {"owner_id__in": team}
            if self._one_lead:
                # One lead: probe its customer and its grant (``FencedExists`` keeps
                # PostgreSQL from hashing every row the sub-select could match).
                probe = FencedExists if connection.vendor == "postgresql" else models.Exists
                customer = models.OuterRef("customer_id")
                granted = models.Q(probe(self._team_grants(team_id).filter(customer_id=customer)))
                in_book = models.Q(probe(Customer.objects.filter(pk=customer, **owners)))
            else:
                granted = models.Q(customer_id__in=self._team_grants(team_id).values("customer_id"))
                in_book = models.Q(customer_id__in=Customer.objects.filter(**owners).values("pk"))
            if role == Role.ADVISOR:
                reach = models.Q(team_id=team_id) | models.Q(owner=user)
                return self.filter(in_book | (reach & granted))
            reach = models.Q(team_id=team_id) | models.Q(owner_id__in=team)
            return self.filter(reach).filter(granted | in_book)
        if role in BRANCH_ROLES and profile is not None and profile.branch_id is not None:
            referred = LeadBranchAccess.objects.filter(lead_id=models.OuterRef("pk"), branch_id=profile.branch_id)
            customer_referred = CustomerAccess.objects.filter(
                customer_id=models.OuterRef("customer_id"), branch_id=profile.branch_id, reason=AccessReason.REFERRAL
            )
            return self.filter(models.Exists(referred), models.Exists(customer_referred))
        return self.none()

    @staticmethod
    def _team_grants(team_id):
        """The open-lead grants of ``team_id``: the customers the team sees through leads."""
        return CustomerAccess.objects.filter(team_id=team_id, reason=AccessReason.OPEN_LEAD)

    def _workable(self, user) -> LeadQuerySet:
        role = role_of(user)
        if role == Role.ADMIN:
            return self.all()
        if role == Role.ADVISOR:
            return self.filter(models.Q(owner=user) | models.Q(owner__isnull=True, team_id=team_of(user)))
        if role == Role.TEAM_LEAD:
            return self.filter(team_id=team_of(user))
        return self.none()


class LeadRecordQuerySet(RestrictedQuerySet):
    """A lead's transitions, grade decisions and nurture plan follow their lead."""

    def _restrict(self, user, action: str):
        return self.filter(lead__in=Lead.objects.restrict(user, "view").values("pk"))


class PlannedCallQuerySet(RestrictedQuerySet):
    """Planned calls: an advisor's own, a team lead's team's, everyone's for compliance
    and administrators (``leads.access.can_view_planned_call``)."""

    def _restrict(self, user, action: str):
        role = role_of(user)
        if role in ALL_SEEING_ROLES:
            return self.all()
        if role == Role.ADVISOR:
            return self.filter(advisor=user)
        if role == Role.TEAM_LEAD:
            return self.filter(advisor__staff_profile__team_id=team_of(user))
        return self.none()


class Lead(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="leads", verbose_name=_("customer")
    )
    team = models.ForeignKey(
        "org.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads", verbose_name=_("team")
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
    # When ``score`` and ``proposed_grade`` were taken (the proposal, or the rescoring that
    # resurfaced the lead), so a page can say "at proposal, <date>" next to the customer's
    # current score. Null on leads older than the field: their creation time stands in.
    proposed_at = models.DateTimeField(_("proposed at"), null=True, blank=True)
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
            # The home's "of which high" among the leads to confirm, counted up to the cap
            # (the grade is not in the queue index: every new lead of the team was read).
            models.Index(fields=["team", "status", "proposed_grade"], include=["owner"], name="lead_team_grade_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.proposed_grade} {self.status}"

    @property
    def score_taken_at(self):
        return self.proposed_at or self.created_at

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_LEAD_STATUSES


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
    from_status = models.CharField(
        pgettext_lazy("status transition", "from"), max_length=16, choices=LeadStatus.choices
    )
    to_status = models.CharField(pgettext_lazy("status transition", "to"), max_length=16, choices=LeadStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # The product's wording in English beside the working language's (core.languages).
    reason_en = models.CharField(_("reason in English"), max_length=300, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), auto_now_add=True)

    objects = LeadRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("lead transition")
        verbose_name_plural = _("lead transitions")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["lead", "-occurred_at"], name="lead_trans_idx")]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.from_status}→{self.to_status}"

    @property
    def reason_text(self) -> str:
        return in_reader_language(self.reason, self.reason_en)


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
    decided_at = models.DateTimeField(pgettext_lazy("grade confirmation", "decided at"), auto_now_add=True)

    objects = LeadRecordQuerySet.as_manager()

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

    objects = LeadRecordQuerySet.as_manager()

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
    # The call that made it (calls.CallLog). A plain id: calls sits above leads, and the
    # planned call is evidence that must outlive any change to the call log.
    call_log_id = models.PositiveBigIntegerField(_("call"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # A campaign call task: the campaign, its step and the enrolment (plain ids: campaigns
    # sits above leads) and the approved script version the call screen shows.
    campaign_id = models.PositiveBigIntegerField(_("campaign"), null=True, blank=True)
    campaign_step_id = models.PositiveBigIntegerField(_("campaign step"), null=True, blank=True)
    enrolment_id = models.PositiveBigIntegerField(_("enrolment"), null=True, blank=True)
    script_version = models.ForeignKey(
        "compliance.ScriptVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("script"),
    )
    # The end of the window the task is due in (due_at is its start).
    due_until = models.DateTimeField(_("due until"), null=True, blank=True)

    objects = PlannedCallQuerySet.as_manager()

    class Meta:
        verbose_name = _("planned call")
        verbose_name_plural = _("planned calls")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["advisor", "status", "due_at"], name="planned_adv_due_idx"),
            models.Index(fields=["lead", "status"], name="planned_lead_idx"),
            models.Index(fields=["campaign_id", "campaign_step_id"], name="planned_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind} {self.due_at:%Y-%m-%d %H:%M}"


class LeadBranchAccess(models.Model):
    """A branch whose staff may see the lead: one row per branch the lead was referred to.

    Written by ``referrals`` (through ``leads.services.lead_grant_branch``) when it creates
    a referral, so the lead's row rule reads only this app's tables. Never revoked: a
    branch keeps seeing the leads it was once sent, as it keeps seeing the referral.
    """

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="branch_access")
    branch = models.ForeignKey("org.Branch", on_delete=models.CASCADE, related_name="+")
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("lead access of a branch")
        verbose_name_plural = _("lead access of branches")
        constraints = [models.UniqueConstraint(fields=["lead", "branch"], name="lead_branch_access_once")]
        indexes = [models.Index(fields=["branch", "lead"], name="lead_branch_access_idx")]

    def __str__(self) -> str:
        return f"{self.lead_id} → {self.branch_id}"
