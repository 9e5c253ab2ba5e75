"""The one filter of referral lists: the list page, its export and the API use it alike."""

from __future__ import annotations

import django_filters as df
from django import forms
from django.utils.translation import gettext_lazy as _

from customers.filters import search_q
from org.models import Branch

from .models import ReferralStatus

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ReferralFilter(df.FilterSet):
    """Search (the workbench's customer search, ``customers.filters.search_q``), status,
    receiving branch and the period the referrals were made in (local dates)."""

    q = df.CharFilter(method="filter_q", label=_("Customer name, number, mobile or ID number"))
    status = df.ChoiceFilter(choices=ReferralStatus.choices, label=_("Status"), empty_label=_("All statuses"))
    branch = df.ModelChoiceFilter(
        queryset=Branch.objects.order_by("code"), label=_("Branch"), empty_label=_("All branches")
    )
    since = df.DateFilter(field_name="created_at", lookup_expr="date__gte", label=_("From"), widget=DATE)
    until = df.DateFilter(field_name="created_at", lookup_expr="date__lte", label=_("To"), widget=DATE)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.form.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs["class"] = "form-select form-select-sm" if select else "form-control form-control-sm"
        self.form.fields["q"].widget.attrs["data-search-box"] = True

    def filter_q(self, qs, name, value):
        return qs.filter(search_q(value, prefix="customer__")) if value.strip() else qs

    def params(self) -> dict[str, str]:
        """The filters in use, as given (for the audit record of an export and for links)."""
        return {name: str(self.data[name]) for name in self.filters if self.data.get(name) not in (None, "")}
