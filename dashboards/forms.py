"""The dashboards' one parameter form: the period and the filters, checked at the edge
(dates as dates within 1900–2099, ids as ids, the end not before the start)."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.forms import BoundedDateField, id_or_none

from .selectors import BREAKDOWNS, Period, period_for

PERIOD_KINDS = (
    ("day", pgettext_lazy("period choice", "Day")),
    ("week", pgettext_lazy("period choice", "Week")),
    ("month", pgettext_lazy("period choice", "Month")),
    ("custom", _("Custom range")),
)
MAX_DAYS = 800  # two years and a little: the data the dashboards are built for
ID_FIELDS = ("team", "advisor", "branch", "campaign", "rm")


class DashboardForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_KINDS, required=False)
    start = BoundedDateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = BoundedDateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    by = forms.ChoiceField(label=_("Break down by"), choices=list(BREAKDOWNS.items()), required=False)
    team = forms.CharField(label=_("Team"), required=False, max_length=20)
    advisor = forms.CharField(label=_("Advisor"), required=False, max_length=20)
    branch = forms.CharField(label=_("Branch"), required=False, max_length=20)
    campaign = forms.CharField(label=_("Campaign"), required=False, max_length=20)
    rm = forms.CharField(label=_("Relationship manager"), required=False, max_length=20)

    def clean(self):
        data = super().clean()
        for name in ID_FIELDS:
            raw = data.get(name)
            if raw and id_or_none(raw) is None:
                self.add_error(name, _("Choose one from the list."))
        start, end = data.get("start"), data.get("end")
        if data.get("period") == "custom" and start and end:
            if end < start:
                self.add_error("end", _("The end date must not be before the start date."))
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error("end", _("Choose at most %(days)s days.") % {"days": MAX_DAYS})
        return data


def read_params(data, *, default_kind: str = "week") -> tuple[Period, dict, str, DashboardForm]:
    """The period, the filters and the breakdown from a query string. Anything wrong falls
    back to the default (this week) and the form carries the message to show."""
    form = DashboardForm(data)
    today = timezone.localdate()
    valid = form.is_valid()
    cleaned = form.cleaned_data if valid else {}
    kind = cleaned.get("period") or default_kind
    end = cleaned.get("end") or today
    start = cleaned.get("start") or (end - dt.timedelta(days=29))
    period = period_for(kind, end, start) if valid else period_for(default_kind, today)
    filters = {name: id_or_none(cleaned.get(name)) for name in ID_FIELDS} if valid else {}
    return period, filters, cleaned.get("by") or "", form
