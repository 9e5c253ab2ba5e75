"""The customer list's search and filters (one FilterSet for the page and the export)."""

from __future__ import annotations

import datetime as dt
import re

import django_filters as df
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from org.models import Branch, Team
from org.roles import Role

from .models import (
    AccessKind,
    AccessRecord,
    Channel,
    ContactPreference,
    Customer,
    CustomerTag,
    Holding,
    LifecycleStage,
    RiskLevel,
    Tag,
    Tier,
    id_number_normalized,
    mask_middle,
    mobile_normalized,
)

LAST4 = re.compile(r"^[0-9]{3}[0-9Xx]$")
# Bounds of the numeric filters: beyond them no customer exists, and a date would overflow.
AUM_MAX = 10**15
NOT_CONTACTED_DAYS_MAX = 36_500
SEARCH_MAX = 100  # a customer number, a name, a mobile or an ID number is far shorter


def search_q(term: str, *, prefix: str = "") -> Q:
    """The one customer search of the workbench, for every list that finds customers:
    customer number (exact, any case), name (prefix: index-friendly under any collation),
    the full mobile or ID number (exact, indexed: the number an inbound caller calls
    from, typed as the advisor hears it, "138 1234 5678" or "+86 138…"), or the last 4
    digits of mobile or ID. ``prefix`` reaches the customer from another model
    ("customer__" on leads, referrals, calls)."""
    term = term.strip()
    q = Q(**{f"{prefix}customer_no": term}) | Q(**{f"{prefix}customer_no": term.upper()})
    if not term.isdigit():
        q |= Q(**{f"{prefix}name__startswith": term})  # a string of digits is never a name
    if LAST4.match(term):
        q |= Q(**{f"{prefix}mobile_last4": term}) | Q(**{f"{prefix}id_last4": term.upper()})
    if mobile := mobile_normalized(term):
        q |= Q(**{f"{prefix}mobile": mobile})
    if id_number := id_number_normalized(term):
        q |= Q(**{f"{prefix}id_number": id_number})
    return q


def search_term_for_audit(term: str) -> str:
    """A search as the audit log keeps it: a full mobile or ID number masked like the
    pages show it (the log is read by more people than may reveal one)."""
    if mobile := mobile_normalized(term):
        return mask_middle(mobile, keep_start=3, keep_end=4)
    if id_number := id_number_normalized(term):
        return mask_middle(id_number, keep_start=4, keep_end=4)
    return term


def _years_ago(years: int) -> dt.date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a year without one
        return today.replace(year=today.year - years, day=28)


class CustomerFilter(df.FilterSet):
    q = df.CharFilter(method="filter_q", label=_("Search"), max_length=SEARCH_MAX)
    tier = df.ChoiceFilter(choices=Tier.choices, label=_("Tier"), empty_label=_("All"))
    aum_min = df.NumberFilter(
        field_name="aum", lookup_expr="gte", label=_("AUM from"), min_value=0, max_value=AUM_MAX, max_digits=18
    )
    aum_max = df.NumberFilter(
        field_name="aum", lookup_expr="lte", label=_("AUM to"), min_value=0, max_value=AUM_MAX, max_digits=18
    )
    risk_level = df.ChoiceFilter(choices=RiskLevel.choices, label=_("Risk level"), empty_label=_("All"))
    assessment_expired = df.ChoiceFilter(
        choices=[("true", _("Expired or missing")), ("false", _("Valid"))],
        method="filter_expired",
        label=_("Risk assessment"),
        empty_label=_("All"),
    )
    lifecycle_stage = df.ChoiceFilter(choices=LifecycleStage.choices, label=_("Lifecycle stage"), empty_label=_("All"))
    tag = df.ModelChoiceFilter(
        queryset=Tag.objects.order_by("category", "code"), method="filter_tag", label=_("Tag"), empty_label=_("All")
    )
    owner = df.ModelChoiceFilter(
        queryset=get_user_model()
        .objects.filter(staff_profile__role__in=[Role.ADVISOR, Role.TEAM_LEAD])
        .select_related("staff_profile")
        .order_by("staff_profile__display_name"),
        label=_("Owner advisor"),
        empty_label=_("All"),
    )
    branch = df.ModelChoiceFilter(
        field_name="home_branch", queryset=Branch.objects.all(), label=_("Home branch"), empty_label=_("All")
    )
    not_contacted_days = df.NumberFilter(
        method="filter_not_contacted",
        label=_("Not contacted in (days)"),
        min_value=1,
        max_value=NOT_CONTACTED_DAYS_MAX,
        decimal_places=0,
    )
    # Also the segment builder's conditions (campaigns saves this filter's parameters as a
    # segment, so a list filter and a segment mean the same customers).
    age_min = df.NumberFilter(method="filter_age_min", label=_("Age from"), min_value=0, max_value=150)
    age_max = df.NumberFilter(method="filter_age_max", label=_("Age to"), min_value=0, max_value=150)
    team = df.ModelChoiceFilter(
        field_name="owner__staff_profile__team", queryset=Team.objects.all(), label=_("Team"), empty_label=_("All")
    )
    maturity_within_days = df.NumberFilter(
        method="filter_maturity_within", label=_("A holding matures within (days)"), min_value=0, max_value=3660
    )
    consent = df.ChoiceFilter(
        choices=Channel.choices, method="filter_consent", label=_("Marketing consent on"), empty_label=_("All")
    )
    without_tag = df.ModelChoiceFilter(
        queryset=Tag.objects.order_by("category", "code"),
        method="filter_without_tag",
        label=_("Without tag"),
        empty_label=_("Any"),
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["owner"].field.label_from_instance = lambda u: getattr(
            getattr(u, "staff_profile", None), "display_name", u.get_username()
        )

    def filter_q(self, qs, name, value):
        return qs.filter(search_q(value)) if value.strip() else qs

    def filter_expired(self, qs, name, value):
        cutoff = timezone.now() - dt.timedelta(days=settings.WORKBENCH_RISK_ASSESSMENT_VALID_DAYS)
        expired = Q(risk_assessed_at__isnull=True) | Q(risk_assessed_at__lte=cutoff)
        return qs.filter(expired) if value == "true" else qs.exclude(expired)

    def filter_tag(self, qs, name, value):
        return qs.filter(Exists(CustomerTag.objects.filter(customer_id=OuterRef("pk"), tag=value)))

    def filter_maturity_within(self, qs, name, value):
        today = timezone.localdate()
        maturing = Holding.objects.filter(
            customer_id=OuterRef("pk"),
            maturity_date__gte=today,
            maturity_date__lte=today + dt.timedelta(days=int(value)),
        )
        return qs.filter(Exists(maturing))

    def filter_consent(self, qs, name, value):
        """Consented to marketing on the channel and not on do-not-disturb there now."""
        consented = ContactPreference.objects.filter(customer_id=OuterRef("pk"), channel=value, consent=True).filter(
            Q(dnd_until__isnull=True) | Q(dnd_until__lte=timezone.now())
        )
        return qs.filter(Exists(consented))

    def filter_without_tag(self, qs, name, value):
        return qs.exclude(Exists(CustomerTag.objects.filter(customer_id=OuterRef("pk"), tag=value)))

    def filter_age_min(self, qs, name, value):
        """At least ``value`` years old today: born on or before this day ``value`` years ago."""
        return qs.filter(birth_date__lte=_years_ago(int(value)))

    def filter_age_max(self, qs, name, value):
        """At most ``value`` years old today: born after this day ``value`` + 1 years ago."""
        return qs.filter(birth_date__gt=_years_ago(int(value) + 1))

    def filter_not_contacted(self, qs, name, value):
        cutoff = timezone.now() - dt.timedelta(days=int(value))
        return qs.filter(Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=cutoff))


class AccessRecordFilter(df.FilterSet):
    user = df.CharFilter(field_name="user__username", label=_("User (login)"))
    customer = df.CharFilter(field_name="customer__customer_no", label=_("Customer number"))
    kind = df.ChoiceFilter(choices=AccessKind.choices, label=_("Kind"), empty_label=_("All"))
    since = df.DateFilter(field_name="occurred_at", lookup_expr="date__gte", label=_("From"))
    until = df.DateFilter(field_name="occurred_at", lookup_expr="date__lte", label=_("To"))

    class Meta:
        model = AccessRecord
        fields: list[str] = []
