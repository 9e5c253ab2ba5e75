"""Campaigns (经营策略): a group of customers reached through channels with approved words.

A campaign moves draft → pending approval → scheduled → running ⇄ paused → ended; every
move is a :class:`CampaignTransition` row and an audit event. Its steps name the scripts
their words come from; only a script's approved version is ever used, and a campaign
cannot be submitted, approved, started or resumed while any of its scripts lacks one.
A segment (:class:`Segment`) is the customer list's filter saved under a name.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from compliance.models import ScriptVersion, VersionStatus
from core.access import RestrictedQuerySet
from customers.models import Channel
from org.roles import Role, role_of

# Who builds and runs campaigns, and who reads every campaign.
RUNNING_ROLES = frozenset({Role.CAMPAIGN_MANAGER, Role.ADMIN})
READ_ALL_ROLES = frozenset({Role.CAMPAIGN_MANAGER, Role.ADMIN, Role.COMPLIANCE})
APPROVE_PERMISSION = "campaigns.approve_campaign_launch"
ATTRIBUTION_DAYS_MIN, ATTRIBUTION_DAYS_MAX = 1, 180
ATTRIBUTION_WINDOW_MESSAGE = _("The attribution window is a whole number of days from 1 to 180.")
ATTRIBUTION_LOCKED_MESSAGE = _(
    "Customers have entered this campaign, so its attribution window is fixed: another window would "
    "recount the results already shown."
)


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    SCHEDULED = "scheduled", _("Scheduled")
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    ENDED = "ended", _("Ended")


# Statuses an advisor or team lead may see: what reaches (or reached) their customers.
PUBLISHED_STATUSES = (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED, CampaignStatus.ENDED)


def default_exit_rules() -> list[str]:
    """A new journey ends for a customer who converts, opts out or becomes unsuitable."""
    return ["converted", "opted_out", "unsuitable"]


class CampaignQuerySet(RestrictedQuerySet):
    """The row rule of campaigns (its predicates: ``campaigns.access``).

    - ``view``: campaign managers, compliance and administrators every campaign; a team
      lead the published ones and those awaiting a launch approval; an advisor the
      published ones (scheduled, running, paused, ended), whose call tasks they work.
    - ``change`` (edit a draft, submit, start, pause, resume, end): campaign managers and
      administrators, on campaigns not ended.
    - ``approve`` (approve or return a launch): holders of the approver permission, on
      campaigns awaiting approval that somebody else created (four eyes).
    """

    ACTIONS = ("view", "change", "approve")

    def _restrict(self, user, action: str):
        role = role_of(user)
        if action == "change":
            return self.exclude(status=CampaignStatus.ENDED) if role in RUNNING_ROLES else self.none()
        if action == "approve":
            if not user.has_perm(APPROVE_PERMISSION):
                return self.none()
            return self.filter(status=CampaignStatus.PENDING_APPROVAL).exclude(created_by=user)
        if role in READ_ALL_ROLES:
            return self.all()
        if role == Role.TEAM_LEAD:
            return self.filter(status__in=(*PUBLISHED_STATUSES, CampaignStatus.PENDING_APPROVAL))
        if role == Role.ADVISOR:
            return self.filter(status__in=PUBLISHED_STATUSES)
        return self.none()


def default_attribution_days() -> int:
    """A new campaign's attribution window (``WORKBENCH_CAMPAIGN_ATTRIBUTION_DAYS``)."""
    return settings.WORKBENCH_CAMPAIGN_ATTRIBUTION_DAYS


class Campaign(models.Model):
    code = models.CharField(_("campaign code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    segment = models.JSONField(_("segment definition"), default=dict, blank=True)
    audience = models.ForeignKey(
        "campaigns.Segment",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaigns",
        verbose_name=_("segment"),
    )
    product = models.ForeignKey(
        "customers.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="campaigns"
    )
    status = models.CharField(_("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    # When two campaigns compete for a customer's last contact slot, the higher wins.
    priority = models.PositiveSmallIntegerField(_("priority"), default=5)
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
    launch_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("launch approved by"),
    )
    launch_approved_at = models.DateTimeField(_("launch approved at"), null=True, blank=True)
    # The journey new entrants follow. Editing a running campaign drafts version + 1
    # (steps of ``draft_version``); publishing it makes it current for new entrants only.
    journey_version = models.PositiveIntegerField(_("journey version"), default=1)
    draft_version = models.PositiveIntegerField(_("draft journey version"), null=True, blank=True)
    # The share of entrants hashed into the control group (they are tracked, never contacted).
    control_percent = models.PositiveSmallIntegerField(_("control group (%)"), default=10)
    # Hash salt of the assignment: a customer's bucket is stable for the campaign's life.
    salt = models.CharField(_("assignment salt"), max_length=16, blank=True)
    # Why a customer leaves the journey early (codes of ``ExitRule``).
    exit_rules = models.JSONField(_("exit criteria"), default=default_exit_rules, blank=True)
    # At most this many new entrants a day (None: no limit), so a launch never floods the
    # call centre; entrants over the limit wait for the next day.
    daily_entry_limit = models.PositiveIntegerField(_("new entrants a day at most"), null=True, blank=True)
    # A conversion counts for an entrant within this many days of entry (day 0 = entry).
    attribution_days = models.PositiveSmallIntegerField(
        _("attribution window (days)"),
        default=default_attribution_days,
        db_default=30,  # rows written in raw SQL (benchmarks, bulk loads) get the usual window
        validators=[MinValueValidator(ATTRIBUTION_DAYS_MIN), MaxValueValidator(ATTRIBUTION_DAYS_MAX)],
    )

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        permissions = [("approve_campaign_launch", _("Can approve the launch of somebody else's campaign"))]
        indexes = [models.Index(fields=["status", "starts_on"], name="campaign_status_start_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def script_version(self):
        """The version of the campaign's script in use now (None without an approved one)."""
        if self.script_id is None:
            return None
        return ScriptVersion.objects.filter(script_id=self.script_id, status=VersionStatus.APPROVED).first()


class StepKind(models.TextChoices):
    SEND = "send", _("Send a message")
    CALL_TASK = "call_task", _("Advisor call task")
    WAIT = "wait", pgettext_lazy("journey step", "Wait")
    BRANCH = "branch", _("Branch on the previous step's result")


class BranchCondition(models.TextChoices):
    """What a branch asks of the customer's last contact step in this journey."""

    DELIVERED = "delivered", _("The message was delivered")
    REPLIED = "replied", _("The customer replied")
    CLICKED = "clicked", _("The customer clicked the link")
    REACHED = "reached", _("The call reached the customer")
    WON = "won", _("The call won a sale")
    CONVERTED = "converted", _("The customer converted")
    RESPONDED = "responded", _("The customer responded (replied, clicked or was reached)")


class ExitRule(models.TextChoices):
    CONVERTED = "converted", pgettext_lazy("exit rule", "Converted")
    OPTED_OUT = "opted_out", _("Opted out of marketing")
    LEFT_SEGMENT = "left_segment", _("Left the segment")
    UNSUITABLE = "unsuitable", _("No longer suitable for the product")


class CampaignStep(models.Model):
    """One step of a campaign's journey, in order. A message or a call task names the
    script its words come from; the script's approved version is what is used.

    After a step the journey goes on to the next position, except a branch, which goes to
    ``yes_position`` or ``no_position`` (None: the journey ends there). Steps belong to a
    journey ``version``: enrolments follow the version they entered under."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps", verbose_name=_("campaign"))
    version = models.PositiveIntegerField(_("journey version"), default=1)
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=16, choices=StepKind.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    script = models.ForeignKey(
        "compliance.Script",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="campaign_steps",
        verbose_name=_("script"),
    )
    # A wait's length; for a branch, how long it waits for a yes ("no reply within 3
    # days"): None asks once, at once.
    wait_hours = models.PositiveIntegerField(_("wait (hours)"), null=True, blank=True)
    condition = models.CharField(_("condition"), max_length=16, choices=BranchCondition.choices, blank=True)
    yes_position = models.PositiveSmallIntegerField(_("if yes, go to step"), null=True, blank=True)
    no_position = models.PositiveSmallIntegerField(_("if no, go to step"), null=True, blank=True)
    # A call task is due within this many hours of the customer reaching the step.
    due_hours = models.PositiveIntegerField(_("due within (hours)"), null=True, blank=True)
    # The campaign's lead rule for an AI-bot step: a session that reports one of these
    # intents (as the bot platform names them) opens a lead for the advisor to confirm.
    lead_intents = models.JSONField(_("intents that open a lead"), default=list, blank=True)

    class Meta:
        verbose_name = _("campaign step")
        verbose_name_plural = _("campaign steps")
        ordering = ["campaign_id", "version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "version", "position"], name="campaign_step_position_once")
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}#{self.position} {self.kind}"


class CampaignTransition(models.Model):
    """Evidence of a lifecycle move: who moved the campaign from which status to which."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("campaign")
    )
    from_status = models.CharField(
        pgettext_lazy("status transition", "from"), max_length=16, choices=CampaignStatus.choices
    )
    to_status = models.CharField(
        pgettext_lazy("status transition", "to"), max_length=16, choices=CampaignStatus.choices
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    # The approved script versions the campaign used at this move ({script id: version id}).
    script_versions = models.JSONField(_("script versions"), default=dict, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign transition")
        verbose_name_plural = _("campaign transitions")
        ordering = ["campaign_id", "occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.from_status}→{self.to_status}"


class SegmentKind(models.TextChoices):
    DYNAMIC = "dynamic", _("Dynamic: re-evaluated when used")
    SNAPSHOT = "snapshot", _("Frozen snapshot")
    UPLOADED = "uploaded", _("Uploaded list of customer numbers")


class SegmentQuerySet(RestrictedQuerySet):
    """The row rule of segments (its predicates: ``campaigns.access``).

    - ``view``: campaign managers, compliance and administrators every segment.
    - ``change`` (edit, refreeze): campaign managers and administrators.
    """

    ACTIONS = ("view", "change")

    def _restrict(self, user, action: str):
        role = role_of(user)
        allowed = RUNNING_ROLES if action == "change" else READ_ALL_ROLES
        return self.all() if role in allowed else self.none()


class UpliftKeep(models.TextChoices):
    """Whom of its members a segment keeps (targeting by uplift, ``campaigns.uplift``)."""

    ALL = "all", _("Every member")
    TOP_N = "top_n", _("The N members with the highest predicted uplift")
    TOP_PERCENT = "top_percent", _("The top x % of members by predicted uplift")


class Segment(models.Model):
    """A group of customers (客群). ``definition`` is the customer list's own filter:
    ``{"groups": [{filter parameter: value, …}, …]}``, each group the customer list's
    conditions (all must hold), the groups joined by OR. A snapshot or an uploaded list
    keeps its members in :class:`SegmentMember`."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=SegmentKind.choices, default=SegmentKind.DYNAMIC)
    definition = models.JSONField(_("definition"), default=dict, blank=True)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    # Keep only the most persuadable members (the uplift model's scores), else everyone.
    uplift_keep = models.CharField(
        _("keep by predicted uplift"), max_length=16, choices=UpliftKeep.choices, default=UpliftKeep.ALL
    )
    uplift_value = models.PositiveIntegerField(_("N or x %"), null=True, blank=True)
    counted_at = models.DateTimeField(_("counted at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = SegmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class SegmentMember(models.Model):
    """A member of a frozen or uploaded segment."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("segment member")
        verbose_name_plural = _("segment members")
        constraints = [models.UniqueConstraint(fields=["segment", "customer"], name="segment_member_once")]

    def __str__(self) -> str:
        return f"{self.segment_id}:{self.customer_id}"


# --- Journeys, enrolments and messages ------------------------------------------------------


class Arm(models.TextChoices):
    TREATMENT = "treatment", _("Treatment")
    CONTROL = "control", _("Control group")


class EnrolmentState(models.TextChoices):
    ACTIVE = "active", _("In the journey")
    COMPLETED = "completed", _("Completed the journey")
    EXITED = "exited", _("Left the journey")


class Enrolment(models.Model):
    """One customer's entry into a campaign: which journey version they follow, their
    hashed bucket and arm (fixed at entry, never changed), and where they are now. The
    same customer may enter again only under a new ``occurrence`` (a trigger's event),
    so entering is idempotent per (campaign, customer, occurrence)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="enrolments", verbose_name=_("campaign")
    )
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    occurrence = models.CharField(_("occurrence"), max_length=64, blank=True, default="")
    version = models.PositiveIntegerField(_("journey version"), default=1)
    bucket = models.PositiveSmallIntegerField(_("bucket"))
    arm = models.CharField(_("arm"), max_length=16, choices=Arm.choices, default=Arm.TREATMENT)
    # The A/B variant a treated entrant follows (None: control, or a campaign without variants).
    variant = models.ForeignKey(
        "campaigns.Variant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("variant"),
    )
    # The variant's order of the steps it entered with (None: the journey's own order).
    step_order = models.ForeignKey(
        "campaigns.VariantOrder",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("order of the steps"),
    )
    state = models.CharField(_("state"), max_length=16, choices=EnrolmentState.choices, default=EnrolmentState.ACTIVE)
    step = models.ForeignKey(
        CampaignStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("step")
    )
    step_entered_at = models.DateTimeField(_("on this step since"), null=True, blank=True)
    # When the runner should look at this enrolment next (a wait ends, a reply window closes).
    next_at = models.DateTimeField(_("next action at"), null=True, blank=True)
    entered_at = models.DateTimeField(_("entered at"))
    exited_at = models.DateTimeField(_("left at"), null=True, blank=True)
    exit_reason = models.CharField(_("left because"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer", "occurrence"], name="enrolment_once_per_occurrence")
        ]
        indexes = [
            models.Index(fields=["campaign", "state", "step"], name="enrol_camp_step_idx"),
            models.Index(fields=["state", "next_at"], name="enrol_due_idx"),
            # the global-holdout report: who was touched (entered in treatment) each month
            models.Index(fields=["arm", "entered_at", "customer"], name="enrol_arm_entered_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.customer_id} {self.state}"


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    HELD = "held", _("Held for the contact window")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class MessageQuerySet(RestrictedQuerySet):
    """The row rule of messages (its predicate: ``campaigns.access.can_view_outbox``).

    - ``view``: campaign managers, compliance and administrators every message; nobody
      else any (a message's text and recipient are the customer's, sent by HQ).
    """

    def _restrict(self, user, action: str):
        return self.all() if role_of(user) in READ_ALL_ROLES else self.none()


class Message(models.Model):
    """One message to one customer on one channel, with the words rendered from an
    approved template (a script version) and stored as sent. ``key`` makes queueing
    idempotent (campaign, step, customer, occurrence); the adapters send it at most
    once per key and the gateway receives the same key as its idempotency key."""

    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="messages", verbose_name=_("campaign")
    )
    step = models.ForeignKey(
        CampaignStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages", verbose_name=_("step")
    )
    enrolment = models.ForeignKey(
        Enrolment,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        verbose_name=_("enrolment"),
    )
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    script_version = models.ForeignKey(
        ScriptVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("template")
    )
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("text"), max_length=4000)
    status = models.CharField(_("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    ledger_entry_id = models.PositiveBigIntegerField(_("ledger entry"), null=True, blank=True)
    adapter = models.CharField(_("adapter"), max_length=32, blank=True)
    external_id = models.CharField(_("gateway message id"), max_length=100, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    send_after = models.DateTimeField(_("send after"))
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    clicked_at = models.DateTimeField(_("clicked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "send_after"], name="message_due_idx"),
            models.Index(fields=["campaign", "step", "status"], name="message_camp_step_idx"),
            models.Index(fields=["external_id"], name="message_external_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.customer_id} {self.status}"


class JourneyEventKind(models.TextChoices):
    ENTERED = "entered", _("Entered")
    SENT = "sent", _("Message queued")
    HELD = "held", _("Held for the contact window")
    BLOCKED = "blocked", _("Skipped by the contact rules")
    TASK = "task", _("Call task created")
    WAITING = "waiting", _("Waiting for an advisor with capacity")
    CONTROL = "control", _("Control group: not contacted")
    YES = "yes", _("Branch: yes")
    NO = "no", _("Branch: no")
    CONVERTED = "converted", pgettext_lazy("journey member", "Converted")
    COMPLETED = "completed", _("Completed the journey")
    EXITED = "exited", _("Left the journey")


class JourneyEvent(models.Model):
    """What happened to one enrolment on one step: the journey's evidence, and what the
    diagram counts per step. ``detail`` carries the rule that blocked a contact, the reason
    for leaving, or the disposition of a call."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", verbose_name=_("campaign"))
    enrolment = models.ForeignKey(
        Enrolment, on_delete=models.CASCADE, related_name="events", verbose_name=_("enrolment")
    )
    step = models.ForeignKey(
        CampaignStep, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("step")
    )
    kind = models.CharField(_("what happened"), max_length=16, choices=JourneyEventKind.choices)
    detail = models.CharField(_("detail"), max_length=64, blank=True)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("journey event")
        verbose_name_plural = _("journey events")
        ordering = ["enrolment_id", "at", "id"]
        indexes = [
            models.Index(fields=["campaign", "step", "kind"], name="journey_event_step_idx"),
            models.Index(fields=["enrolment", "at"], name="journey_event_enrol_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment_id} {self.kind}"


# --- Event triggers (事件式经营) --------------------------------------------------------------


class TriggerKind(models.TextChoices):
    MATURITY = "maturity", _("A product matures within N days")
    OUTFLOW = "outflow", _("Large outflow of assets")
    RISK_EXPIRY = "risk_expiry", _("Risk assessment expired or expiring within N days")
    BIRTHDAY = "birthday", _("Birthday within N days")
    AI_INTENT = "ai_intent", _("AI-bot intent detected in the last N days")
    GRADE_HIGH = "grade_high", _("Model grade crossed into high")
    COOLING_OFF_ENDED = "cooling_off_ended", _("Cooling-off period ended in the last N days")
    DORMANT = "dormant", _("No contact for N days")


class TriggerIntent(models.TextChoices):
    """The AI-bot intent codes a trigger may listen for (those ``Interaction.intents``
    holds, the same codes as ``scoring.feature_spec.AI_INTENTS``)."""

    ASK_FUND = "ask_fund", _("Asked about funds")
    ASK_WEALTH_PRODUCT = "ask_wealth_product", _("Asked about wealth products")
    ASK_MATURITY = "ask_maturity", _("Asked about a maturity or reinvestment")
    ASK_PENSION = "ask_pension", _("Asked about pensions")
    ASK_HUMAN = "ask_human", _("Asked for a human advisor")


class EntryRule(models.TextChoices):
    EACH_EVENT = "each_event", _("Each new event")
    ONCE_EVER = "once_ever", _("Once ever")
    ONCE_PER_DAYS = "once_per_days", _("At most once per N days")


class Trigger(models.Model):
    """The event that enters customers into a running campaign (one trigger a campaign).

    A beat sweep (``campaigns.triggers.sweep``) finds, set-based over the whole customer
    base, each customer's event as an ``occurrence`` string (``maturity:<holding>:<date>``,
    ``birthday:<year>``, …) and enters them once per (campaign, customer, occurrence); the
    entry rule then limits how often one customer may enter. Which parameters a kind
    reads: ``days`` (maturity, risk expiry, birthday, AI intent, cooling-off, dormant),
    ``percent``, ``amount`` and ``window_days`` (outflow), ``intents`` (AI intent)."""

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, related_name="trigger", verbose_name=_("campaign")
    )
    kind = models.CharField(_("event"), max_length=24, choices=TriggerKind.choices)
    days = models.PositiveIntegerField(_("days (N)"), null=True, blank=True)
    percent = models.DecimalField(_("fall of at least (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    amount = models.DecimalField(_("fall of at least (CNY)"), max_digits=18, decimal_places=2, null=True, blank=True)
    window_days = models.PositiveIntegerField(_("within days (D)"), null=True, blank=True)
    intents = models.JSONField(_("intents"), default=list, blank=True)
    entry_rule = models.CharField(
        _("entry rule"), max_length=16, choices=EntryRule.choices, default=EntryRule.EACH_EVENT
    )
    entry_days = models.PositiveIntegerField(_("at most once per (days)"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    last_swept_at = models.DateTimeField(_("last swept at"), null=True, blank=True)
    # What the last sweep did: events found, customers entered, left out by the entry rule.
    last_found = models.PositiveIntegerField(_("events found in the last sweep"), default=0)
    last_entered = models.PositiveIntegerField(_("entered in the last sweep"), default=0)
    last_skipped = models.PositiveIntegerField(_("left out in the last sweep"), default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("trigger")
        verbose_name_plural = _("triggers")
        ordering = ["campaign_id"]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.kind}"


class TriggerMark(models.Model):
    """A customer a state trigger saw in its state at the last sweep (the grade trigger:
    graded high). The sweep enters those who were not marked ("crossed into" the state)
    and unmarks those who left it, so leaving and coming back is a new event."""

    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="marks")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField(_("since"))

    class Meta:
        verbose_name = _("trigger mark")
        verbose_name_plural = _("trigger marks")
        constraints = [models.UniqueConstraint(fields=["trigger", "customer"], name="trigger_mark_once")]

    def __str__(self) -> str:
        return f"{self.trigger_id}:{self.customer_id}"


# --- The global holdout (全局对照组) ------------------------------------------------------------


class HoldoutDraw(models.Model):
    """One draw of the global holdout: the customers no campaign touches, to measure the
    total effect of all campaigns. A customer is held out while the draw is current when
    ``((id × salt) mod modulus) mod 100 < percent`` (``campaigns.holdout``), computable in
    SQL. The current draw is the latest one valid from today or earlier; earlier draws stay
    as they were (history), and a new one may start at most once per calendar quarter."""

    percent = models.PositiveSmallIntegerField(
        _("held-out share (%)"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    salt = models.PositiveBigIntegerField(_("hash salt"))
    modulus = models.PositiveBigIntegerField(_("hash modulus"))
    valid_from = models.DateField(_("valid from"), unique=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    drawn_at = models.DateTimeField(_("drawn at"), auto_now_add=True)

    class Meta:
        verbose_name = _("global holdout draw")
        verbose_name_plural = _("global holdout draws")
        ordering = ["-valid_from"]

    def __str__(self) -> str:
        return f"{self.valid_from} {self.percent}%"


class HoldoutReportMonth(models.Model):
    """The stored figures of one group (touched or held out) in one month of the
    global-holdout report (``holdout.holdout_report_refresh``, the task
    ``campaigns.refresh_holdout_report``): the page reads these rows instead of computing
    a year over every customer. Sums, so the means and intervals are computed on reading."""

    month = models.DateField(_("month"))  # its first day
    group = models.CharField(pgettext_lazy("holdout report", "group"), max_length=8)  # "touched" or "holdout"
    customers = models.PositiveIntegerField(_("customers"), default=0)
    converted = models.PositiveIntegerField(_("converted"), default=0)
    conversions = models.PositiveIntegerField(_("conversions"), default=0)
    # {"aum": [n, Σy, Σy²], "change": [n, Σy, Σy²]}: AUM at month end and its change
    sums = models.JSONField(_("AUM sums"), default=dict, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("global-holdout report month")
        verbose_name_plural = _("global-holdout report months")
        ordering = ["month", "group"]
        constraints = [models.UniqueConstraint(fields=["month", "group"], name="holdout_report_month_group")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.group}"


# --- A/B variants and precomputed results (issue 13) ------------------------------------------


class Variant(models.Model):
    """One version of a campaign's treatment (A, B, …): the treated entrants are split
    between the variants by weight on their hashed bucket (``journeys.assignment``), and
    each follows the journey with its step overrides (another template or script, another
    channel). The variant is recorded on the enrolment at entry and never changed; a new
    weight applies to new entrants only. A promoted variant takes every new treated entrant."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="variants", verbose_name=_("campaign")
    )
    label = models.CharField(_("variant name"), max_length=40)
    position = models.PositiveSmallIntegerField(_("position"))
    # Share of the treated entrants (weight ÷ the sum of weights); 0 takes no new entrants.
    weight = models.PositiveSmallIntegerField(_("weight"), default=1)
    promoted_at = models.DateTimeField(_("promoted at"), null=True, blank=True)
    promoted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The order its new entrants walk the steps in (None: the journey's own); applies only
    # to entrants of the journey version it was set for.
    step_order = models.ForeignKey(
        "campaigns.VariantOrder",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("order of the steps"),
    )

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["campaign_id", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"], name="variant_position_once"),
            models.UniqueConstraint(fields=["campaign", "label"], name="variant_label_once"),
            models.UniqueConstraint(
                fields=["campaign"], condition=models.Q(promoted_at__isnull=False), name="variant_one_winner"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.label}"


class VariantStep(models.Model):
    """What a variant changes on one contact step: the script (template) its words come
    from, and for a message the channel. Blank keeps the step's own."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="overrides")
    step = models.ForeignKey(CampaignStep, on_delete=models.CASCADE, related_name="variant_overrides")
    script = models.ForeignKey(
        "compliance.Script",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="variant_steps",
        verbose_name=_("script"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)

    class Meta:
        verbose_name = _("variant step")
        verbose_name_plural = _("variant steps")
        ordering = ["variant_id", "step_id"]
        constraints = [models.UniqueConstraint(fields=["variant", "step"], name="variant_step_once")]

    def __str__(self) -> str:
        return f"{self.variant_id}@{self.step_id}"


class VariantOrder(models.Model):
    """The order in which a variant's treated entrants walk the steps of one journey
    version: the steps' ids, a permutation of the version's steps checked by the journey's
    own rules (``journeys.checks``). Never changed once written: a new order is a new row,
    and each enrolment records the row it entered with (``Enrolment.step_order``), so an
    entrant's order never changes after the fact."""

    variant = models.ForeignKey(Variant, on_delete=models.CASCADE, related_name="orders", verbose_name=_("variant"))
    version = models.PositiveIntegerField(_("journey version"))
    steps = models.JSONField(_("steps in order"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("variant step order")
        verbose_name_plural = _("variant step orders")
        ordering = ["variant_id", "pk"]

    def __str__(self) -> str:
        return f"{self.variant_id}:v{self.version} {self.steps}"


class ResultsRefresh(models.Model):
    """When a campaign's results were last aggregated (the page says "as of"), and its
    funnel per step then. Written by ``campaigns.refresh_results`` only."""

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, related_name="results_refresh", verbose_name=_("campaign")
    )
    refreshed_at = models.DateTimeField(_("refreshed at"))
    # [{"step": id, "position": n, "kind": code, "arms": {arm key: enrolments on the step}}]
    funnel = models.JSONField(_("funnel per step"), default=list, blank=True)

    class Meta:
        verbose_name = _("results refresh")
        verbose_name_plural = _("results refreshes")

    def __str__(self) -> str:
        return f"{self.campaign_id} @ {self.refreshed_at:%Y-%m-%d %H:%M}"


class ResultsDay(models.Model):
    """The precomputed figures of one arm (control, a variant, or the treatment of a
    campaign without variants) for the entrants of one day: counts and the AUM sums the
    statistics need (``results.Moments`` per horizon). Summed, they are the results page."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", verbose_name=_("campaign"))
    arm = models.CharField(_("arm"), max_length=16, choices=Arm.choices)
    variant = models.ForeignKey(
        Variant, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("variant")
    )
    day = models.DateField(_("day of entry"))
    entered = models.PositiveIntegerField(_("entered"), default=0)
    reached = models.PositiveIntegerField(_("reached"), default=0)
    responded = models.PositiveIntegerField(_("responded"), default=0)
    converted = models.PositiveIntegerField(_("converted"), default=0)
    # {"30": [n, Σx, Σy, Σx², Σy², Σxy], "90": […]}
    aum = models.JSONField(_("AUM sums"), default=dict, blank=True)

    class Meta:
        verbose_name = _("results of a day")
        verbose_name_plural = _("results of days")
        ordering = ["campaign_id", "day"]
        indexes = [models.Index(fields=["campaign", "day"], name="results_day_campaign_idx")]

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.arm} {self.day}"
