"""One FilterSet per queue, shared by the HTML tables and the API."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from customers.models import Tier

from .models import Grade, Lead, LeadSource, LeadStatus, PlannedCall, PlannedCallKind


class LeadQueueFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Customer name or number"), method="filter_q")
    grade = django_filters.ChoiceFilter(
        label=_("Proposed grade"), field_name="proposed_grade", choices=Grade.choices, empty_label=_("All")
    )
    min_score = django_filters.NumberFilter(label=_("Minimum score"), field_name="score", lookup_expr="gte")
    tier = django_filters.ChoiceFilter(
        label=_("Tier"), field_name="customer__tier", choices=Tier.choices, empty_label=_("All")
    )
    source = django_filters.ChoiceFilter(label=_("Source"), choices=LeadSource.choices, empty_label=_("All"))

    class Meta:
        model = Lead
        fields = ["q", "grade", "min_score", "tier", "source"]

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        if value.isascii() and value[:1].upper() == "C":
            return queryset.filter(customer__customer_no=value.upper())
        return queryset.filter(
            Q(customer__name=value) | Q(customer__mobile_last4=value[-4:] if value.isdigit() else "-")
        )


class LeadApiFilter(LeadQueueFilter):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=LeadStatus.choices, empty_label=_("All"))

    class Meta(LeadQueueFilter.Meta):
        fields = [*LeadQueueFilter.Meta.fields, "status"]


WHEN_CHOICES = [
    ("today", _("Today and overdue")),
    ("tomorrow", _("Tomorrow")),
    ("week", _("Next 7 days")),
    ("all", _("All planned")),
]


class PlannedCallFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=PlannedCallKind.choices, empty_label=_("All"))

    class Meta:
        model = PlannedCall
        fields = ["kind"]
