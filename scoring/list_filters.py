"""What scoring adds to the customer list's filter, and so to segments
(``customers.extensions.LIST_FILTERS``): the current model grade and a score range.
Registered from ``ScoringConfig.ready()``.

Both read the customer's one ``CustomerScore`` row, joined on its primary key (the
customer id): one index probe a customer, or a walk of ``score_grade_idx`` when the
grade is the most selective condition."""

from __future__ import annotations

import django_filters as df
from django.utils.translation import gettext_lazy as _

from customers.extensions import LIST_FILTERS, ListFilter
from leads.models import Grade

SCORE_MAX = 100


def _grade(qs, name, value):
    return qs.filter(score__grade=value)


def _score_min(qs, name, value):
    return qs.filter(score__score__gte=float(value))


def _score_max(qs, name, value):
    return qs.filter(score__score__lte=float(value))


def score_filters() -> dict:
    return {
        "grade": df.ChoiceFilter(choices=Grade.choices, method=_grade, label=_("Model grade"), empty_label=_("Any")),
        "score_min": df.NumberFilter(
            method=_score_min, label=_("Model score from"), min_value=0, max_value=SCORE_MAX, decimal_places=1
        ),
        "score_max": df.NumberFilter(
            method=_score_max, label=_("Model score to"), min_value=0, max_value=SCORE_MAX, decimal_places=1
        ),
    }


def score_clean(values: dict) -> dict:
    low, high = values.get("score_min"), values.get("score_max")
    if low is not None and high is not None and low > high:
        return {"score_max": _("The upper score is below the lower one.")}
    return {}


def register() -> None:
    LIST_FILTERS.register(ListFilter(key="score", filters=score_filters, clean=score_clean, order=30))
