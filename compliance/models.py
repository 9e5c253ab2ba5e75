"""Compliance: scripts (话术) with versions and review evidence, the lexicon with its
history, the communications it scans, the flags it raises and their review, QA sampling."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.access import RestrictedQuerySet
from customers.models import ProductType
from org.roles import Role, role_of, team_of

from .constants import AUTHOR_ROLES, OVERSEER_ROLES, Category, Disclosure, Language, Severity


class ScriptPurpose(models.TextChoices):
    OPENING = "opening", _("Opening")
    PRODUCT_INTRO = "product_intro", _("Product introduction")
    OBJECTION = "objection", _("Objection handling")
    CLOSING = "closing", _("Closing")
    SERVICE = "service", _("Service")
    WEALTH_REPORT = "wealth_report", _("Annual wealth report")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", pgettext_lazy("script version", "Rejected")
    RETIRED = "retired", _("Retired")


OPEN_VERSION_STATUSES = (VersionStatus.DRAFT, VersionStatus.SUBMITTED)


class ScriptQuerySet(RestrictedQuerySet):
    """The row rule of scripts (its predicates: ``compliance.access``).

    - ``view`` (the script page): officers and administrators every script; anyone else
      the scripts they proposed or wrote a version of, and every script with an approved
      version (approved text is for everyone).
    - ``revise`` (start or continue a new version): the roles that write scripts, on the
      scripts they may view.
    """

    ACTIONS = ("view", "revise")

    def _restrict(self, user, action: str):
        role = role_of(user)
        if action == "revise" and role not in AUTHOR_ROLES:
            return self.none()
        if role in OVERSEER_ROLES:
            return self.all()
        readable = ScriptVersion.objects.filter(script_id=models.OuterRef("pk")).filter(
            models.Q(author=user) | models.Q(status=VersionStatus.APPROVED)
        )
        return self.filter(models.Q(author=user) | models.Exists(readable))


class Script(models.Model):
    """A marketing talk track. Its text lives in versions; only the approved version is used."""

    title = models.CharField(_("title"), max_length=120)
    product = models.ForeignKey(
        "customers.Product",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="scripts",
        verbose_name=_("product"),
    )
    product_type = models.CharField(_("product type"), max_length=16, choices=ProductType.choices, blank=True)
    purpose = models.CharField(pgettext_lazy("script", "purpose"), max_length=20, choices=ScriptPurpose.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scripts", verbose_name=_("author")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ScriptQuerySet.as_manager()

    class Meta:
        verbose_name = _("script")
        verbose_name_plural = _("scripts")
        ordering = ["title", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def effective_product_type(self) -> str:
        return self.product.type if self.product_id else self.product_type


class ScriptVersionQuerySet(RestrictedQuerySet):
    """The row rule of script versions (its predicates: ``compliance.access``).

    - ``view``: officers and administrators every version; anyone else the versions they
      wrote, every version of a script they proposed, and every approved version.
    - ``edit`` (change the text, submit for review): the author's own draft.
    - ``review`` (open the decision, reject, retire): compliance officers.
    - ``approve``: compliance officers, on versions somebody else wrote (four eyes).
    - ``report`` (scripts pending review on the reports page): officers and
      administrators every version, a team lead the versions written in the team.
    """

    ACTIONS = ("view", "edit", "review", "approve", "report")

    def _restrict(self, user, action: str):
        role = role_of(user)
        if action == "edit":
            return self.filter(author=user, status=VersionStatus.DRAFT)
        if action in ("review", "approve"):
            if role != Role.COMPLIANCE:
                return self.none()
            return self.all() if action == "review" else self.exclude(author=user)
        if role in OVERSEER_ROLES:
            return self.all()
        if action == "report":
            team_id = team_of(user)
            if role != Role.TEAM_LEAD or team_id is None:
                return self.none()
            return self.filter(author__staff_profile__team_id=team_id)
        return self.filter(
            models.Q(author=user) | models.Q(script__author=user) | models.Q(status=VersionStatus.APPROVED)
        )


class ScriptVersion(models.Model):
    """One version of a script's text: draft → submitted → approved / rejected → retired."""

    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="versions", verbose_name=_("script"))
    number = models.PositiveIntegerField(_("version"))
    body = models.TextField(_("text"), max_length=20_000)
    status = models.CharField(_("status"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="script_versions", verbose_name=_("author")
    )
    based_on = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("based on")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    review_comment = models.TextField(_("review comment"), blank=True, max_length=2000)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    lexicon_revision = models.CharField(_("lexicon revision"), max_length=64, blank=True)

    objects = ScriptVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("script version")
        verbose_name_plural = _("script versions")
        ordering = ["script_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["script", "number"], name="scriptversion_number_unique"),
            # Only one approved version is in use per script.
            models.UniqueConstraint(
                fields=["script"], condition=models.Q(status="approved"), name="scriptversion_one_approved"
            ),
            # One version in the works per script (a draft or one awaiting review).
            models.UniqueConstraint(
                fields=["script"], condition=models.Q(status__in=["draft", "submitted"]), name="scriptversion_one_open"
            ),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"], name="scriptversion_status_idx")]

    def __str__(self) -> str:
        return f"{self.script.title} v{self.number}"


class FindingKind(models.TextChoices):
    LEXICON = "lexicon", _("Lexicon hit")
    DISCLOSURE = "disclosure", _("Missing disclosure")


class ScriptFinding(models.Model):
    """A result of the automatic check, attached to the version it was run on."""

    version = models.ForeignKey(ScriptVersion, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(_("kind"), max_length=16, choices=FindingKind.choices)
    rule = models.ForeignKey(
        "LexiconRule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("rule")
    )
    code = models.CharField(_("rule or disclosure"), max_length=64)
    rule_version = models.PositiveIntegerField(null=True, blank=True)
    category = models.CharField(_("category"), max_length=32, blank=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    start = models.PositiveIntegerField(null=True, blank=True)
    end = models.PositiveIntegerField(null=True, blank=True)
    match = models.CharField(_("match"), max_length=200, blank=True)
    required_text = models.CharField(_("required text"), max_length=200, blank=True)
    detail = models.CharField(_("detail"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("script finding")
        verbose_name_plural = _("script findings")
        ordering = ["version_id", "start", "id"]

    def __str__(self) -> str:
        return f"{self.code} {self.match}"

    @property
    def category_label(self) -> str:
        if self.kind == FindingKind.DISCLOSURE:
            return str(Disclosure(self.code).label) if self.code in Disclosure.values else self.code
        return str(Category(self.category).label) if self.category in Category.values else self.category


class ReviewAction(models.TextChoices):
    SUBMIT = "submit", _("Submitted")
    APPROVE = "approve", _("Approved")
    REJECT = "reject", pgettext_lazy("script review", "Rejected")
    ACKNOWLEDGE = "acknowledge", _("Acknowledged medium findings")
    RETIRE = "retire", _("Retired")


class ScriptReview(models.Model):
    """Evidence of supervision (FINRA 3110 .07 style): who did what to which version, when.

    Rows are only written by review actions; opening a script is not a review.
    """

    version = models.ForeignKey(ScriptVersion, on_delete=models.PROTECT, related_name="reviews")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=16, choices=ReviewAction.choices)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    findings_snapshot = models.JSONField(_("open findings at the time"), default=list, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("script review evidence")
        verbose_name_plural = _("script review evidence")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.version_id} {self.action}"


class LexiconRuleQuerySet(models.QuerySet):
    def active(self, on=None):
        on = on or timezone.localdate()
        return self.filter(is_active=True).filter(
            models.Q(active_from__isnull=True) | models.Q(active_from__lte=on),
            models.Q(active_until__isnull=True) | models.Q(active_until__gte=on),
        )

    def revision_key(self) -> str:
        """Changes when a rule or a concept group changes (the scanner is rebuilt then)."""
        rules = self.aggregate(changed=models.Max("updated_at"), n=models.Count("id"))
        groups = ConceptGroup.objects.aggregate(changed=models.Max("updated_at"), n=models.Count("id"))
        parts = [
            f"{agg['n']}:{int(agg['changed'].timestamp() * 1e6) if agg['changed'] else '-'}" for agg in (rules, groups)
        ]
        return "|".join(parts)


class LexiconRule(models.Model):
    code = models.CharField(_("rule code"), max_length=32, unique=True)
    pattern = models.CharField(_("phrase or pattern"), max_length=300)
    is_regex = models.BooleanField(_("regular expression"), default=False)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices)
    negation_suppresses = models.BooleanField(_("negation suppresses"), default=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    active_from = models.DateField(_("active from"), null=True, blank=True)
    active_until = models.DateField(_("active until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = LexiconRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("lexicon rule")
        verbose_name_plural = _("lexicon rules")
        ordering = ["category", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.pattern}"

    SNAPSHOT_FIELDS = (
        "pattern",
        "is_regex",
        "language",
        "category",
        "severity",
        "negation_suppresses",
        "source",
        "description",
        "active_from",
        "active_until",
        "is_active",
        "owner_id",
    )

    def snapshot(self) -> dict:
        out = {}
        for name in self.SNAPSHOT_FIELDS:
            value = getattr(self, name)
            out[name] = value.isoformat() if hasattr(value, "isoformat") else value
        return out


class ConceptGroup(models.Model):
    """A set of synonyms concept rules name (``{loss} & {compensate}``), kept by officers."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    terms = models.TextField(_("terms"), max_length=20_000, help_text=_("One term per line."))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("owner"),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("concept group")
        verbose_name_plural = _("concept groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class LexiconRuleStats(models.Model):
    """How a rule fares in review: its findings on flags, and the outcomes of the flags an
    officer closed (kept by the flag services, so the lexicon page reads one row per rule)."""

    rule = models.OneToOneField(LexiconRule, primary_key=True, on_delete=models.CASCADE, related_name="stats")
    hits = models.PositiveIntegerField(_("hits"), default=0)
    confirmed = models.PositiveIntegerField(_("confirmed in review"), default=0)
    dismissed = models.PositiveIntegerField(_("closed as no issue"), default=0)

    class Meta:
        verbose_name = _("lexicon rule statistics")
        verbose_name_plural = _("lexicon rule statistics")

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.hits}"

    @property
    def precision(self) -> float | None:
        """Confirmed share of the reviewed flags this rule found something on."""
        reviewed = self.confirmed + self.dismissed
        return self.confirmed / reviewed if reviewed else None


class LexiconRuleVersion(models.Model):
    """The changelog of a rule: one row per saved version, with what it looked like."""

    rule = models.ForeignKey(LexiconRule, on_delete=models.CASCADE, related_name="history")
    version = models.PositiveIntegerField(_("version"))
    snapshot = models.JSONField(_("rule as saved"))
    changes = models.JSONField(_("changed fields"), default=dict, blank=True)
    note = models.CharField(_("change note"), max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("lexicon rule version")
        verbose_name_plural = _("lexicon rule versions")
        ordering = ["rule_id", "-version"]
        constraints = [models.UniqueConstraint(fields=["rule", "version"], name="lexiconruleversion_unique")]

    def __str__(self) -> str:
        return f"{self.rule_id} v{self.version}"


# --- surveillance ------------------------------------------------------------------------


class CommSource(models.TextChoices):
    CALL_NOTE = "call_note", _("Call note")
    TRANSCRIPT = "transcript", _("AI-bot transcript")
    INTERACTION = "interaction", _("Interaction")
    WEALTH_REPORT = "wealth_report", _("Annual wealth report")


class Communication(models.Model):
    """A snapshot of a scanned text (call note, transcript), so review screens stand alone."""

    source = models.CharField(_("source"), max_length=16, choices=CommSource.choices)
    object_id = models.BigIntegerField(pgettext_lazy("audit", "object id"))
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("advisor"),
    )
    team = models.ForeignKey(
        "org.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("team")
    )
    customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("customer"),
    )
    text = models.TextField(_("text"), max_length=20_000)
    # Where a reviewer opens the original (the call screen of a call note, the customer's
    # timeline of a transcript): written by the caller, which knows its own pages.
    source_url = models.CharField(_("link"), max_length=300, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    scanned_at = models.DateTimeField(_("scanned at"), null=True, blank=True)
    lexicon_revision = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("monitored communication")
        verbose_name_plural = _("monitored communications")
        constraints = [models.UniqueConstraint(fields=["source", "object_id"], name="communication_source_unique")]
        indexes = [models.Index(fields=["advisor", "occurred_at"], name="comm_advisor_time_idx")]

    def __str__(self) -> str:
        return f"{self.source}#{self.object_id}"


class FlagKind(models.TextChoices):
    LEXICON = "lexicon", _("Lexicon hit")
    QA_SAMPLE = "qa_sample", _("Random QA sample")


class FlagStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("flag status", "Open")
    CLAIMED = "claimed", _("In review")
    ESCALATED = "escalated", _("Escalated")
    CLOSED = "closed", pgettext_lazy("flag status", "Closed")


UNDER_REVIEW = (FlagStatus.OPEN, FlagStatus.CLAIMED, FlagStatus.ESCALATED)


class FlagOutcome(models.TextChoices):
    NO_ISSUE = "no_issue", _("No issue")
    COACHING = "coaching", _("Coaching needed")
    COMPLAINT_RISK = "complaint_risk", _("Complaint risk")
    VIOLATION = "violation", _("Violation confirmed")


class FlagQuerySet(RestrictedQuerySet):
    """The row rule of flags (its predicates: ``compliance.access``).

    - ``view``: officers and administrators every flag; a team lead the closed flags of
      the team, an advisor their own closed flags (the outcome is coaching feedback; a
      flag under review is not shown to the people it is about).
    - ``review`` (claim, release, escalate, close): compliance officers, every flag.
    - ``report`` (the figures of the reports page): officers and administrators every
      flag, a team lead every flag of the team, open or closed.
    """

    ACTIONS = ("view", "review", "report")

    def _restrict(self, user, action: str):
        role = role_of(user)
        if action == "review":
            return self.all() if role == Role.COMPLIANCE else self.none()
        if role in OVERSEER_ROLES:
            return self.all()
        team_id = team_of(user)
        if role == Role.TEAM_LEAD and team_id is not None:
            team_flags = self.filter(team_id=team_id)
            return team_flags if action == "report" else team_flags.filter(status=FlagStatus.CLOSED)
        if role == Role.ADVISOR and action == "view":
            return self.filter(advisor=user, status=FlagStatus.CLOSED)
        return self.none()


class Flag(models.Model):
    communication = models.ForeignKey(Communication, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(_("kind"), max_length=16, choices=FlagKind.choices, default=FlagKind.LEXICON)
    # Denormalised from the communication so queues filter and report on one table.
    source = models.CharField(_("source"), max_length=16, choices=CommSource.choices)
    advisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("advisor"),
    )
    team = models.ForeignKey("org.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    occurred_at = models.DateTimeField(_("occurred at"))
    rule = models.ForeignKey(LexiconRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="flags")
    rule_code = models.CharField(_("rule"), max_length=32, blank=True)
    rule_version = models.PositiveIntegerField(null=True, blank=True)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices, blank=True)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, blank=True)
    start = models.PositiveIntegerField(default=0)
    end = models.PositiveIntegerField(default=0)
    match = models.CharField(_("match"), max_length=200, blank=True)
    # Every finding on the communication: rule hits and the classifier's second opinion
    # ({"source": "rule"|"model", "rule", "rule_id", "category", "severity", "start", "end",
    # "match", "probability", "nearest"}). The columns above repeat the most severe one, for
    # the queue's filters and the reports.
    findings = models.JSONField(_("findings"), default=list, blank=True)
    text_snapshot = models.TextField(_("scanned text"), max_length=20_000)
    # SHA-256 of text_snapshot: an edited note is a new text, with a flag of its own.
    text_digest = models.CharField(max_length=64, blank=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=FlagStatus.choices, default=FlagStatus.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reviewer"),
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("escalated to"),
    )
    outcome = models.CharField(
        pgettext_lazy("review", "outcome"), max_length=16, choices=FlagOutcome.choices, blank=True
    )
    outcome_comment = models.TextField(_("comment"), blank=True, max_length=2000)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("closed by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("flagged at"), auto_now_add=True, db_index=True)

    objects = FlagQuerySet.as_manager()

    class Meta:
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        ordering = ["-created_at", "-id"]
        constraints = [
            # One flag per communication text under review, carrying all its findings; a
            # rescan adds new findings to it (or, once it is closed, raises a new flag).
            models.UniqueConstraint(
                fields=["communication", "text_digest"],
                condition=models.Q(kind="lexicon", status__in=["open", "claimed", "escalated"]),
                name="flag_one_open_per_communication",
            ),
            models.UniqueConstraint(
                fields=["communication"], condition=models.Q(kind="qa_sample"), name="flag_one_qa_sample"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="flag_status_idx"),
            models.Index(fields=["advisor", "status"], name="flag_advisor_idx"),
            models.Index(fields=["team", "status"], name="flag_team_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule_code or self.kind} {self.match}"

    @property
    def rule_findings(self) -> list[dict]:
        return [f for f in self.findings if f.get("source", "rule") == "rule"]

    @property
    def model_findings(self) -> list[dict]:
        return [f for f in self.findings if f.get("source") == "model"]


class FlagAction(models.TextChoices):
    CLAIM = "claim", _("Claimed")
    RELEASE = "release", _("Released")
    ESCALATE = "escalate", _("Escalated")
    CLOSE = "close", _("Closed")
    BULK_CLOSE = "bulk_close", _("Closed in bulk as false positive")


class FlagReview(models.Model):
    """Evidence of review of a flag: who did what, when, with which comment."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="reviews")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=16, choices=FlagAction.choices)
    outcome = models.CharField(
        pgettext_lazy("review", "outcome"), max_length=16, choices=FlagOutcome.choices, blank=True
    )
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("flag review evidence")
        verbose_name_plural = _("flag review evidence")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.flag_id} {self.action}"


class CorpusEntry(models.Model):
    """A reviewed text an officer added to the classifier's labelled corpus (the files in
    ``compliance/corpus/`` are the rest): "clean" when the flag was closed as no issue."""

    text = models.TextField(_("text"), max_length=20_000)
    label = models.CharField(_("label"), max_length=32)
    language = models.CharField(_("language"), max_length=2, choices=Language.choices)
    flag = models.ForeignKey(
        "Flag", null=True, blank=True, on_delete=models.SET_NULL, related_name="corpus_entries", verbose_name=_("flag")
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("corpus entry")
        verbose_name_plural = _("corpus entries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["flag"], condition=models.Q(flag__isnull=False), name="corpus_one_per_flag")
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.text[:30]}"


class QASamplingConfig(models.Model):
    """Singleton (pk=1): the share of each advisor's calls sampled for QA every week."""

    share_percent = models.DecimalField(_("share of calls sampled (%)"), max_digits=5, decimal_places=2, default=2)
    minimum_per_advisor = models.PositiveSmallIntegerField(_("minimum per advisor and week"), default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("QA sampling settings")
        verbose_name_plural = _("QA sampling settings")

    def __str__(self) -> str:
        return f"{self.share_percent}%"


class QASampleRun(models.Model):
    """One sampling of one ISO week; the weekly task skips a week it has already sampled."""

    week_start = models.DateField(_("week starting"), unique=True)
    share_percent = models.DecimalField(max_digits=5, decimal_places=2)
    sampled = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-week_start"]

    def __str__(self) -> str:
        return f"{self.week_start} {self.sampled}"
