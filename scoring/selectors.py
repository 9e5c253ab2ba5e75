"""Reads of the scoring app."""

from __future__ import annotations

import math

from django.db.models import Count, Q

from core.access import get_for_user
from core.pagination import capped_count, count_cap
from customers.selectors import portrait_signals

from .models import (
    MIN_CLASS_ROWS,
    SCORE_BINS,
    SCORE_BINS_PER_POINT,
    CustomerScore,
    ModelVersion,
    Outcome,
    ScoreDistribution,
    ScoringSettings,
)
from .rules import RULES


def settings_get() -> ScoringSettings:
    """The one row of scoring settings (created with its defaults on first use)."""
    obj = ScoringSettings.objects.order_by("pk").first()
    if obj is None:
        obj, _ = ScoringSettings.objects.get_or_create(pk=1)
    return obj


def class_counts() -> tuple[int, int]:
    """Converted and not converted outcomes (the cold-start bar is MIN_CLASS_ROWS of each)."""
    positives = Outcome.objects.filter(converted=True).count()
    negatives = Outcome.objects.filter(converted=False).count()
    return positives, negatives


def class_counts_capped() -> tuple[int, int]:
    """``class_counts`` counting at most the list cap + 1 of each (the cold-start banner
    shows "1000+"): enough to say whether a model can be trained, without counting every
    outcome on each view. A trained version keeps its own counts (``metrics``)."""
    return capped_count(Outcome.objects.filter(converted=True)), capped_count(Outcome.objects.filter(converted=False))


def customer_score_get_for_user(*, user, pk: int, action: str = "view") -> CustomerScore:
    """The current score of customer ``pk``; 404 when the customer is outside the user's
    scope (or has no score yet)."""
    return get_for_user(CustomerScore.objects.all(), user=user, pk=pk, action=action)


def portrait_needs(*, customer) -> dict:
    """The customer portrait's "needs and propensities" tab: the current score (None
    before the first scoring) beside what the customer's own data says. The portrait
    has checked that the user may see the customer."""
    return {"score": CustomerScore.objects.filter(customer=customer).first(), **portrait_signals(customer=customer)}


def model_versions(*, limit: int = 20):
    """Recent versions with who trained them (the artifact stays in the database)."""
    return list(ModelVersion.objects.select_related("trained_by__staff_profile").defer("artifact")[:limit])


def active_version(versions: list[ModelVersion]) -> ModelVersion | None:
    active = next((v for v in versions if v.is_active), None)
    if active is None:
        active = ModelVersion.objects.defer("artifact").filter(is_active=True).first()
    return active


def scoring_state() -> dict:
    """Why scoring runs on the cold-start rules: the outcomes there are of each class
    (capped, ``class_counts_capped``), against the bar a model needs."""
    positives, negatives = class_counts_capped()
    cap = count_cap()
    return {
        "positives": f"{cap}+" if positives > cap else positives,
        "negatives": f"{cap}+" if negatives > cap else negatives,
        "min_rows": MIN_CLASS_ROWS,
        "enough": positives >= MIN_CLASS_ROWS and negatives >= MIN_CLASS_ROWS,
    }


def score_distribution() -> ScoreDistribution | None:
    return ScoreDistribution.objects.order_by("-computed_at").first()


def _grade_counts(*, high: float, mid: float, distribution: ScoreDistribution | None) -> dict[str, int]:
    """Customers per grade: from the distribution the last full rescoring stored, or,
    before the first one, counted over the current scores."""
    if distribution is None:
        return CustomerScore.objects.aggregate(
            high=Count("pk", filter=Q(score__gte=high)),
            mid=Count("pk", filter=Q(score__gte=mid, score__lt=high)),
            low=Count("pk", filter=Q(score__lt=mid)),
        )
    counts = distribution.counts

    def first_bin(cutoff: float) -> int:  # the first bin whose scores are all >= cutoff
        return min(SCORE_BINS, max(0, math.ceil(round(cutoff * SCORE_BINS_PER_POINT, 6))))

    h, m = first_bin(high), first_bin(mid)
    return {"high": sum(counts[h:]), "mid": sum(counts[m:h]), "low": sum(counts[:m])}


def grade_preview(
    *, high: float, mid: float, model: ModelVersion | None, distribution: ScoreDistribution | None
) -> list[dict]:
    """Customers per grade with these cutoffs (current scores, as of the last full
    rescoring) and the conversion rate to expect per grade (the model's out-of-fold
    predictions on its evaluation data)."""
    counts = _grade_counts(high=high, mid=mid, distribution=distribution)
    bins = (model.metrics.get("score_bins") if model else None) or []
    expected = {}
    for grade, lo, hi in (("high", high, 101), ("mid", mid, high), ("low", 0, mid)):
        n = pos = 0
        for b, (bn, bpos) in enumerate(bins):
            if lo <= b + 0.5 < hi:  # bin b holds scores in [b, b + 1)
                n += bn
                pos += bpos
        expected[grade] = (pos / n) if n else None
    total = sum(counts.values()) or 0
    return [
        {
            "grade": grade,
            "customers": counts[grade],
            "share": (counts[grade] / total) if total else 0,
            "expected_conversion": expected[grade],
        }
        for grade in ("high", "mid", "low")
    ]


def rules_table() -> list[dict]:
    weights = settings_get().rules.get("weights", {})
    return [{"code": code, "label": label, "weight": weights.get(code, 0.0)} for code, (label, _f) in RULES.items()]
