"""The page that sets a campaign's trigger (its event, parameters, entry rule and end)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.access import require
from core.forms import form_add_service_errors

from . import access, selectors
from .models import Trigger
from .triggers.forms import TriggerForm
from .triggers.services import SETTINGS, trigger_set


@require(access.can_change_campaigns)
def trigger_edit(request, pk: int):
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk, action="change")
    trigger = Trigger.objects.filter(campaign=campaign).first()
    initial = {key: getattr(trigger, key) for key in SETTINGS} if trigger else None
    form = TriggerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            trigger_set(actor=request.user, campaign=campaign, **form.cleaned_data)
        except ValidationError as exc:
            form_add_service_errors(form, exc)
        else:
            messages.success(request, _("The trigger is saved."))
            return redirect("campaigns:trigger", campaign.pk)
    return render(request, "campaigns/trigger_form.html", {"form": form, "campaign": campaign, "trigger": trigger})
