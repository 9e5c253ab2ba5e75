"""The targets form (the settings page and the admin share it). It parses; the service
decides (``services.targets_errors``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import Tier

from .models import CadenceTargets
from .services import MAX_PLAN_AHEAD, MAX_TOUCHES


def _count(label) -> forms.IntegerField:
    return forms.IntegerField(label=label, min_value=0, max_value=MAX_TOUCHES)


class TargetsForm(forms.ModelForm):
    tiers = forms.MultipleChoiceField(
        label=_("Customer tiers"), choices=Tier.choices, widget=forms.CheckboxSelectMultiple
    )
    themed = _count(_("Themed interactions a year"))
    reviews = _count(_("Asset-allocation reviews a year (of the themed)"))
    face_to_face = _count(_("Face-to-face reviews a year (of the reviews)"))
    reports = _count(_("Written wealth reports a year"))
    plan_ahead_days = forms.IntegerField(
        label=_("Plan a call this many days before a touch is due"), min_value=0, max_value=MAX_PLAN_AHEAD
    )

    class Meta:
        model = CadenceTargets
        fields = ["tiers", "themed", "reviews", "face_to_face", "reports", "plan_ahead_days"]
