"""Forms of the compliance screens. They parse and validate input; services write."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.forms import BoundedDateField
from customers.models import Product, ProductType
from org.roles import Role, staff_name

from .constants import Category, Language, Severity
from .models import FlagOutcome, LexiconRule, ScriptPurpose

_TEXT = {"class": "form-control"}
_SELECT = {"class": "form-select"}


class ScriptForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120, widget=forms.TextInput(attrs=_TEXT))
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.order_by("name"),
        required=False,
        widget=forms.Select(attrs=_SELECT),
        help_text=_("Leave empty for a script that serves every product of a type."),
    )
    product_type = forms.ChoiceField(
        label=_("Product type"),
        choices=[("", "—")] + list(ProductType.choices),
        required=False,
        widget=forms.Select(attrs=_SELECT),
    )
    purpose = forms.ChoiceField(
        label=pgettext_lazy("script", "Purpose"), choices=ScriptPurpose.choices, widget=forms.Select(attrs=_SELECT)
    )
    body = forms.CharField(
        label=_("Script text"), widget=forms.Textarea(attrs={**_TEXT, "rows": 10}), max_length=10_000
    )

    def clean(self):
        data = super().clean()
        if not data.get("product") and not data.get("product_type"):
            self.add_error("product_type", _("Choose a product or a product type."))
        return data


class VersionEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=120, widget=forms.TextInput(attrs=_TEXT))
    body = forms.CharField(
        label=_("Script text"), widget=forms.Textarea(attrs={**_TEXT, "rows": 12}), max_length=10_000
    )


class ApproveForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={**_TEXT, "rows": 2}), max_length=2000
    )
    acknowledge_medium = forms.BooleanField(
        label=_("I have read the medium-severity findings and accept them for this version."), required=False
    )


class RejectForm(forms.Form):
    comment = forms.CharField(
        label=_("Comments for the author"), widget=forms.Textarea(attrs={**_TEXT, "rows": 3}), max_length=2000
    )


class LexiconRuleForm(forms.ModelForm):
    note = forms.CharField(label=_("Change note"), required=False, max_length=300, widget=forms.TextInput(attrs=_TEXT))

    class Meta:
        model = LexiconRule
        fields = (
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
            "owner",
        )
        widgets = {
            "pattern": forms.TextInput(attrs=_TEXT),
            "language": forms.Select(attrs=_SELECT, choices=Language.choices),
            "category": forms.Select(attrs=_SELECT, choices=Category.choices),
            "severity": forms.Select(attrs=_SELECT, choices=Severity.choices),
            "source": forms.TextInput(attrs=_TEXT),
            "description": forms.TextInput(attrs=_TEXT),
            "active_from": forms.DateInput(attrs={**_TEXT, "type": "date"}, format="%Y-%m-%d"),
            "active_until": forms.DateInput(attrs={**_TEXT, "type": "date"}, format="%Y-%m-%d"),
            "owner": forms.Select(attrs=_SELECT),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = (
            get_user_model().objects.filter(staff_profile__role=Role.COMPLIANCE).select_related("staff_profile")
        )
        self.fields["owner"].label_from_instance = staff_name  # the officer's name, not their log-in
        self.fields["owner"].required = False

    def _post_clean(self):
        # The service validates and saves; do not let the ModelForm touch the instance.
        pass

    def rule_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "note"}
        return data


class FlagCloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=pgettext_lazy("review", "Outcome"), choices=FlagOutcome.choices, widget=forms.Select(attrs=_SELECT)
    )
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={**_TEXT, "rows": 3}), max_length=2000)


class FlagEscalateForm(forms.Form):
    to_user = forms.ModelChoiceField(
        label=_("Senior officer"), queryset=get_user_model().objects.none(), widget=forms.Select(attrs=_SELECT)
    )
    comment = forms.CharField(label=_("Why"), widget=forms.Textarea(attrs={**_TEXT, "rows": 2}), max_length=2000)

    def __init__(self, *args, targets=None, **kwargs):
        super().__init__(*args, **kwargs)
        if targets is not None:
            self.fields["to_user"].queryset = targets
            self.fields["to_user"].label_from_instance = lambda u: getattr(
                getattr(u, "staff_profile", None), "display_name", u.get_username()
            )


class BulkCloseForm(forms.Form):
    flag_ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), required=True, label=_("Flags"))
    reason = forms.CharField(
        label=_("Reason these are false positives"), max_length=500, widget=forms.TextInput(attrs=_TEXT)
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ids = self.data.getlist("flag_ids") if hasattr(self.data, "getlist") else []
        self.fields["flag_ids"].choices = [(i, i) for i in ids if str(i).isdigit()]
        self.fields["flag_ids"].error_messages["required"] = _("Select at least one flag.")


class QASettingsForm(forms.Form):
    share_percent = forms.DecimalField(
        label=_("Share of calls sampled per advisor and week (%)"),
        min_value=0,
        max_value=100,
        decimal_places=2,
        widget=forms.NumberInput(attrs={**_TEXT, "step": "0.5"}),
    )
    minimum_per_advisor = forms.IntegerField(
        label=_("Minimum calls per advisor and week"), min_value=0, max_value=100, widget=forms.NumberInput(attrs=_TEXT)
    )


class DateRangeForm(forms.Form):
    date_from = BoundedDateField(
        label=_("From"), widget=forms.DateInput(attrs={**_TEXT, "type": "date"}, format="%Y-%m-%d")
    )
    date_to = BoundedDateField(
        label=_("To"), widget=forms.DateInput(attrs={**_TEXT, "type": "date"}, format="%Y-%m-%d")
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data


def default_report_range(request_get) -> tuple[dt.date, dt.date, DateRangeForm]:
    today = timezone.localdate()
    initial = {"date_from": today - dt.timedelta(days=83), "date_to": today}
    form = DateRangeForm(request_get or None, initial=initial)
    if request_get and form.is_valid():
        return form.cleaned_data["date_from"], form.cleaned_data["date_to"], form
    if not request_get:
        form = DateRangeForm(initial=initial)
    return initial["date_from"], initial["date_to"], form


class ConceptGroupForm(forms.Form):
    """A concept group as officers type it (the service validates and saves)."""

    name = forms.CharField(label=_("Name"), max_length=40, widget=forms.TextInput(attrs={"class": "form-control"}))
    description = forms.CharField(
        label=_("Description"), max_length=200, required=False, widget=forms.TextInput(attrs={"class": "form-control"})
    )
    terms = forms.CharField(
        label=_("Terms, one per line"),
        max_length=20000,
        widget=forms.Textarea(attrs={"class": "form-control font-monospace", "rows": 12}),
    )

    def __init__(self, *args, instance=None, **kwargs):
        if instance is not None and not args:
            kwargs.setdefault(
                "initial", {"name": instance.name, "description": instance.description, "terms": instance.terms}
            )
        super().__init__(*args, **kwargs)
