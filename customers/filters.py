"""The customer list's search and filters (one FilterSet for the page and the export)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

import django_filters as df
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Case, DecimalField, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from core.forms import IdsChoiceField
from org.models import Branch, Team
from org.roles import Role

from .extensions import LIST_FILTERS
from .models import (
    AccessKind,
    AccessRecord,
    AssetSnapshot,
    Channel,
    ContactPreference,
    Customer,
    CustomerTag,
    Holding,
    InteractionIntent,
    LifecycleStage,
    ProductRisk,
    ProductType,
    RiskLevel,
    Tag,
    Tier,
    id_number_normalized,
    mask_middle,
    mobile_normalized,
)
from .selectors import INTENT_LABELS

LAST4 = re.compile(r"^[0-9]{3}[0-9Xx]$")
# Bounds of the numeric filters: beyond them no customer exists, and a date would overflow.
AUM_MAX = 10**15
NOT_CONTACTED_DAYS_MAX = 36_500
SEARCH_MAX = 100  # a customer number, a name, a mobile or an ID number is far shorter
INTENT_DAYS_MAX = 365
DEFAULT_INTENT_DAYS = 30
TAGS_ALL_MAX = 5  # each tag is one indexed probe; five is more than a segment needs
AUM_CHANGE_PERCENT_MAX = 1000


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


class AumChange:
    FALL = "fall"
    RISE = "rise"


AUM_CHANGE_CHOICES = [(AumChange.FALL, _("Fell")), (AumChange.RISE, _("Rose"))]
AUM_CHANGE_DAYS = [("30", _("in 30 days")), ("90", _("in 90 days"))]


def _intent_choices() -> list[tuple[str, str]]:
    return list(INTENT_LABELS().items())


def _cross_checks(values: dict) -> dict[str, str]:
    """Conditions of the list's own that only make sense together: {field: message}."""
    errors: dict[str, str] = {}
    change_fields = ("aum_change", "aum_change_days", "aum_change_percent", "aum_change_amount")
    if any(values.get(f) not in (None, "") for f in change_fields):
        if not values.get("aum_change"):
            errors["aum_change"] = _("Choose whether the AUM fell or rose.")
        if not values.get("aum_change_days"):
            errors["aum_change_days"] = _("Choose over 30 or 90 days.")
        if values.get("aum_change_percent") is None and values.get("aum_change_amount") is None:
            errors["aum_change_percent"] = _("Give the change in % or in CNY (or both: either is enough).")
    if len(values.get("tags_all") or []) > TAGS_ALL_MAX:
        errors["tags_all"] = _("Choose at most %(n)s tags.") % {"n": TAGS_ALL_MAX}
    if values.get("intent_days") is not None and not values.get("intent"):
        errors["intent"] = _("Choose the intent the AI bot detected.")
    low, high = values.get("age_min"), values.get("age_max")
    if low is not None and high is not None and low > high:
        errors["age_max"] = _("The upper age is below the lower one.")
    low, high = values.get("aum_min"), values.get("aum_max")
    if low is not None and high is not None and low > high:
        errors["aum_max"] = _("The upper AUM is below the lower one.")
    return errors


class CustomerFilterForm(forms.Form):
    """The filter's form: a condition needing another (the AUM change needs its
    direction, period and size) is refused with a message under its field."""

    def clean(self):
        values = super().clean()
        errors = _cross_checks(values)
        for entry in LIST_FILTERS.entries():
            if entry.clean is not None:
                errors |= entry.clean(values)
        for name, message in errors.items():
            if name in self.fields:
                self.add_error(name, message)
        return self.cleaned_data


def condition_names() -> set[str]:
    """Every parameter of the customer list: its own and those the apps above register."""
    names = set(CustomerFilter.base_filters)
    for entry in LIST_FILTERS.entries():
        if not entry.list_only:
            names |= set(entry.filters())
    return names


class TagsFilter(df.ModelMultipleChoiceFilter):
    # A value no row id can be is refused by the field, never handed to ``pk__in``.
    field_class = IdsChoiceField


@dataclass(frozen=True)
class QuickField:
    """One condition of the list's filter form as the page writes it (``kind`` is the
    widget: "number", "selectmultiple" or "select"; ``options`` the select's options,
    already HTML)."""

    name: str
    id: str
    label: str
    kind: str
    value: object
    options: SafeString
    errors: list


def _option_html(choices, selected) -> SafeString:
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if selected(str(value)) else "", label) for value, label in choices),
    )


def _queryset_key(qs) -> tuple:
    """What makes two choice querysets read the same rows: a plain ordered table (the
    three tag selects) by its model and order, without compiling SQL; any other by the SQL
    and parameters it runs (the campaign selects: a few microseconds each)."""
    q = qs.query
    plain = not q.where.children and not q.select_related and not q.annotations and not q.distinct
    if plain and q.low_mark == 0 and q.high_mark is None and q.deferred_loading == (frozenset(), True):
        return (qs.model, tuple(q.order_by))
    sql, params = q.sql_with_params()
    return (qs.model, sql, tuple(params))


def _model_choices(field, read: dict) -> list:
    """A model select's choices as its own iterator gives them (empty label, null label,
    then one per row), reading each distinct queryset once a page: three tag selects and
    three campaign selects share their rows, and no ``COUNT`` is run."""
    choices = [] if field.empty_label is None else [("", field.empty_label)]
    if getattr(field, "null_label", None) is not None:
        choices.append((field.null_value, field.null_label))
    qs = field.queryset
    if qs.query.is_empty():
        return choices
    key = _queryset_key(qs)
    if key not in read:
        read[key] = list(qs)
    return choices + [(field.prepare_value(obj), field.label_from_instance(obj)) for obj in read[key]]


def quick_fields(form) -> list[QuickField]:
    """Every condition but the search box, ready to write: the page's form is some thirty
    fields and two hundred options, which through bound fields and template loops was
    most of the list's server time. The same words, values and selected options."""
    read: dict = {}
    fields = []
    for bound in form:
        if bound.name == "q":
            continue
        kind = bound.widget_type
        value = bound.value()
        field = bound.field
        options = SafeString("")
        if kind != "number":
            # a condition with no choices (a text box an app registers) gets an empty select, as before
            choices = (
                _model_choices(field, read)
                if isinstance(field, forms.ModelChoiceField)
                else getattr(field, "choices", ())
            )
            if kind == "selectmultiple":
                chosen = value if isinstance(value, list | tuple) else ()
                options = _option_html(choices, lambda v, chosen=chosen: v in chosen)
            else:
                options = _option_html(choices, lambda v, shown=str(value): v == shown)
        fields.append(
            QuickField(bound.html_name, bound.id_for_label, bound.label, kind, value or "", options, bound.errors)
        )
    return fields


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
    tags_all = TagsFilter(
        queryset=Tag.objects.order_by("category", "code"),
        method="filter_tags_all",
        label=_("Has all of these tags"),
    )
    # AUM now against the latest snapshot on or before 30/90 days ago (the portrait
    # header's "change over 30 days"); a change of at least the % or the CNY amount.
    aum_change = df.ChoiceFilter(
        choices=AUM_CHANGE_CHOICES, method="filter_aum_change", label=_("AUM change"), empty_label=_("Any")
    )
    aum_change_days = df.ChoiceFilter(
        choices=AUM_CHANGE_DAYS, method="filter_part_of_aum_change", label=_("AUM change over"), empty_label="—"
    )
    aum_change_percent = df.NumberFilter(
        method="filter_part_of_aum_change",
        label=_("AUM change of at least (%)"),
        min_value=Decimal("0.01"),
        max_value=AUM_CHANGE_PERCENT_MAX,
        max_digits=6,
        decimal_places=2,
    )
    aum_change_amount = df.NumberFilter(
        method="filter_part_of_aum_change",
        label=_("AUM change of at least (CNY)"),
        min_value=Decimal("0.01"),
        max_value=AUM_MAX,
        max_digits=18,
        decimal_places=2,
    )
    product_type = df.ChoiceFilter(
        choices=ProductType.choices, method="filter_holds", label=_("Holds a product of type"), empty_label=_("Any")
    )
    product_risk_min = df.ChoiceFilter(
        choices=ProductRisk.choices,
        method="filter_holds",
        label=_("Holds a product of risk at least"),
        empty_label=_("Any"),
    )
    intent = df.ChoiceFilter(choices=[], method="filter_intent", label=_("AI-bot intent"), empty_label=_("Any"))
    intent_days = df.NumberFilter(
        method="filter_part_of_intent",
        label=_("AI-bot intent in the last (days, 30 if blank)"),
        min_value=1,
        max_value=INTENT_DAYS_MAX,
        decimal_places=0,
    )

    class Meta:
        model = Customer
        fields: list[str] = []
        form = CustomerFilterForm

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The intents in the reader's language (the list is translated per call).
        self.filters["intent"].extra["choices"] = _intent_choices()
        # Conditions on what the apps above own (scores, campaigns), registered by them.
        user = getattr(self.request, "user", None)
        for entry in LIST_FILTERS.entries():
            if entry.visible is not None and (user is None or not entry.visible(user)):
                continue
            for name, extra in entry.filters().items():
                if name not in self.filters:
                    extra.model, extra.parent = Customer, self
                    self.filters[name] = extra
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

    def filter_tags_all(self, qs, name, value):
        for tag in value:
            qs = qs.filter(Exists(CustomerTag.objects.filter(customer_id=OuterRef("pk"), tag=tag)))
        return qs

    def _value(self, name: str):
        return self.form.cleaned_data.get(name)

    def filter_part_of_aum_change(self, qs, name, value):
        """Read by ``filter_aum_change``: alone, not a condition (the form refuses it)."""
        return qs

    def filter_aum_change(self, qs, name, value):
        """A fall (or rise) of at least the % or at least the CNY amount, either enough.

        The latest snapshot on or before the cutoff gives the bound the AUM must reach
        (for a fall: the lower of "past less the amount" and "past less the %", so either
        is enough), computed inside one sub-select: one backward probe of the snapshot
        index (customer, date) per customer. A % of nothing means nothing: a past AUM of 0
        gives no % bound (as the outflow trigger)."""
        days, percent, amount = (
            self._value("aum_change_days"),
            self._value("aum_change_percent"),
            self._value("aum_change_amount"),
        )
        if not days or (percent is None and amount is None):
            return qs  # the form has refused it already: the list shows the message
        cutoff = timezone.localdate() - dt.timedelta(days=int(days))
        money = DecimalField(max_digits=20, decimal_places=4)
        fall = value == AumChange.FALL
        bounds = []
        if amount is not None:
            bounds.append(ExpressionWrapper(F("aum") - amount if fall else F("aum") + amount, output_field=money))
        if percent is not None:
            share = (1 - percent / 100) if fall else (1 + percent / 100)
            by_share = Case(When(aum__gt=0, then=ExpressionWrapper(F("aum") * share, output_field=money)))
            bounds.append(by_share if not bounds else Coalesce(by_share, bounds[0], output_field=money))
        bound = bounds[-1] if len(bounds) == 1 else (Greatest if fall else Least)(*bounds, output_field=money)
        past_bound = Subquery(
            AssetSnapshot.objects.filter(customer_id=OuterRef("pk"), date__lte=cutoff)
            .order_by("-date")
            .annotate(bound=bound)
            .values("bound")[:1],
            output_field=money,
        )
        return qs.filter(**{"aum__lte" if fall else "aum__gte": past_bound})

    def filter_holds(self, qs, name, value):
        """Holds a product of the type, of at least the risk level, or both in one holding."""
        kind, risk = self._value("product_type"), self._value("product_risk_min")
        if name == "product_risk_min" and kind:
            return qs  # applied with the type, to the same holding
        held = Holding.objects.filter(customer_id=OuterRef("pk"))
        if kind:
            held = held.filter(product__type=kind)
        if risk:
            held = held.filter(product__risk_level__gte=int(risk))
        return qs.filter(Exists(held))

    def filter_part_of_intent(self, qs, name, value):
        """Read by ``filter_intent``: alone, not a condition (the form refuses it)."""
        return qs

    def filter_intent(self, qs, name, value):
        """An AI-bot session in the last N days with the intent: read from the narrow
        ``InteractionIntent`` rows by their (intent, time, customer) index, never from the
        sessions' JSON."""
        days = self._value("intent_days") or DEFAULT_INTENT_DAYS
        heard = InteractionIntent.objects.filter(
            intent=value, occurred_at__gte=timezone.now() - dt.timedelta(days=int(days))
        ).values("customer_id")
        return qs.filter(pk__in=heard)

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
