"""The results page of a campaign: conversions and AUM of treated customers against the
control group, with intervals, the minimum detectable effect and the fixed horizon.
Aggregates only: no individual customer is shown."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

from core.access import require

from . import access, selectors
from .results import campaign_results


def _chart_data(results) -> dict:
    """What the two charts draw (their labels come from the template's translations)."""

    def rate(pair):
        entered, converted = pair
        return round(100 * converted / entered, 2) if entered else None

    return {
        "weeks": {
            "labels": [row["week"].isoformat() for row in results.weeks],
            "treatment": [rate(row["treatment"]) for row in results.weeks],
            "control": [rate(row["control"]) for row in results.weeks],
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


@require(access.can_view_campaigns)
def campaign_results_page(request, pk: int):
    campaign = selectors.campaign_get_for_user(user=request.user, pk=pk)
    results = campaign_results(campaign=campaign)
    return render(
        request,
        "campaigns/results.html",
        {
            "campaign": campaign,
            "results": results,
            "arms": [results.treatment, results.control],
            "chart": _chart_data(results),
        },
    )
