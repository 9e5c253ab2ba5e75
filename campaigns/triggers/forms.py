from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import EntryRule, TriggerIntent, TriggerKind


class TriggerForm(forms.Form):
    """Parses the page's input; ``services.trigger_set`` decides what is valid."""

    kind = forms.ChoiceField(label=_("Event"), choices=TriggerKind.choices)
    days = forms.IntegerField(
        label=_("Days (N)"),
        required=False,
        min_value=0,
        max_value=3650,
        help_text=_(
            "Maturity, risk assessment and birthday: days ahead; AI intent, cooling-off and no contact: days back."
        ),
    )
    percent = forms.DecimalField(
        label=_("Large outflow: fall of at least (%)"), required=False, max_digits=5, decimal_places=2
    )
    amount = forms.DecimalField(
        label=_("Large outflow: fall of at least (CNY)"), required=False, max_digits=18, decimal_places=2
    )
    window_days = forms.IntegerField(
        label=_("Large outflow: within days (D)"), required=False, min_value=1, max_value=365, initial=30
    )
    intents = forms.MultipleChoiceField(
        label=_("AI-bot intents"), required=False, choices=TriggerIntent.choices, widget=forms.CheckboxSelectMultiple
    )
    entry_rule = forms.ChoiceField(label=_("Entry rule"), choices=EntryRule.choices)
    entry_days = forms.IntegerField(label=_("At most once per (days)"), required=False, min_value=1, max_value=3650)
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
                continue
            css = "form-select form-select-sm" if isinstance(widget, forms.Select) else "form-control form-control-sm"
            widget.attrs.setdefault("class", css)
