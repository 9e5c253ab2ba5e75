"""The results page of a campaign: conversions and AUM of each arm (the control group,
each A/B variant) with intervals, uplift against control, the minimum detectable effect,
the fixed horizon, the funnel per step, and the promotion of a winner. The figures are
the stored aggregates of the last refresh (``campaigns.refresh_results``), so the page
costs the same few queries for 300 or 300,000 enrolments. Aggregates only: no
individual customer is shown."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.access import require
from core.exports import FORMATS, export_response
from core.forms import id_or_none

from . import access, selectors
from .models import StepKind, Variant
from .results import (
    CONTROL_KEY,
    PLAIN_KEY,
    TREATMENT_KEY,
    campaign_results_stored,
    results_export_header,
    results_export_record,
    results_export_rows,
    results_refresh,
    step_orders_entered,
)
from .variants import variant_promote


def _rate(pair):
    entered, converted = pair or (0, 0)
    return round(100 * converted / entered, 2) if entered else None


def _series(results) -> list[tuple[str, str]]:
    """(arm key, label) of the arms the charts draw: each treated arm, then control."""
    keys = [(a.figures.arm if a.variant is None else f"v{a.variant.pk}", a.figures.label) for a in results.arms]
    return [*keys, (CONTROL_KEY, results.control.label)]


def _chart_data(results) -> dict:
    """What the charts draw (their fixed labels come from the template's translations)."""
    series = _series(results)
    kinds = dict(StepKind.choices)
    return {
        "weeks": {
            "labels": [row["week"].isoformat() for row in results.weeks],
            "series": [
                {"label": label, "data": [_rate(row.get(key)) for row in results.weeks], "control": key == CONTROL_KEY}
                for key, label in series
            ],
        },
        "funnel": {
            "labels": [f"{row['position']} · {kinds.get(row['kind'], '')}" for row in results.funnel],
            "series": [
                {
                    "label": label,
                    "data": [row["arms"].get(TREATMENT_KEY if key == PLAIN_KEY else key, 0) for row in results.funnel],
                    "control": key == CONTROL_KEY,
                }
                for key, label in series
            ],
        },
        "aum": [
            {
                "label": _("%(n)s days") % {"n": figures.days},
                "estimate": round(figures.result.estimate, 2),
                "low": round(figures.result.low, 2),
                "high": round(figures.result.high, 2),
            }
            for figures in results.aum
            if figures.result is not None
        ],
    }


def _results_of(campaign):
    results = campaign_results_stored(campaign=campaign)
    if results is None:  # never refreshed yet (a new campaign): the first view computes it once
        results_refresh(campaign_id=campaign.pk)
        results = campaign_results_stored(campaign=campaign)
    return results


@require(access.can_view_campaigns)
def campaign_results_page(request, pk: int):
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk)
    results = _results_of(campaign)
    return render(
        request,
        "campaigns/results.html",
        {
            "campaign": campaign,
            "results": results,
            "chart": _chart_data(results),
            "can_promote": access.can_promote_variant(request.user, campaign),
            "orders": step_orders_entered(campaign=campaign, funnel=results.funnel) if results.has_variants else [],
        },
    )


@require(access.can_view_campaigns)
def campaign_results_export(request, pk: int, fmt: str):
    """The page's figures per arm as a file (CSV or Excel), for whoever may see the page."""
    if fmt not in FORMATS:
        raise Http404
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk)
    rows = results_export_rows(_results_of(campaign))
    results_export_record(actor=request.user, campaign=campaign, fmt=fmt, rows=len(rows))
    return export_response(
        fmt=fmt,
        filename=f"campaign-{campaign.pk}-results-{timezone.localdate().isoformat()}",
        header=results_export_header(),
        rows=rows,
        sheet="results",
    )


@require_POST
def variant_promote_view(request, pk: int):
    variant = Variant.objects.filter(pk=pk).first() if id_or_none(pk) else None
    if variant is None:
        raise Http404
    campaign = selectors.campaign_get_for_user(user=request.user, pk=variant.campaign_id, action="change")
    try:
        variant_promote(actor=request.user, variant=variant, confirmed=request.POST.get("confirm") == "yes")
    except (ValidationError, PermissionDenied) as exc:
        for message in getattr(exc, "messages", None) or [str(exc) or _("You may not do that.")]:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("%(label)s now takes every new treated entrant. Earlier entrants keep their variant.")
            % {"label": variant.label},
        )
    return redirect(reverse("campaigns:results", args=[campaign.pk]) + "#arms")
