"""Forms of the queues and the call screen. They parse input; services decide."""

from __future__ import annotations

import functools
import uuid

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import IdsChoiceField
from customers.models import Product, Tag, TagCategory, TouchKind
from leads.models import Grade, GradeOverrideReason

from .models import CallLog, CallPurpose, Disposition, InterestLevel, LostReason, NextAction
from .selectors import dispositions_active

# A call is a themed interaction, an allocation review or neither (the written report is
# recorded when it is delivered, not on a call).
CALL_TOUCH_KINDS = [
    (TouchKind.THEMED, TouchKind.THEMED.label),
    (TouchKind.REVIEW, TouchKind.REVIEW.label),
    (TouchKind.NONE, _("Neither")),
]
DATETIME_LOCAL = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ConfirmGradeForm(forms.Form):
    grade = forms.ChoiceField(label=_("Confirmed grade"), choices=Grade.choices, widget=forms.RadioSelect)
    reason_code = forms.ChoiceField(
        label=_("Override reason"),
        choices=[("", _("— only when changing the proposed grade —")), *GradeOverrideReason.choices],
        required=False,
    )
    note = forms.CharField(
        label=_("Note / needs summary"), required=False, max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )


class CallOutcomeForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    script_version_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    purpose = forms.ChoiceField(
        label=_("Purpose"), choices=CallPurpose.choices, initial=CallPurpose.MARKETING, widget=forms.RadioSelect
    )
    service_reason = forms.CharField(label=_("Service-call reason"), required=False, max_length=300)
    started_at = forms.DateTimeField(label=_("Started at"), input_formats=DATETIME_LOCAL, widget=DateTimeLocalInput)
    duration_minutes = forms.DecimalField(
        label=_("Duration (min)"), required=False, min_value=0, max_value=600, decimal_places=1
    )
    disposition = forms.ModelChoiceField(
        label=_("Disposition"), queryset=Disposition.objects.none(), widget=forms.RadioSelect, empty_label=None
    )
    interest = forms.ChoiceField(
        label=_("Interest"), choices=InterestLevel.choices, initial=InterestLevel.NONE, widget=forms.RadioSelect
    )
    touch_kind = forms.ChoiceField(
        label=_("Kind of touch (12-4-2-1)"),
        choices=CALL_TOUCH_KINDS,
        initial=TouchKind.NONE,
        required=False,
        widget=forms.RadioSelect,
    )
    products = IdsChoiceField(
        label=_("Products discussed"),
        queryset=Product.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )
    needs = IdsChoiceField(
        label=_("Needs confirmed"),
        queryset=Tag.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=CallLog.NOTES_MAX
    )
    next_action = forms.ChoiceField(label=_("Next action"), choices=NextAction.choices, initial=NextAction.NONE)
    callback_at = forms.DateTimeField(
        label=_("Call back at"), required=False, input_formats=DATETIME_LOCAL, widget=DateTimeLocalInput
    )
    won_product = forms.ModelChoiceField(label=_("Product bought"), queryset=Product.objects.none(), required=False)
    won_amount = forms.DecimalField(label=_("Amount (CNY)"), required=False, min_value=0, decimal_places=2)
    second_review = forms.BooleanField(
        label=_("Second-level review done and extra risk explanation given (customer 65 or over, R4/R5 product)"),
        required=False,
    )
    lost_reason = forms.ChoiceField(label=_("Lost reason"), choices=[("", "—"), *LostReason.choices], required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["disposition"].queryset = dispositions_active()
        on_shelf = Product.objects.filter(on_shelf=True).order_by("risk_level", "code")
        self._on_shelf: list[Product] | None = None
        for name in ("products", "won_product"):
            field = self.fields[name]
            field.queryset = on_shelf  # what a submitted value is checked against
            # The choices a page lists come from one read of the products on shelf, shared
            # by the call screen's three product lists (each list's own iterator read them
            # again, and counted them once more: four queries). Read when first listed.
            field.choices = functools.partial(self._product_choices, field)
        self.fields["needs"].queryset = Tag.objects.filter(category=TagCategory.PREFERENCE).order_by("code")
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)
            self.initial.setdefault("started_at", timezone.localtime().replace(second=0, microsecond=0))

    def products_on_shelf(self) -> list[Product]:
        """The products one may discuss or sell, read once for the form."""
        if self._on_shelf is None:
            self._on_shelf = list(self.fields["products"].queryset)
        return self._on_shelf

    def _product_choices(self, field) -> list[tuple]:
        empty = [("", field.empty_label)] if field.empty_label is not None else []
        return [*empty, *((p.pk, field.label_from_instance(p)) for p in self.products_on_shelf())]
