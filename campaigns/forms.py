import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from customers.models import Channel, Product

from .models import (
    ATTRIBUTION_DAYS_MAX,
    ATTRIBUTION_DAYS_MIN,
    ATTRIBUTION_WINDOW_MESSAGE,
    BranchCondition,
    ExitRule,
    Segment,
    StepKind,
)

# Channels a message step goes out on (a call is its own kind of step).
MESSAGE_CHANNELS = [(c.value, c.label) for c in Channel if c not in (Channel.PHONE, Channel.BRANCH_VISIT)]
WAIT_UNITS = [("days", pgettext_lazy("time unit", "days")), ("hours", pgettext_lazy("time unit", "hours"))]


def _bootstrap(form) -> None:
    """The workbench's small form controls on every field."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
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
    """A step of any kind; the fields other kinds use are ignored (the service clears them)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=StepKind.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=[("", "—"), *MESSAGE_CHANNELS], required=False)
    script = forms.ModelChoiceField(label=_("Script"), queryset=None, required=False, empty_label="—")
    due_hours = forms.IntegerField(
        label=_("Call task due within (hours)"), min_value=1, max_value=24 * 30, required=False, initial=72
    )
    wait = forms.IntegerField(label=_("Wait for"), min_value=1, max_value=24 * 180, required=False)
    wait_unit = forms.ChoiceField(label=_("Unit"), choices=WAIT_UNITS, initial="days", required=False)
    condition = forms.ChoiceField(label=_("Branch asks"), choices=[("", "—"), *BranchCondition.choices], required=False)
    within = forms.IntegerField(
        label=_("Wait for an answer up to"),
        help_text=_("Empty: ask at once. Otherwise yes as soon as the answer is yes, no when the time has passed."),
        min_value=1,
        max_value=24 * 30,
        required=False,
    )
    within_unit = forms.ChoiceField(label=_("Unit"), choices=WAIT_UNITS, initial="days", required=False)
    yes_position = forms.TypedChoiceField(label=_("If yes, go to"), coerce=int, empty_value=None, required=False)
    no_position = forms.TypedChoiceField(label=_("If no, go to"), coerce=int, empty_value=None, required=False)
    lead_intents = forms.CharField(
        label=_("Intents that open a lead"),
        help_text=_("AI-bot steps: the intents, as the bot platform names them, separated by commas."),
        max_length=500,
        required=False,
    )

    def clean_lead_intents(self) -> list[str]:
        return [i for i in re.split(r"[,，、\s]+", self.cleaned_data.get("lead_intents") or "") if i]

    def __init__(self, *args, scripts, positions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["script"].queryset = scripts
        targets = [("", _("End the journey")), *((p, _("Step %(n)s") % {"n": p}) for p in positions)]
        self.fields["yes_position"].choices = targets
        self.fields["no_position"].choices = targets
        _bootstrap(self)

    def step_fields(self) -> dict:
        """The service's keyword arguments (a wait in hours or in days)."""
        data = self.cleaned_data
        fields = {
            "kind": data["kind"],
            "channel": data.get("channel") or "",
            "script": data.get("script"),
            "due_hours": data.get("due_hours"),
            "condition": data.get("condition") or "",
            "yes_position": data.get("yes_position"),
            "no_position": data.get("no_position"),
            "lead_intents": data.get("lead_intents") or [],
        }
        amount, unit = (
            (data.get("within"), data.get("within_unit"))
            if data["kind"] == StepKind.BRANCH
            else (data.get("wait"), data.get("wait_unit"))
        )
        fields["wait_hours" if unit == "hours" else "wait_days"] = amount
        return fields

    @classmethod
    def initial_of(cls, step) -> dict:
        """The form's values for an existing step."""
        hours = step.wait_hours
        in_days = bool(hours) and hours % 24 == 0
        return {
            "kind": step.kind,
            "channel": step.channel if step.kind == StepKind.SEND else "",
            "script": step.script_id,
            "due_hours": step.due_hours,
            "wait": (hours // 24 if in_days else hours) if hours and step.kind == StepKind.WAIT else None,
            "wait_unit": "days" if in_days or not hours else "hours",
            "within": (hours // 24 if in_days else hours) if hours and step.kind == StepKind.BRANCH else None,
            "within_unit": "days" if in_days or not hours else "hours",
            "condition": step.condition,
            "yes_position": step.yes_position,
            "no_position": step.no_position,
            "lead_intents": "、".join(step.lead_intents or []),
        }


class JourneySettingsForm(forms.Form):
    exit_rules = forms.MultipleChoiceField(
        label=_("Exit criteria"), choices=ExitRule.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    control_percent = forms.IntegerField(
        label=_("Control group (%)"),
        min_value=0,
        max_value=50,
        help_text=_("This share of entrants is tracked but never contacted, to measure the campaign."),
    )
    daily_entry_limit = forms.IntegerField(
        label=_("New entrants a day at most"),
        min_value=1,
        required=False,
        help_text=_("Empty: no limit. Entrants over the limit wait for the next day."),
    )
    attribution_days = forms.IntegerField(
        label=_("Attribution window (days)"),
        min_value=ATTRIBUTION_DAYS_MIN,
        max_value=ATTRIBUTION_DAYS_MAX,
        error_messages={
            "required": ATTRIBUTION_WINDOW_MESSAGE,
            "invalid": ATTRIBUTION_WINDOW_MESSAGE,
            "min_value": ATTRIBUTION_WINDOW_MESSAGE,
            "max_value": ATTRIBUTION_WINDOW_MESSAGE,
        },
        help_text=_(
            "A conversion counts for an entrant when it happens within this many days of entry, the day of "
            "entry included, for the control group alike. The window is fixed when the first customer "
            "enters, so results are never recounted with another one."
        ),
    )

    def __init__(self, *args, attribution_locked: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if attribution_locked:
            # Disabled: the posted value is ignored and the current one kept.
            field = self.fields["attribution_days"]
            field.disabled = True
            field.help_text = _(
                "Fixed: customers have entered, and the results so far are counted with this window. "
                "Another window would recount them after the fact."
            )
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
