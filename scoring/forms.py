from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class CutoffsForm(forms.Form):
    high = forms.FloatField(label=_("High grade from score"), min_value=0, max_value=100)
    mid = forms.FloatField(label=_("Mid grade from score"), min_value=0, max_value=100)

    def clean(self):
        data = super().clean()
        high, mid = data.get("high"), data.get("mid")
        if high is not None and mid is not None and not mid < high:
            raise forms.ValidationError(_("The mid cutoff must be below the high cutoff."))
        return data
