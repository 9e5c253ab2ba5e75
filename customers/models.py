"""The bank's customers and everything a portrait is made of.

Denormalised columns on Customer (tier, risk_level, risk_assessed_at, last_contact_at,
mobile_last4, id_last4) are kept by services so that lists and filters over tens of
millions of customers stay index-only; the history tables remain the source of truth.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from core.access import FencedExists, RestrictedQuerySet
from org.models import Branch, StaffProfile
from org.roles import ALL_SEEING_ROLES, BRANCH_ROLES, Role, role_of


class Tier(models.TextChoices):
    LONG_TAIL = "long_tail", _("Long tail")
    BASE = "base", _("Base")
    WEALTH = "wealth", _("Wealth")
    PRIVATE = "private", _("Private banking")


def tier_for_aum(aum: Decimal | float | int) -> str:
    """The tier an AUM falls in, with the configured thresholds (DOMAIN.md)."""
    if aum >= settings.WORKBENCH_TIER_PRIVATE_MIN:
        return Tier.PRIVATE
    if aum >= settings.WORKBENCH_TIER_WEALTH_MIN:
        return Tier.WEALTH
    if aum >= settings.WORKBENCH_TIER_BASE_MIN:
        return Tier.BASE
    return Tier.LONG_TAIL


def derived_columns(*, mobile: str, id_number: str, aum) -> dict:
    """The customer columns that follow others: the last four digits of the mobile and the
    ID number (what search matches, indexed) and the tier (from the AUM). Every write of
    a customer (hand edits, files, the API) sets them from here."""
    return {"mobile_last4": mobile[-4:], "id_last4": id_number[-4:].upper(), "tier": tier_for_aum(aum)}


MOBILE = re.compile(r"1[3-9][0-9]{9}")
ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]|[0-9]{15}")


def mobile_normalized(value: str) -> str | None:
    """A mainland mobile number as stored (11 digits, no country code, no separators), or
    None when ``value`` is not one: "138 1234 5678", "+86-138-1234-5678" -> "13812345678"."""
    v = re.sub(r"[\s\-()]", "", value or "")
    for prefix in ("+86", "0086"):
        v = v.removeprefix(prefix)
    if len(v) == 13 and v.startswith("86"):
        v = v[2:]
    return v if MOBILE.fullmatch(v) else None


def id_number_normalized(value: str) -> str | None:
    """A resident ID number as stored (17 digits and a digit or X, upper case; or a legacy
    15-digit one), or None when ``value`` is not one. The check digit is not verified:
    core banking is the source of the number, and a refused row would hide a customer."""
    v = re.sub(r"\s", "", value or "").upper()
    return v if ID_NUMBER.fullmatch(v) else None


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")
    UNKNOWN = "U", _("Unknown")


class LifecycleStage(models.TextChoices):
    NEW = "new", _("New")
    GROWING = "growing", _("Growing")
    MATURE = "mature", _("Mature")
    DECLINING = "declining", _("Declining")
    DORMANT = "dormant", _("Dormant")


class RiskLevel(models.IntegerChoices):
    """Customer risk tolerance C1–C5; product risk R1–R5 uses the same numbers."""

    C1 = 1, "C1"
    C2 = 2, "C2"
    C3 = 3, "C3"
    C4 = 4, "C4"
    C5 = 5, "C5"


class ProductRisk(models.IntegerChoices):
    R1 = 1, "R1"
    R2 = 2, "R2"
    R3 = 3, "R3"
    R4 = 4, "R4"
    R5 = 5, "R5"


# Roles that may work a customer they can see (add and remove manual tags, …): everyone
# but compliance, which reads every customer and writes nothing customer-side.
WORK_ROLES = frozenset({Role.ADVISOR, Role.TEAM_LEAD, Role.BRANCH_MANAGER, Role.BRANCH_RM, Role.ADMIN})


class CustomerQuerySet(RestrictedQuerySet):
    """The one customer row rule (``customers.access`` has the same rule for one customer).

    ``view``:

    - administrators and compliance officers: everyone;
    - a remote advisor: customers they own, and customers with an open lead of their team;
    - a team lead: customers owned by the team's advisors, and the team's open leads;
    - branch managers and relationship managers: customers referred to their branch;
    - anyone else: nobody.

    Open leads and referrals reach this rule only as ``CustomerAccess`` grants, which the
    apps above keep. ``work`` (tags and other hand edits) is ``view`` for every role but
    compliance.
    """

    ACTIONS = ("view", "work")

    def _restrict(self, user, action: str) -> CustomerQuerySet:
        role = role_of(user)
        if action == "work" and role not in WORK_ROLES:
            return self.none()
        return self._visible(user, role, fenced=connection.vendor == "postgresql")

    def _visible(self, user, role, *, fenced: bool) -> CustomerQuerySet:
        """The view rule. ``fenced`` is the same rows planned for big lists on PostgreSQL:
        written as a plain ``Exists`` under ``OR``, PostgreSQL hashes every open-lead grant
        of the team (100,000+ rows at 1M customers, ~250 ms) before returning the first
        page; ``OFFSET 0`` keeps the sub-select a per-row probe of the grant index, so an
        advisor's first page walks the AUM index and stops after 50 rows (~10 ms). A team
        lead's "owned by the team" is a sub-select of the team's staff rather than a join
        through users and profiles. Tested equal to the plain rule (test_access)."""
        if role in ALL_SEEING_ROLES or role == Role.CAMPAIGN_MANAGER:
            return self.all()
        profile = getattr(user, "staff_profile", None)
        if profile is None:
            return self.none()
        if role in (Role.ADVISOR, Role.TEAM_LEAD):
            if profile.team_id is None:  # a team member without a team: their own book only
                return self.filter(owner=user) if role == Role.ADVISOR else self.none()
            grants = CustomerAccess.objects.filter(
                customer_id=models.OuterRef("pk"), team_id=profile.team_id, reason=AccessReason.OPEN_LEAD
            )
            in_team_leads = FencedExists(grants) if fenced else models.Exists(grants)
            if role == Role.ADVISOR:
                return self.filter(models.Q(owner=user) | in_team_leads)
            if fenced:
                team = StaffProfile.objects.filter(team_id=profile.team_id).values("user_id")
                return self.filter(models.Q(owner_id__in=team) | in_team_leads)
            return self.filter(models.Q(owner__staff_profile__team_id=profile.team_id) | in_team_leads)
        if role in BRANCH_ROLES and profile.branch_id is not None:
            referred = CustomerAccess.objects.filter(
                customer_id=models.OuterRef("pk"), branch_id=profile.branch_id, reason=AccessReason.REFERRAL
            )
            return self.filter(models.Exists(referred))
        return self.none()

    def view_parts(self, user) -> list[models.Q]:
        """The view rule split into disjoint narrowings that add up to it, for counts that
        stop at a cap (the home's book figures): ``restrict(user, "view").filter(part)``.

        Under the rule's ``OR`` a capped count scans the table in its own order and probes
        each row (17,000 rows read for 1,001 counted); each part here is one index range:
        the customers owned by the advisor (or the team's advisors), then the team's
        open-lead grants joined to their customers (at most one open-lead grant a
        customer: ``customer_access_one_open_lead``), less those owned. The rule stays on
        every part; the parts are tested disjoint and equal to it in sum (test_access).
        Everyone else: the rule itself, one part.
        """
        role = role_of(user)
        profile = getattr(user, "staff_profile", None)
        if role not in (Role.ADVISOR, Role.TEAM_LEAD) or profile is None or profile.team_id is None:
            return [models.Q()]
        if role == Role.ADVISOR:
            owned = models.Q(owner=user)
        else:
            # The team's staff as a list of ids (one small query), not a sub-select:
            # PostgreSQL then estimates the owned rows from the owner column's statistics;
            # with a sub-select it expected a few hundred, costed the count near the
            # whole scan and started the JIT compiler (240 ms per count at 1M customers).
            team = list(StaffProfile.objects.filter(team_id=profile.team_id).values_list("user_id", flat=True))
            owned = models.Q(owner_id__in=team)
        granted = models.Q(access_grants__team_id=profile.team_id, access_grants__reason=AccessReason.OPEN_LEAD)
        return [owned, granted & ~owned]

    def plain_view_rule(self, user) -> CustomerQuerySet:
        """``restrict(user, "view")`` without the PostgreSQL list plan (what the fast path
        is tested against)."""
        if user is None or not getattr(user, "is_authenticated", False):
            return self.none()
        return self._visible(user, role_of(user), fenced=False)


class Customer(models.Model):
    customer_no = models.CharField(_("customer number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, default=Gender.UNKNOWN)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    # Searched by the full number and by its last 4 (customers.filters.search_q): exact
    # matches only, so one plain index each in Meta.indexes (``db_index`` would add a
    # ``varchar_pattern_ops`` twin for LIKE 'x%' that no query runs, and every import
    # and every new customer would pay for it).
    mobile = models.CharField(_("mobile"), max_length=20, blank=True)
    mobile_last4 = models.CharField(max_length=4, blank=True, editable=False)
    id_number = models.CharField(_("ID number"), max_length=32, blank=True)
    id_last4 = models.CharField(max_length=4, blank=True, editable=False)
    city = models.CharField(_("city"), max_length=50, blank=True)
    occupation = models.CharField(_("occupation"), max_length=50, blank=True)
    education = models.CharField(_("education"), max_length=50, blank=True)
    marital_status = models.CharField(_("marital status"), max_length=20, blank=True)
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices, default=Tier.LONG_TAIL)
    aum = models.DecimalField(_("AUM"), max_digits=18, decimal_places=2, default=Decimal("0"))
    # No index of their own: cust_branch_aum_idx and cust_owner_cover_idx begin with them
    # and answer every lookup by branch or owner (and the PROTECT / SET_NULL checks).
    home_branch = models.ForeignKey(
        Branch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="customers",
        verbose_name=_("home branch"),
        db_index=False,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="book",
        verbose_name=_("owner advisor"),
        db_index=False,  # cust_owner_cover_idx (owner, id) serves every lookup by owner
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=16, choices=LifecycleStage.choices, default=LifecycleStage.NEW
    )
    risk_level = models.PositiveSmallIntegerField(_("risk level"), choices=RiskLevel.choices, null=True, blank=True)
    risk_assessed_at = models.DateTimeField(_("risk assessed at"), null=True, blank=True)
    last_contact_at = models.DateTimeField(_("last contact"), null=True, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-aum", "id"]
        indexes = [
            models.Index(fields=["owner", "-aum"], name="cust_owner_aum_idx"),
            models.Index(fields=["home_branch", "-aum"], name="cust_branch_aum_idx"),
            models.Index(fields=["tier", "-aum"], name="cust_tier_aum_idx"),
            models.Index(fields=["-aum", "id"], name="cust_aum_idx"),
            # Search: name prefix (LIKE 'x%' under any collation). "Not contacted in N days"
            # has no index of its own: never contacted counts, so at least a fifth of all
            # customers match any N, which no index narrows (and one made PostgreSQL AND a
            # bitmap of 400,000 customers into the home's capped counts).
            models.Index(fields=["name"], name="cust_name_prefix_idx", opclasses=["varchar_pattern_ops"]),
            # The owner's index, covering the home's book figures (``view_parts``): all of
            # the book, "risk assessment expired" and "not contacted in 90 days" counted up
            # to the cap as an index-only scan of the owners' entries that stops at cap + 1
            # (0.3-0.6 ms at 1M customers). With an index per date, the date's OR (never
            # or before) made PostgreSQL build a bitmap of all the team's 165,000
            # customers first (12-30 ms a count).
            models.Index(
                fields=["owner", "id"], include=["risk_assessed_at", "last_contact_at"], name="cust_owner_cover_idx"
            ),
            models.Index(fields=["mobile"], name="cust_mobile_idx"),
            models.Index(fields=["mobile_last4"], name="cust_mobile_last4_idx"),
            models.Index(fields=["id_number"], name="cust_id_number_idx"),
            models.Index(fields=["id_last4"], name="cust_id_last4_idx"),
        ]
        permissions = [
            ("reveal_customer_pii", _("Can reveal a customer's full mobile number and ID number")),
            ("export_customers", _("Can export customer personal data")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.customer_no})"

    @property
    def age(self) -> int | None:
        if not self.birth_date:
            return None
        today = timezone.localdate()
        b = self.birth_date
        return today.year - b.year - ((today.month, today.day) < (b.month, b.day))

    @property
    def mobile_masked(self) -> str:
        return mask_middle(self.mobile, keep_start=3, keep_end=4)

    @property
    def id_number_masked(self) -> str:
        return mask_middle(self.id_number, keep_start=4, keep_end=4)

    @property
    def name_masked(self) -> str:
        """The name as every page shows it (docs/masking.md): the surname, then stars."""
        if len(self.name) <= 1:
            return self.name
        return self.name[0] + "*" * (len(self.name) - 1)

    @property
    def salutation(self) -> str:
        """How an advisor addresses the customer on the phone (张女士), which shows no
        more of the name than ``name_masked`` does (docs/masking.md)."""
        surname = self.name[:1]
        if self.gender == "F":
            return _("Ms %(surname)s") % {"surname": surname}
        if self.gender == "M":
            return _("Mr %(surname)s") % {"surname": surname}
        return self.name_masked

    @property
    def risk_expires_at(self) -> dt.datetime | None:
        if not self.risk_assessed_at:
            return None
        return self.risk_assessed_at + dt.timedelta(days=settings.WORKBENCH_RISK_ASSESSMENT_VALID_DAYS)

    @property
    def risk_expired(self) -> bool:
        expires = self.risk_expires_at
        return expires is None or expires <= timezone.now()


def mask_middle(value: str, *, keep_start: int, keep_end: int) -> str:
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]


class AssessmentChannel(models.TextChoices):
    BRANCH = "branch", _("Branch counter")
    MOBILE = "mobile", _("Mobile banking")
    ONLINE = "online", _("Online banking")


class RiskAssessment(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="risk_assessments", db_index=False, verbose_name=_("customer")
    )
    level = models.PositiveSmallIntegerField(_("risk level"), choices=RiskLevel.choices)
    assessed_at = models.DateTimeField(_("assessed at"))
    channel = models.CharField(_("channel"), max_length=16, choices=AssessmentChannel.choices)
    completed_by_customer = models.BooleanField(_("completed by the customer"), default=True)

    class Meta:
        verbose_name = _("risk assessment")
        verbose_name_plural = _("risk assessments")
        ordering = ["-assessed_at"]
        indexes = [models.Index(fields=["customer", "-assessed_at"], name="risk_cust_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} C{self.level} {self.assessed_at:%Y-%m-%d}"


class ProductType(models.TextChoices):
    WEALTH = "wealth", _("Wealth management product")
    FUND = "fund", _("Fund")
    DEPOSIT = "deposit", _("Deposit")
    INSURANCE = "insurance", _("Insurance")
    METAL = "metal", _("Precious metal")


class Product(models.Model):
    code = models.CharField(_("product code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    type = models.CharField(_("type"), max_length=16, choices=ProductType.choices)
    risk_level = models.PositiveSmallIntegerField(_("risk level"), choices=ProductRisk.choices)
    min_amount = models.DecimalField(_("minimum amount"), max_digits=18, decimal_places=2, default=Decimal("0"))
    benchmark_low = models.DecimalField(_("benchmark low (%)"), max_digits=6, decimal_places=3, null=True, blank=True)
    benchmark_high = models.DecimalField(_("benchmark high (%)"), max_digits=6, decimal_places=3, null=True, blank=True)
    term_days = models.PositiveIntegerField(_("term (days)"), null=True, blank=True)
    on_shelf = models.BooleanField(_("on shelf"), default=True)
    sale_start = models.DateField(_("sale window start"), null=True, blank=True)
    sale_end = models.DateField(_("sale window end"), null=True, blank=True)
    is_private = models.BooleanField(_("private placement"), default=False)
    issuer = models.CharField(_("issuer"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_risk_level_display()})"


class Holding(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="holdings", verbose_name=_("customer"), db_index=False
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="holdings", verbose_name=_("product"))
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    opened_on = models.DateField(_("opened on"))
    maturity_date = models.DateField(_("maturity date"), null=True, blank=True)
    external_id = models.CharField(_("external id"), max_length=64, null=True, blank=True, unique=True)

    class Meta:
        verbose_name = _("holding")
        verbose_name_plural = _("holdings")
        ordering = ["maturity_date", "id"]
        indexes = [
            models.Index(fields=["customer", "maturity_date"], name="hold_cust_mat_idx"),
            models.Index(fields=["maturity_date"], name="hold_mat_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.product_id} {self.amount}"


class AssetSnapshot(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="snapshots", db_index=False, verbose_name=_("customer")
    )
    date = models.DateField(_("date"))
    aum = models.DecimalField(_("AUM"), max_digits=18, decimal_places=2)
    deposits = models.DecimalField(_("deposits"), max_digits=18, decimal_places=2, default=Decimal("0"))
    wealth = models.DecimalField(_("wealth products"), max_digits=18, decimal_places=2, default=Decimal("0"))
    funds = models.DecimalField(_("funds"), max_digits=18, decimal_places=2, default=Decimal("0"))
    insurance = models.DecimalField(_("insurance"), max_digits=18, decimal_places=2, default=Decimal("0"))
    other = models.DecimalField(_("other"), max_digits=18, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("asset snapshot")
        verbose_name_plural = _("asset snapshots")
        ordering = ["customer", "date"]
        constraints = [models.UniqueConstraint(fields=["customer", "date"], name="snapshot_one_per_day")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.date} {self.aum}"


class FlowDirection(models.TextChoices):
    IN = "in", _("Inflow")
    OUT = "out", _("Outflow")


class FlowChannel(models.TextChoices):
    TRANSFER = "transfer", _("Transfer from or to another bank")
    SALARY = "salary", _("Salary paid in")
    CASH = "cash", _("Cash")
    PAYMENT = "payment", _("Third-party payment")
    OTHER = "other", _("Other")


class FundFlow(models.Model):
    """Money crossing the bank's boundary for a customer: an external inflow (a transfer
    from another bank, salary, cash paid in) or outflow (out to another bank, cash taken
    out). What a snapshot's AUM change cannot tell: new money from market moves, and a
    customer's switch between their own products is no flow at all. From core banking
    (files, the API) by ``external_id``."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="fund_flows", db_index=False, verbose_name=_("customer")
    )
    direction = models.CharField(_("direction"), max_length=3, choices=FlowDirection.choices)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)  # positive; the direction signs it
    occurred_at = models.DateTimeField(_("occurred at"))
    channel = models.CharField(_("channel"), max_length=16, choices=FlowChannel.choices, default=FlowChannel.OTHER)
    external_id = models.CharField(_("transaction id"), max_length=64, unique=True)

    class Meta:
        verbose_name = _("fund flow")
        verbose_name_plural = _("fund flows")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="flow_cust_time_idx"),
            models.Index(fields=["occurred_at"], name="flow_time_idx"),
        ]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="flow_amount_positive")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.direction} {self.amount} {self.occurred_at:%Y-%m-%d}"

    @property
    def signed_amount(self) -> Decimal:
        return self.amount if self.direction == FlowDirection.IN else -self.amount


class TagCategory(models.TextChoices):
    VALUE = "value", pgettext_lazy("tag category", "Value")
    BEHAVIOUR = "behaviour", _("Behaviour")
    PREFERENCE = "preference", _("Preference")
    LIFECYCLE = "lifecycle", _("Lifecycle")
    RISK = "risk", _("Risk")


class TagSource(models.TextChoices):
    RULE = "rule", _("Rule")
    MODEL = "model", _("Model")
    MANUAL = "manual", _("Manual")


class Tag(models.Model):
    code = models.CharField(_("tag code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=50)
    # Tags are reference data the bank names; the English pages show this name.
    name_en = models.CharField(_("English name"), max_length=50, blank=True)
    category = models.CharField(_("category"), max_length=16, choices=TagCategory.choices)
    source = models.CharField(_("source"), max_length=8, choices=TagSource.choices, default=TagSource.RULE)
    description = models.CharField(_("description"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["category", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The tag's name in the user's language (Chinese when no English name is set)."""
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name


class CustomerTag(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="tags", verbose_name=_("customer"), db_index=False
    )
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("tag"))
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    source = models.CharField(_("source"), max_length=8, choices=TagSource.choices, default=TagSource.RULE)
    score = models.FloatField(_("score"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("customer tag")
        verbose_name_plural = _("customer tags")
        constraints = [models.UniqueConstraint(fields=["customer", "tag"], name="customer_tag_once")]
        indexes = [models.Index(fields=["tag", "customer"], name="ctag_tag_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id}:{self.tag_id}"


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    APP_PUSH = "app_push", _("App push")
    WECHAT = "wechat", _("WeChat")
    AI_BOT = "ai_bot", _("AI bot")
    BRANCH_VISIT = "branch_visit", _("Branch visit")
    EMAIL = "email", _("E-mail")


class Direction(models.TextChoices):
    OUTBOUND = "out", _("Outbound")
    INBOUND = "in", _("Inbound")


class TouchKind(models.TextChoices):
    """What a touch was for the 12-4-2-1 service cadence (``cadence``): a themed
    interaction, an asset-allocation review (also a themed interaction), the written
    wealth report delivered, or none of these."""

    NONE = "", _("Not a cadence touch")
    THEMED = "themed", _("Themed interaction")
    REVIEW = "review", _("Asset-allocation review")
    REPORT = "report", _("Written wealth report")


class Meeting(models.TextChoices):
    """How a touch met the customer face to face: in person (a branch visit) or by
    video; a phone call or a message is neither."""

    NONE = "", _("Not face to face")
    IN_PERSON = "in_person", _("In person")
    VIDEO = "video", _("Video call")


class Interaction(models.Model):
    """One touch: a call, a message, a visit, or a whole AI-bot session.

    ``transcript`` holds AI-bot turns as ``[{"speaker": "bot"|"customer", "text": ...}]``
    and is untrusted input: templates render it as text only.
    """

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="interactions", verbose_name=_("customer"), db_index=False
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices, default=Direction.OUTBOUND)
    occurred_at = models.DateTimeField(_("occurred at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="interactions",
        verbose_name=_("staff"),
    )
    summary = models.TextField(_("summary"), blank=True, max_length=5000)
    transcript = models.JSONField(_("transcript"), null=True, blank=True)
    intents = models.JSONField(_("detected intents"), default=list, blank=True)
    external_id = models.CharField(_("external id"), max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The 12-4-2-1 cadence counts touches by these two (cadence.selectors).
    touch_kind = models.CharField(
        _("kind of touch"), max_length=8, choices=TouchKind.choices, blank=True, default="", db_default=""
    )
    meeting = models.CharField(
        _("face to face"), max_length=12, choices=Meeting.choices, blank=True, default="", db_default=""
    )

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "-occurred_at"], name="inter_cust_time_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel} {self.occurred_at:%Y-%m-%d}"

    @property
    def rounds(self) -> int:
        """Rounds of an AI-bot conversation: one round is one thing the customer said
        (and the bot's answer). The same count as the scoring feature ``ai_rounds``
        (``scoring.features.conversation_signals``), so the portrait, the call screen and
        a lead's reasons give one number for one conversation."""
        return sum(1 for t in self.transcript or [] if isinstance(t, dict) and t.get("speaker") == "customer")

    @property
    def actor_label(self) -> str:
        if self.actor_id is None:
            return str(_("System"))
        return str(self.actor)


class InteractionIntent(models.Model):
    """One intent an AI-bot session heard, as its own narrow row: the segment condition
    "intent X in the last N days" and the AI-intent trigger read these from one index
    (intent, time, customer) instead of every session's JSON text, whose rows are wide
    (transcripts) and scattered. Written with the interaction (``interaction_record``, the
    demo writer) and gone with it (cascade); ``Interaction.intents`` stays the record."""

    interaction = models.ForeignKey(
        Interaction, on_delete=models.CASCADE, related_name="intent_rows", verbose_name=_("interaction")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("customer")
    )
    intent = models.CharField(_("intent"), max_length=64)
    occurred_at = models.DateTimeField(_("occurred at"))

    class Meta:
        verbose_name = _("detected intent")
        verbose_name_plural = _("detected intents")
        constraints = [models.UniqueConstraint(fields=["interaction", "intent"], name="intent_once_per_session")]
        indexes = [models.Index(fields=["intent", "occurred_at", "customer"], name="intent_time_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.intent} {self.occurred_at:%Y-%m-%d}"


class ContactPreference(models.Model):
    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="contact_preferences",
        db_index=False,
        verbose_name=_("customer"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    consent = models.BooleanField(_("marketing consent"), default=False)
    opted_out_at = models.DateTimeField(_("opted out at"), null=True, blank=True)
    dnd_until = models.DateTimeField(_("do not disturb until"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("contact preference")
        verbose_name_plural = _("contact preferences")
        constraints = [models.UniqueConstraint(fields=["customer", "channel"], name="contact_pref_once")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel}"

    @property
    def dnd_active(self) -> bool:
        return self.dnd_until is not None and self.dnd_until > timezone.now()


class AccessReason(models.TextChoices):
    OPEN_LEAD = "open_lead", _("Open lead of the team")
    REFERRAL = "referral", _("Referred to the branch")


class CustomerAccess(models.Model):
    """Who besides the owner's side may see a customer, and why.

    The customer row rule reads only this table and the owner: a team sees the
    customers it has an open lead on, a branch the customers referred to it. The apps
    above keep it (``leads`` when a lead opens, changes team or closes, ``referrals`` when
    it refers) through ``customers.services.access``, so customers never
    reads their tables. At most one open-lead grant per customer (there is at most one
    open lead); referral grants are never revoked.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="access_grants", db_index=False)
    reason = models.CharField(_("reason"), max_length=16, choices=AccessReason.choices)
    team = models.ForeignKey("org.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    branch = models.ForeignKey("org.Branch", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer access grant")
        verbose_name_plural = _("customer access grants")
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(reason="open_lead", team__isnull=False, branch__isnull=True))
                | (models.Q(reason="referral", branch__isnull=False, team__isnull=True)),
                name="customer_access_shape",
            ),
            models.UniqueConstraint(
                fields=["customer"], condition=models.Q(reason="open_lead"), name="customer_access_one_open_lead"
            ),
            models.UniqueConstraint(
                fields=["customer", "branch"], condition=models.Q(reason="referral"), name="customer_access_branch_once"
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "team"], name="customer_access_team_idx"),
            models.Index(fields=["branch", "customer"], name="customer_access_branch_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.reason} {self.team_id or self.branch_id}"


# --- Portraits: PIPL access records, imports and integration clients (issue 3) ------------


class AccessKind(models.TextChoices):
    VIEW = "view", _("Personal data viewed")
    REVEAL = "reveal", _("Full mobile/ID revealed")
    EXPORT = "export", _("Exported")


class ViewPlace(models.TextChoices):
    """Where a customer's personal data was shown (``AccessRecord.details["page"]``): every
    page and API answer about one customer writes its access record with its place
    (``customers.services.privacy.customer_view_record``)."""

    PORTRAIT = "portrait", _("Customer portrait")
    CALL_SCREEN = "call_screen", _("Call screen")
    PRODUCT_CHECK = "product_check", _("Product suitability check")
    REFERRAL = "referral", _("Referral")
    FLAG = "flag", _("Compliance flag")
    API_REFERRAL = "api_referral", _("Referral (API)")
    API_SCORE = "api_score", _("Customer score (API)")
    ADMIN = "admin", pgettext_lazy("access purpose", "Administration")
    WEALTH_REPORT = "wealth_report", _("Annual wealth report")


class AccessRecordQuerySet(RestrictedQuerySet):
    """``view``: compliance officers and administrators see every record; nobody else any."""

    def _restrict(self, user, action: str) -> AccessRecordQuerySet:
        return self.all() if role_of(user) in ALL_SEEING_ROLES else self.none()


class AccessRecord(models.Model):
    """PIPL: who looked at whose personal data, when, from where and (for reveals) why.

    ``customer`` is null for an export of many customers (``details`` holds the filter).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("user")
    )
    customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="access_records",
        verbose_name=_("customer"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=AccessKind.choices, default=AccessKind.VIEW)
    fields = models.CharField(_("fields"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    occurred_at = models.DateTimeField(_("time"), default=timezone.now)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)

    objects = AccessRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("personal-data access record")
        verbose_name_plural = _("personal-data access records")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "-occurred_at"], name="access_cust_idx"),
            models.Index(fields=["user", "-occurred_at"], name="access_user_idx"),
            models.Index(fields=["-occurred_at"], name="access_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.customer_id} {self.occurred_at:%Y-%m-%d %H:%M}"


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers")
    HOLDINGS = "holdings", _("Holdings")
    SNAPSHOTS = "snapshots", _("AUM snapshots")
    RISK_ASSESSMENTS = "risk_assessments", _("Risk assessments")
    TAGS = "tags", _("Customer tags")
    INTERACTIONS = "interactions", _("Interactions")
    FLOWS = "flows", _("Fund flows")


class ImportMapping(models.Model):
    """A saved column mapping: target field -> column header in the bank's file."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("data"), max_length=20, choices=ImportKind.choices)
    columns = models.JSONField(_("columns"), default=dict)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("import column mapping")
        verbose_name_plural = _("import column mappings")
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="import_mapping_name_once")]

    def __str__(self) -> str:
        return self.name


class ImportBatchQuerySet(RestrictedQuerySet):
    """``view``: administrators see every uploaded file, anyone else the files they uploaded."""

    def _restrict(self, user, action: str) -> ImportBatchQuerySet:
        return self.all() if role_of(user) == Role.ADMIN else self.filter(created_by=user)


class ImportBatch(models.Model):
    """One uploaded file: its mapping, its dry-run result and the import job."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        CHECKED = "checked", _("Checked (dry run)")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Imported")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("data"), max_length=20, choices=ImportKind.choices)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(max_length=64, db_index=True)
    columns = models.JSONField(_("columns"), default=dict)
    headers = models.JSONField(_("headers"), default=list)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    preview = models.JSONField(_("dry-run result"), default=dict, blank=True)
    report = models.JSONField(_("result"), default=dict, blank=True)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name}"


class IntegrationClient(models.Model):
    """A system that pushes data through the REST API (core banking, the AI-bot platform).

    It authenticates as its own service user with a DRF token; ``scopes`` say which
    endpoints it may call (e.g. ``customers:write``, ``interactions:write``).
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="integration_client", verbose_name=_("user")
    )
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("integration client")
        verbose_name_plural = _("integration clients")

    def __str__(self) -> str:
        return self.name


# --- One contact ledger (the campaigns issue) ---------------------------------------------


class LedgerStatus(models.TextChoices):
    RESERVED = "reserved", _("Reserved")
    HELD = "held", _("Held for the contact window")
    USED = "used", _("Contact made")
    RELEASED = "released", _("Released")


# Entries that take a slot of the customer's frequency caps.
LEDGER_COUNTED = (LedgerStatus.RESERVED, LedgerStatus.HELD, LedgerStatus.USED)


class LedgerSource(models.TextChoices):
    CAMPAIGN = "campaign", _("Campaign")
    MANUAL_CALL = "manual_call", _("Manual marketing call")


class ContactLedgerEntry(models.Model):
    """One marketing contact of a customer, planned or made, on one channel: every
    campaign send and call task reserves one before it is scheduled, every manual
    marketing call records one. The frequency caps count these rows across campaigns and
    channels; the call screen's contact policy reads them. ``source_id`` is a plain id
    (a campaign, a call log): the apps above own those rows."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+", db_index=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=16, choices=LedgerStatus.choices)
    source = models.CharField(_("source"), max_length=16, choices=LedgerSource.choices)
    source_id = models.PositiveBigIntegerField(_("source id"), null=True, blank=True)
    # Chosen by a segment or a trigger rather than by a person (PIPL Art. 24).
    automated = models.BooleanField(_("automated"), default=True)
    priority = models.PositiveSmallIntegerField(_("priority"), default=5)
    # When the contact goes out (or went out): a held entry waits for the window to open.
    slot_at = models.DateTimeField(_("contact time"))
    # Idempotency: the same (campaign, step, customer, occurrence) reserves once.
    key = models.CharField(_("key"), max_length=120, unique=True)
    released_reason = models.CharField(_("released because"), max_length=32, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact ledger entry")
        verbose_name_plural = _("contact ledger entries")
        indexes = [models.Index(fields=["customer", "slot_at"], name="ledger_cust_slot_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.channel} {self.status}"


class AutomatedMarketingOptOut(models.Model):
    """The customer refused marketing driven by automated decisions (PIPL Art. 24): no
    campaign reaches them; an advisor's own call still may, within the other rules."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="+")
    opted_out_at = models.DateTimeField(_("opted out at"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("opt-out of automated marketing")
        verbose_name_plural = _("opt-outs of automated marketing")

    def __str__(self) -> str:
        return str(self.customer_id)
