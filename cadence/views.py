"""The cadence pages: per advisor, per team, one advisor's customers, and the targets."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.access import require
from core.forms import form_applied, id_or_none
from core.htmx import redirect_for
from customers.models import Customer
from org.models import StaffProfile, Team
from org.roles import Role, role_of

from . import selectors
from .access import (
    HQ_ROLES,
    can_edit_targets,
    can_view_advisor_cadence,
    can_view_cadence,
    can_view_team_cadence,
)
from .forms import TargetsForm
from .services import TARGET_FIELDS, targets_update

PER_PAGE = 50
STATUSES = {"", selectors.STATUS_BEHIND, selectors.STATUS_ON_PACE}


def _status_choices():
    return [
        ("", _("All")),
        (selectors.STATUS_BEHIND, _("Behind")),
        (selectors.STATUS_ON_PACE, _("On pace")),
    ]


@require(can_view_cadence)
def overview(request):
    """Each advisor's customers on pace and behind (an advisor sees their own row)."""
    today = timezone.localdate()
    user = request.user
    teams = []
    team_id = None
    raw_team = request.GET.get("team", "")
    if role_of(user) in HQ_ROLES:  # the others see one team or one branch already
        teams = list(Team.objects.order_by("code").values_list("id", "name"))
        if raw_team:
            team_id = id_or_none(raw_team)
            if team_id not in {pk for pk, _name in teams}:
                messages.warning(request, _("There is no such team: showing every team."))
                team_id = None
    rows, total = selectors.advisor_summaries(user, today=today, team_id=team_id)
    return render(
        request,
        "cadence/overview.html",
        {
            "rows": rows,
            "total": total,
            "today": today,
            "teams": teams,
            "team_id": team_id,
            "targets": selectors.targets_current(),
            "can_view_teams": can_view_team_cadence(user),
            "can_edit_targets": can_edit_targets(user),
        },
    )


@require(can_view_team_cadence)
def teams(request):
    today = timezone.localdate()
    rows, total = selectors.team_summaries(request.user, today=today)
    return render(
        request,
        "cadence/teams.html",
        {"rows": rows, "total": total, "today": today, "targets": selectors.targets_current()},
    )


@require(can_view_cadence)
def advisor(request, pk: int):
    """One advisor's customers with their touches, behind first, and the next touch due."""
    profile = StaffProfile.objects.select_related("team").filter(user_id=id_or_none(pk), role=Role.ADVISOR).first()
    if profile is None or not can_view_advisor_cadence(request.user, profile):
        raise Http404
    status = request.GET.get("status", "")
    if status not in STATUSES:
        messages.warning(request, _("Unknown filter: showing all customers."))
        status = ""
    today = timezone.localdate()
    rows = selectors.advisor_customers(request.user, advisor_id=profile.user_id, today=today, status=status)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    # Branch staff follow their home-branch customers' cadence but open a portrait only
    # through the customer rule (referred to their branch): link just the ones it opens.
    on_page = [p.customer.pk for p in page.object_list]
    openable = set(Customer.objects.restrict(request.user, "view").filter(pk__in=on_page).values_list("pk", flat=True))
    return render(
        request,
        "cadence/advisor.html",
        {
            "profile": profile,
            "page": page,
            "openable": openable,
            "count": len(rows),
            "status": status,
            "statuses": _status_choices(),
            "today": today,
            "targets": selectors.targets_current(),
        },
    )


@require(can_edit_targets)
def targets(request):
    current = selectors.targets_current()
    form = TargetsForm(request.POST or None, instance=current)

    def save():
        data = form.cleaned_data
        targets_update(actor=request.user, tiers=data["tiers"], **{name: data[name] for name in TARGET_FIELDS})

    if request.method == "POST" and form_applied(form, save):
        messages.success(request, _("Targets saved."))
        return redirect_for(request, reverse("cadence:targets"))
    return render(request, "cadence/targets.html", {"form": form, "targets": current})
