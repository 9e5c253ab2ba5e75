"""One FilterSet per compliance list, shared by its page and, where it has one, its API.

The pages keep their hand-written filter bars (the parameter names are these filters');
a value a filter cannot read is ignored on a page and answered with 400 by the API.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Product, ProductType

from .constants import Category, Language, Severity
from .models import Flag, FlagKind, FlagStatus, LexiconRule, ScriptPurpose, ScriptVersion
from .selectors import for_product_q, of_product_type_q

SEARCH_MAX = 100


class ScriptLibraryFilter(django_filters.FilterSet):
    """The approved scripts: the library page and ``GET /api/compliance/scripts/``."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_q", max_length=SEARCH_MAX)
    product = django_filters.ModelChoiceFilter(
        label=_("Product"), queryset=Product.objects.all(), method="filter_product"
    )
    product_type = django_filters.ChoiceFilter(
        label=_("Product type"), choices=ProductType.choices, method="filter_product_type"
    )
    purpose = django_filters.ChoiceFilter(
        label=pgettext_lazy("script", "Purpose"), field_name="script__purpose", choices=ScriptPurpose.choices
    )

    class Meta:
        model = ScriptVersion
        fields = ["q", "product", "product_type", "purpose"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(script__title__icontains=value) | Q(body__icontains=value) | Q(script__product__name__icontains=value)
        )

    def filter_product(self, queryset, name, value):
        return queryset.filter(for_product_q(value))

    def filter_product_type(self, queryset, name, value):
        return queryset.filter(of_product_type_q(value))


REVIEW_STATUS_ALL = "all"


class FlagFilter(django_filters.FilterSet):
    """The review queue. Without a status it shows the flags not closed yet."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_q", max_length=SEARCH_MAX)
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=[*FlagStatus.choices, (REVIEW_STATUS_ALL, _("All"))], method="filter_status"
    )
    severity = django_filters.ChoiceFilter(label=_("Severity"), choices=Severity.choices)
    category = django_filters.ChoiceFilter(
        label=_("Category"), choices=[c for c in Category.choices if c[0] != Category.ALLOW]
    )
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=FlagKind.choices)
    mine = django_filters.BooleanFilter(label=_("Mine"), method="filter_mine")

    class Meta:
        model = Flag
        fields = ["q", "status", "severity", "category", "kind", "mine"]

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.exclude(status=FlagStatus.CLOSED)
        return queryset

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(match__icontains=value) | Q(text_snapshot__icontains=value) | Q(rule_code__icontains=value)
        )

    def filter_status(self, queryset, name, value):
        return queryset if value == REVIEW_STATUS_ALL else queryset.filter(status=value)

    def filter_mine(self, queryset, name, value):
        return queryset.filter(assignee=self.request.user) if value and self.request is not None else queryset


class LexiconFilter(django_filters.FilterSet):
    """The lexicon page."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_q", max_length=SEARCH_MAX)
    category = django_filters.ChoiceFilter(label=_("Category"), choices=Category.choices)
    language = django_filters.ChoiceFilter(label=_("Language"), choices=Language.choices)
    severity = django_filters.ChoiceFilter(label=_("Severity"), choices=Severity.choices)
    state = django_filters.ChoiceFilter(
        label=_("State"),
        choices=[("active", _("Active today")), ("inactive", _("Not active"))],
        method="filter_state",
    )

    class Meta:
        model = LexiconRule
        fields = ["q", "category", "language", "severity", "state"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(pattern__icontains=value) | Q(code__icontains=value) | Q(description__icontains=value))

    def filter_state(self, queryset, name, value):
        if value == "active":
            return queryset.active()
        return queryset.exclude(pk__in=LexiconRule.objects.active().values("pk"))
