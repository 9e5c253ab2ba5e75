"""Demo outcomes: past phone contacts (30–720 days ago) of about a third of each chunk's
customers, each with a point-in-time feature snapshot (the keys of
``scoring.feature_spec``) as the customer was then, and converted or not by the demo
world's true model (``customers.demo.logit_of``) plus hidden noise, so a model trained on
them has something true and learnable to find (a logistic regression reaches AUC > 0.65;
a gradient-boosting model around 0.8).
"""

from __future__ import annotations

import json

import numpy as np
from django.conf import settings

from core.demo import WORKING_MINUTES, IdAllocator, RowWriter, fmt_ts, local_time_on, sigmoid
from customers.demo import Catalogue, CustomerChunk, logit_of
from customers.models import tier_for_aum

from .models import Outcome

RNG_STREAM = 2  # core.demo.Chunk.rng

OUTCOME_COLUMNS = [
    "id",
    "customer_id",
    "contacted_at",
    "channel",
    "product_id",
    "converted",
    "amount",
    "features",
    "source",
    "created_at",
]


class OutcomeSeeder:
    MODELS = (Outcome,)
    STATS = ("outcomes", "positives")

    def __init__(self, *, catalogue: Catalogue, writer: RowWriter, ids: IdAllocator):
        self.writer = writer
        self.ids = ids
        self.valid_days = settings.WORKBENCH_RISK_ASSESSMENT_VALID_DAYS
        self.product_pool = [
            pid
            for pid, t in zip(catalogue.product_ids, catalogue.product_type, strict=True)
            if t in ("wealth", "fund", "insurance")
        ]

    def seed_chunk(self, c: CustomerChunk) -> dict[str, int]:
        rng = c.chunk.rng(RNG_STREAM)
        who, days_ago = self._draw_contacts(rng, c.size)
        k = len(who)
        if k == 0:
            return {"outcomes": 0, "positives": 0}
        f, had_assessment = self._features_then(rng, c, who, days_ago)
        converted = self._draw_conversions(rng, c, who, f)
        rows = self._rows(rng, c, who, days_ago, f, had_assessment, converted)
        self.writer.write(Outcome, OUTCOME_COLUMNS, rows)
        return {"outcomes": k, "positives": int(converted.sum())}

    @staticmethod
    def _draw_contacts(rng, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Who was called and how long ago: a third once, an eighth of those twice, each
        customer's contacts in time order (a customer index per contact)."""
        n1 = rng.random(size) < 0.35
        n2 = n1 & (rng.random(size) < 0.35)
        who = np.concatenate([np.flatnonzero(n1), np.flatnonzero(n2)])
        if len(who) == 0:
            return who, who
        days_ago = rng.integers(30, 720, len(who))
        order = np.lexsort((-days_ago, who))
        return who[order], days_ago[order]

    def _features_then(self, rng, c: CustomerChunk, who: np.ndarray, days_ago: np.ndarray):
        """The customer as they were: AUM drifted, features re-drawn around today's values."""
        k = len(who)
        age, aum, maturing_amt, hidden = c.age, c.aum, c.maturing_amt, c.hidden
        drift = rng.normal(0, 0.25, k)
        f = {
            "age": (age[who] - days_ago / 365.25).round(1),
            "aum": np.round(aum[who] * np.exp(drift), 2),
            "aum_change_30d": np.clip(rng.normal(0, 0.06, k) + 0.3 * c.trend30[who], -0.5, 0.5).round(4),
            "aum_change_90d": np.clip(rng.normal(0, 0.1, k) + 0.3 * c.trend90[who], -0.6, 0.6).round(4),
            "maturing_30d_amount": np.where(
                rng.random(k) < 0.2 + 0.2 * (maturing_amt[who] > 0),
                np.round(aum[who] * rng.uniform(0.05, 0.5, k), 2),
                0.0,
            ),
            "contacts_30d": rng.poisson(0.8, k).astype(float),
            "contacts_90d": None,
            "ai_asked_human": (rng.random(k) < sigmoid(hidden[who] - 2.5)).astype(float),
            "ai_intent_wealth": (rng.random(k) < sigmoid(hidden[who] - 1.8)).astype(float),
            "ai_intent_maturity": (rng.random(k) < 0.1 + 0.2 * (maturing_amt[who] > 0)).astype(float),
            "ai_intent_pension": (rng.random(k) < 0.05 + 0.25 * (age[who] > 55)).astype(float),
            "ai_not_interested": (rng.random(k) < 0.06 * sigmoid(-hidden[who])).astype(float),
        }
        f["contacts_90d"] = f["contacts_30d"] + rng.poisson(1.0, k)
        assess_then = c.assess_age[who] - days_ago  # negative: assessed after the contact
        had_assessment = c.assessed[who] & (assess_then >= 0)
        f["assessment_age_days"] = np.where(had_assessment, assess_then, -1)
        f["assessment_expired"] = (~had_assessment | (assess_then >= self.valid_days)).astype(float)
        f["previous_outcome"] = np.array(["none"] * k, dtype=object)
        return f, had_assessment

    @staticmethod
    def _draw_conversions(rng, c: CustomerChunk, who: np.ndarray, f) -> np.ndarray:
        """First contacts are drawn first; a customer's second contact then sees the first
        one's result as ``previous_outcome``, exactly as its snapshot records it."""
        k = len(who)
        prev = f["previous_outcome"]
        second = np.flatnonzero(np.concatenate([[False], who[1:] == who[:-1]]))
        hidden_then = c.hidden[who] + rng.normal(0, 0.5, k)
        u = rng.random(k)
        converted = u < sigmoid(logit_of(f, c.occupation[who], hidden_then))
        prev[second] = np.where(converted[second - 1], "converted", "not_converted")
        z = logit_of(f, c.occupation[who], hidden_then)
        converted[second] = u[second] < sigmoid(z[second])
        return converted

    def _rows(self, rng, c: CustomerChunk, who, days_ago, f, had_assessment, converted):
        k = len(who)
        days_since = np.where(f["contacts_90d"] > 0, rng.integers(1, 90, k), -1)
        holdings_then = np.minimum(
            rng.poisson(np.clip(0.4 + 1.1 * np.log10(np.maximum(f["aum"], 1) / 10_000), 0, 7)), 8
        )
        ids = self.ids.take(Outcome, k)
        amounts = np.round(np.minimum(c.aum[who] * rng.uniform(0.05, 0.4, k), 5_000_000), 2)
        products = rng.choice(self.product_pool, size=k)
        prev = f["previous_outcome"]
        anchor = c.chunk.anchor
        for j in range(k):
            i = who[j]
            features = {
                "age": float(f["age"][j]),
                "gender": "F" if c.female[i] else "M",
                "city": str(c.city[i]),
                "occupation": str(c.occupation[i]),
                "education": str(c.education[i]),
                "marital_status": str(c.marital[i]),
                "tier": tier_for_aum(float(f["aum"][j])),
                "lifecycle_stage": str(c.lifecycle[i]),
                "aum": float(f["aum"][j]),
                "aum_change_30d": float(f["aum_change_30d"][j]),
                "aum_change_90d": float(f["aum_change_90d"][j]),
                "wealth_share": round(float(rng.uniform(0, 0.8)), 3),
                "deposit_share": None,
                "holdings_count": int(holdings_then[j]),
                "maturing_30d_amount": float(f["maturing_30d_amount"][j]),
                "days_to_next_maturity": int(rng.integers(1, 30)) if f["maturing_30d_amount"][j] > 0 else None,
                "risk_level": int(c.risk_level[i]) if had_assessment[j] else None,
                "assessment_age_days": int(f["assessment_age_days"][j]) if had_assessment[j] else None,
                "assessment_expired": float(f["assessment_expired"][j]),
                "tag_count": int(rng.integers(0, 6)),
                "contacts_30d": float(f["contacts_30d"][j]),
                "contacts_90d": float(f["contacts_90d"][j]),
                "days_since_last_contact": int(days_since[j]) if days_since[j] >= 0 else None,
                "previous_outcome": str(prev[j]),
                "ai_rounds": int(rng.poisson(3)) if (f["ai_intent_wealth"][j] or f["ai_asked_human"][j]) else 0,
                "ai_intent_wealth": float(f["ai_intent_wealth"][j]),
                "ai_intent_maturity": float(f["ai_intent_maturity"][j]),
                "ai_intent_pension": float(f["ai_intent_pension"][j]),
                "ai_asked_human": float(f["ai_asked_human"][j]),
                "ai_not_interested": float(f["ai_not_interested"][j]),
            }
            features["deposit_share"] = round(1 - features["wealth_share"], 3)
            when = fmt_ts(local_time_on(anchor, int(days_ago[j]), int(rng.integers(*WORKING_MINUTES))))
            yield (
                int(ids[j]),
                int(c.cid[i]),
                when,
                "phone",
                int(products[j]) if converted[j] else None,
                bool(converted[j]),
                f"{amounts[j]:.2f}" if converted[j] else None,
                json.dumps(features, ensure_ascii=False),
                "demo",
                when,
            )
