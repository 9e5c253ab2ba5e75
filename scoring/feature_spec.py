"""The feature contract: what a customer looked like at a moment in time.

``Outcome.features`` (training rows) and live scoring use exactly these keys, so a model
trained on history scores today's customers on the same footing. Everything here is
known *before* a contact; nothing known only after it (call duration, disposition) is
ever a feature. Missing values are ``None``.

seed_demo writes snapshots with these keys; the scoring engine computes them for live
customers from the customer tables as of a given time.
"""

from __future__ import annotations

NUMBER = "number"
CATEGORY = "category"

# name -> (type, description)
FEATURES: dict[str, tuple[str, str]] = {
    "age": (NUMBER, "age in years at contact time"),
    "gender": (CATEGORY, "M / F / U"),
    "city": (CATEGORY, "city of residence"),
    "occupation": (CATEGORY, "occupation"),
    "education": (CATEGORY, "education"),
    "marital_status": (CATEGORY, "marital status"),
    "tier": (CATEGORY, "long_tail / base / wealth / private"),
    "lifecycle_stage": (CATEGORY, "new / growing / mature / declining / dormant"),
    "aum": (NUMBER, "AUM in CNY"),
    "aum_change_30d": (NUMBER, "relative AUM change over the previous 30 days (-0.18 = 18% outflow)"),
    "aum_change_90d": (NUMBER, "relative AUM change over the previous 90 days"),
    "wealth_share": (NUMBER, "share of AUM in wealth products and funds (0..1)"),
    "deposit_share": (NUMBER, "share of AUM in deposits (0..1)"),
    "holdings_count": (NUMBER, "number of products held"),
    "maturing_30d_amount": (NUMBER, "amount of holdings maturing in the next 30 days, CNY"),
    "days_to_next_maturity": (NUMBER, "days until the next holding matures (None when none)"),
    "risk_level": (NUMBER, "customer risk level 1-5 (None when never assessed)"),
    "assessment_age_days": (NUMBER, "days since the last risk assessment (None when never)"),
    "assessment_expired": (NUMBER, "1 when the assessment is older than the validity period or missing"),
    "tag_count": (NUMBER, "number of tags on the customer"),
    "contacts_30d": (NUMBER, "outbound contacts in the previous 30 days"),
    "contacts_90d": (NUMBER, "outbound contacts in the previous 90 days"),
    "days_since_last_contact": (NUMBER, "days since the previous contact (None when never)"),
    "previous_outcome": (CATEGORY, "none / converted / not_converted: the previous contact's result"),
    "ai_rounds": (NUMBER, "customer turns in AI-bot sessions in the previous 90 days"),
    "ai_intent_wealth": (NUMBER, "1 when an AI-bot session asked about wealth products or funds"),
    "ai_intent_maturity": (NUMBER, "1 when an AI-bot session asked about a maturity / reinvestment"),
    "ai_intent_pension": (NUMBER, "1 when an AI-bot session asked about pensions / retirement"),
    "ai_asked_human": (NUMBER, "1 when the customer asked the AI bot for a human advisor"),
    "ai_not_interested": (NUMBER, "1 when the customer told the AI bot they want no more sales (a negative signal)"),
}

FEATURE_NAMES: tuple[str, ...] = tuple(FEATURES)

# AI-bot intent codes stored in Interaction.intents, and the feature each one sets.
AI_INTENTS: dict[str, str] = {
    "ask_wealth_product": "ai_intent_wealth",
    "ask_fund": "ai_intent_wealth",
    "ask_maturity": "ai_intent_maturity",
    "ask_pension": "ai_intent_pension",
    "ask_human": "ai_asked_human",
    "not_interested": "ai_not_interested",
    "complaint": "",
}
