"""Forms of the referral pages: they parse and validate input; services do the writes."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Product

from .models import NOTE_MAX, FollowUpKind, ReferralStatus, RejectReason


class _Bootstrap:
    """Bootstrap classes on the widgets, so templates render ``{{ field }}`` as is."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            base = "form-select form-select-sm" if isinstance(widget, forms.Select) else "form-control form-control-sm"
            widget.attrs["class"] = base


class _RMChoiceMixin:
    def _set_rms(self, rms: list[dict]) -> None:
        self.rms = {r["id"]: r["user"] for r in rms}
        self.fields["rm"].choices = [("", "—")] + [
            (r["id"], _("%(name)s (working on %(load)s)") % {"name": r["name"], "load": r["load"]}) for r in rms
        ]

    def clean_rm(self):
        value = int(self.cleaned_data["rm"])
        if value not in self.rms:
            raise forms.ValidationError(_("Choose a relationship manager of this branch."))
        return self.rms[value]


class AcceptForm(_RMChoiceMixin, forms.Form):
    rm = forms.TypedChoiceField(label=_("Relationship manager"), coerce=int)

    def __init__(self, *args, rms: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self._set_rms(rms)


class BulkAcceptForm(_RMChoiceMixin, forms.Form):
    rm = forms.TypedChoiceField(label=_("Relationship manager"), coerce=int)
    ids = forms.CharField(widget=forms.MultipleHiddenInput, required=False)

    def __init__(self, *args, rms: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self._set_rms(rms)

    def clean_ids(self):
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else self.data.get("ids", [])
        try:
            ids = sorted({int(v) for v in raw})
        except (TypeError, ValueError):
            raise forms.ValidationError(_("Select the referrals to accept.")) from None
        if not ids:
            raise forms.ValidationError(_("Select the referrals to accept."))
        return ids


class RejectForm(_Bootstrap, forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=RejectReason.choices)
    note = forms.CharField(
        label=_("Explanation"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=NOTE_MAX
    )

    def clean(self):
        data = super().clean()
        if data.get("reason") == RejectReason.OTHER and not (data.get("note") or "").strip():
            self.add_error("note", _("Explain the reason when you choose “Other”."))
        return data


class FollowUpForm(_Bootstrap, forms.Form):
    prefix = "fu"

    kind = forms.ChoiceField(
        label=_("Type"),
        choices=[(k, lbl) for k, lbl in FollowUpKind.choices if k != FollowUpKind.OUTCOME],
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    reached = forms.TypedChoiceField(
        label=_("Customer reached"),
        choices=[("", "—"), ("1", _("Yes")), ("0", _("No"))],
        coerce=lambda v: v == "1",
        empty_value=None,
        required=False,
    )
    meeting_at = forms.DateTimeField(
        label=_("Meeting at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=NOTE_MAX
    )


class OutcomeForm(_Bootstrap, forms.Form):
    prefix = "out"

    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            (ReferralStatus.CONVERTED, pgettext_lazy("referral status", "Converted")),
            (ReferralStatus.LOST, pgettext_lazy("referral status", "Lost")),
        ],
    )
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(on_shelf=True).order_by("code"), required=False
    )
    amount = forms.DecimalField(label=_("Amount (CNY)"), max_digits=18, decimal_places=2, min_value=0, required=False)
    note = forms.CharField(
        label=_("Note / reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=NOTE_MAX
    )
    second_review = forms.BooleanField(
        label=_("Second-level review done and extra risk explanation given (customer 65 or over, R4/R5 product)"),
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("outcome") == ReferralStatus.CONVERTED:
            if not data.get("product"):
                self.add_error("product", _("Choose the product the customer bought."))
            if not data.get("amount"):
                self.add_error("amount", _("The amount must be greater than zero."))
        elif data.get("outcome") == ReferralStatus.LOST and not (data.get("note") or "").strip():
            self.add_error("note", _("Say why the referral was lost."))
        return data


class ReturnForm(_Bootstrap, forms.Form):
    prefix = "ret"

    reason = forms.CharField(
        label=_("Why it goes back to the advisor"), widget=forms.Textarea(attrs={"rows": 2}), max_length=NOTE_MAX
    )


class ReassignForm(AcceptForm):
    pass
