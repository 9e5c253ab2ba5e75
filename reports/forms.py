from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from campaigns.models import Segment

from .models import DeliveryChannel


class DeliverForm(forms.Form):
    channel = forms.ChoiceField(label=_("Sent by"), choices=DeliveryChannel.choices)


class BatchForm(forms.Form):
    segment = forms.ModelChoiceField(label=_("Segment"), queryset=Segment.objects.none())
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)

    def __init__(self, *args, segments=None, **kwargs):
        super().__init__(*args, **kwargs)
        if segments is not None:
            self.fields["segment"].queryset = segments
