import re

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import Channel, Product

from .models import Segment, StepKind

# Channels a message step goes out on (a call is its own kind of step).
MESSAGE_CHANNELS = [(c.value, c.label) for c in Channel if c not in (Channel.PHONE, Channel.BRANCH_VISIT)]


def _bootstrap(form) -> None:
    """The workbench's small form controls on every field."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            continue
        css = "form-select form-select-sm" if isinstance(widget, forms.Select) else "form-control form-control-sm"
        widget.attrs.setdefault("class", css)


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.order_by("name"), required=False, empty_label=_("No product")
    )
    priority = forms.IntegerField(
        label=_("Priority"),
        min_value=1,
        max_value=9,
        initial=5,
        help_text=_("When two campaigns compete for a customer's last contact slot, the higher priority wins."),
    )
    audience = forms.ModelChoiceField(
        label=_("Segment"), queryset=Segment.objects.none(), required=False, empty_label=_("No segment yet")
    )
    starts_on = forms.DateField(label=_("Starts on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, segments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if segments is not None:
            self.fields["audience"].queryset = segments
        _bootstrap(self)


class StepForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=StepKind.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", "—"), *MESSAGE_CHANNELS], required=False)
    script = forms.ModelChoiceField(label=_("Script"), queryset=None, required=False, empty_label="—")
    wait_hours = forms.IntegerField(label=_("Wait (hours)"), min_value=1, max_value=24 * 90, required=False)
    lead_intents = forms.CharField(
        label=_("Intents that open a lead"),
        help_text=_("AI-bot steps: the intents, as the bot platform names them, separated by commas."),
        max_length=500,
        required=False,
    )

    def clean_lead_intents(self) -> list[str]:
        return [i for i in re.split(r"[,，、\s]+", self.cleaned_data.get("lead_intents") or "") if i]

    def __init__(self, *args, scripts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["script"].queryset = scripts
        _bootstrap(self)


class ReturnForm(forms.Form):
    note = forms.CharField(label=_("Why it goes back"), max_length=300)


class SegmentUploadForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    file = forms.FileField(
        label=_("List of customer numbers"), help_text=_("One customer number a line, or a CSV with it first.")
    )
    skip_unknown = forms.BooleanField(label=_("Save without the lines that name no customer"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)
