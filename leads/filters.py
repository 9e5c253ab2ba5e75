"""One FilterSet per list, shared by the queue pages and the API."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from customers.filters import search_q
from customers.models import Tier

from .models import Grade, Lead, LeadSource, LeadStatus, PlannedCall, PlannedCallKind
from .selectors import planned_calls_due


class LeadQueueFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Customer name or number"), method="filter_q")
    grade = django_filters.ChoiceFilter(
        label=_("Proposed grade"), field_name="proposed_grade", choices=Grade.choices, empty_label=_("All")
    )
    min_score = django_filters.NumberFilter(
        label=_("Minimum score"), field_name="score", lookup_expr="gte", min_value=0, max_value=100
    )
    tier = django_filters.ChoiceFilter(
        label=_("Tier"), field_name="customer__tier", choices=Tier.choices, empty_label=_("All")
    )
    source = django_filters.ChoiceFilter(label=_("Source"), choices=LeadSource.choices, empty_label=_("All"))

    class Meta:
        model = Lead
        fields = ["q", "grade", "min_score", "tier", "source"]

    def filter_q(self, queryset, name, value):
        """The workbench's one customer search (``customers.filters.search_q``): number
        exact, name prefix, the full mobile or ID number, their last 4 digits."""
        if not value.strip():
            return queryset
        return queryset.filter(search_q(value, prefix="customer__"))


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
    """Today's calls: when they are due (today and overdue unless asked) and their kind."""

    when = django_filters.ChoiceFilter(label=_("When"), choices=WHEN_CHOICES, method="filter_when", empty_label=None)
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=PlannedCallKind.choices, empty_label=_("All"))

    class Meta:
        model = PlannedCall
        fields = ["when", "kind"]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and data.get("when") not in dict(WHEN_CHOICES):
            data = data.copy()
            data["when"] = "today"
        super().__init__(data, *args, **kwargs)

    def filter_when(self, queryset, name, value):
        return planned_calls_due(queryset, when=value)
