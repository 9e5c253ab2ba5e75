"""Cold-start scoring rules: transparent log-odds weights on plain conditions.

Used while there are fewer than 40 positive and 40 negative outcomes to learn from.
The weights live in ``ScoringSettings.rules`` (editable in the admin and shown on the
model page); a customer's score is ``sigmoid(intercept + sum of the weights of the
conditions they meet) * 100``, and the conditions that fired are the reasons.
"""

from __future__ import annotations

import numpy as np
from django.utils.translation import gettext_lazy as _

# code -> (label shown on the model page, feature it reads)
RULES: dict[str, tuple] = {
    "tier_wealth": (_("Wealth tier customer"), "tier"),
    "tier_private": (_("Private banking tier customer"), "tier"),
    "aum_growth_90d": (_("AUM grew 10 percent or more over 90 days"), "aum_change_90d"),
    "aum_outflow_30d": (_("AUM fell 10 percent or more over 30 days"), "aum_change_30d"),
    "maturity_30d": (_("A holding matures within 30 days"), "maturing_30d_amount"),
    "ai_intent_wealth": (_("Asked the AI bot about wealth products or funds"), "ai_intent_wealth"),
    "ai_intent_maturity": (_("Asked the AI bot about a maturity"), "ai_intent_maturity"),
    "ai_intent_pension": (_("Asked the AI bot about pensions"), "ai_intent_pension"),
    "ai_asked_human": (_("Asked the AI bot for a human advisor"), "ai_asked_human"),
    "ai_not_interested": (_("Told the AI bot to stop marketing"), "ai_not_interested"),
    "previous_converted": (_("The previous contact converted"), "previous_outcome"),
    "assessment_expired": (_("Risk assessment missing or expired"), "assessment_expired"),
    "contact_fatigue": (_("Three or more contacts in the last 30 days"), "contacts_30d"),
}


def rule_indicators(X: np.ndarray, index: dict[str, int], vocab: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """0/1 arrays, one per rule, for the rows of the encoded matrix ``X``."""
    n = X.shape[0]

    def col(name: str) -> np.ndarray:
        j = index.get(name)
        return X[:, j] if j is not None else np.full(n, np.nan)

    def code_is(name: str, value: str) -> np.ndarray:
        values = vocab.get(name) or []
        if value not in values:
            return np.zeros(n, dtype=bool)
        return col(name) == values.index(value)

    with np.errstate(invalid="ignore"):
        return {
            "tier_wealth": code_is("tier", "wealth"),
            "tier_private": code_is("tier", "private"),
            "aum_growth_90d": col("aum_change_90d") >= 0.10,
            "aum_outflow_30d": col("aum_change_30d") <= -0.10,
            "maturity_30d": col("maturing_30d_amount") > 0,
            "ai_intent_wealth": col("ai_intent_wealth") == 1,
            "ai_intent_maturity": col("ai_intent_maturity") == 1,
            "ai_intent_pension": col("ai_intent_pension") == 1,
            "ai_asked_human": col("ai_asked_human") == 1,
            "ai_not_interested": col("ai_not_interested") == 1,
            "previous_converted": code_is("previous_outcome", "converted"),
            "assessment_expired": col("assessment_expired") == 1,
            "contact_fatigue": col("contacts_30d") >= 3,
        }


def rules_predict(
    X: np.ndarray, index: dict[str, int], vocab: dict[str, list[str]], config: dict
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Probabilities and per-rule contributions (log-odds) for the rows of ``X``."""
    weights = config.get("weights", {})
    fired = rule_indicators(X, index, vocab)
    codes = list(RULES)
    contributions = np.zeros((X.shape[0], len(codes)))
    for j, code in enumerate(codes):
        contributions[:, j] = fired[code].astype(float) * float(weights.get(code, 0.0))
    logit = float(config.get("intercept", -2.6)) + contributions.sum(axis=1)
    return 1.0 / (1.0 + np.exp(-logit)), contributions, codes
