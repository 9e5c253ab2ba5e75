"""The team lead's capacity page: each advisor's day (capacity, planned calls by kind, made,
left, absence), and the form that plans an advisor's capacity and absence."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.access import get_for_user, require
from core.forms import form_add_service_errors
from core.htmx import redirect_for
from leads.capacity import capacity_day_plans, local_day
from org.access import can_view_capacity_page
from org.models import StaffProfile
from org.services import MAX_DAILY_CALLS, staff_capacity_set


class CapacityForm(forms.Form):
    daily_call_capacity = forms.IntegerField(
        label=gettext_lazy("Calls a day"),
        required=False,
        min_value=0,
        max_value=MAX_DAILY_CALLS,
        help_text=gettext_lazy("Empty: the centre's default."),
    )
    absent_until = forms.DateField(
        label=gettext_lazy("Away until (inclusive)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


def _plans(user, day: dt.date):
    profiles = list(
        StaffProfile.objects.restrict(user, "plan").select_related("team").order_by("team__code", "display_name")
    )
    return capacity_day_plans(profiles=profiles, day=day)


@require(can_view_capacity_page)
def capacity(request):
    day = local_day(timezone.now())
    plans = _plans(request.user, day)
    totals = {
        "capacity": sum(p.capacity for p in plans if not p.absent),
        "planned": sum(p.planned for p in plans),
        "done": sum(p.done for p in plans),
        "left": sum(p.left for p in plans),
        "absent": sum(1 for p in plans if p.absent),
    }
    forms_by_profile = {
        p.profile.pk: CapacityForm(
            initial={"daily_call_capacity": p.profile.daily_call_capacity, "absent_until": p.profile.absent_until},
            prefix=f"p{p.profile.pk}",
        )
        for p in plans
    }
    rows = [(p, forms_by_profile[p.profile.pk]) for p in plans]
    return render(request, "calls/capacity.html", {"rows": rows, "day": day, "totals": totals})


@require_POST
@require(can_view_capacity_page)
def capacity_set(request, pk: int):
    profile = get_for_user(StaffProfile.objects.select_related("user"), user=request.user, pk=pk, action="plan")
    form = CapacityForm(request.POST, prefix=f"p{profile.pk}")
    if form.is_valid():
        try:
            staff_capacity_set(
                actor=request.user,
                profile=profile,
                daily_call_capacity=form.cleaned_data["daily_call_capacity"],
                absent_until=form.cleaned_data["absent_until"],
            )
        except ValidationError as exc:
            form_add_service_errors(form, exc)
    if form.errors:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"{profile.display_name}：{error}")
    else:
        messages.success(request, _("Capacity planned for %(advisor)s.") % {"advisor": profile.display_name})
    return redirect_for(request, reverse("calls:capacity"))
