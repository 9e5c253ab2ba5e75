"""Demo leads: open leads for about 30% of each chunk's customers, graded by today's true
propensity (``customers.demo.logit_of``), with reasons in words, and the open-lead access
grants the lead services would have written (through ``customers.services.access``).

The leads in status referred are handed on to the referrals seeder (:class:`ReferredLeads`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np

from core.demo import IdAllocator, RowWriter, fmt_ts, sigmoid
from customers.demo import CustomerChunk, logit_of
from customers.services.access import customer_access_open_leads
from org.demo import ADVISORS_PER_TEAM, OrgWorld

from .models import OPEN_LEAD_STATUSES, Lead

RNG_STREAM = 1  # core.demo.Chunk.rng

LEAD_COLUMNS = [
    "id",
    "customer_id",
    "team_id",
    "owner_id",
    "source",
    "score",
    "proposed_grade",
    "confirmed_grade",
    "status",
    "reasons",
    "model_version",
    "created_at",
    "updated_at",
]


@dataclass
class ReferredLeads:
    """The chunk's referred leads, one entry each: what their referral repeats."""

    lead_id: list[int]
    customer_i: list[int]  # index into the CustomerChunk
    score: list[float]
    owner: list[int | None]
    reasons: list[str]  # JSON, as on the lead


def reasons_for(f: dict[str, np.ndarray], i: int) -> list[dict]:
    """Reasons in words, Chinese and English, for a demo lead (the scoring engine writes its own)."""
    out = []
    if f["ai_asked_human"][i]:
        out.append(
            {
                "code": "ai_asked_human",
                "text": "AI 对话中要求人工理财经理联系",
                "text_en": "Asked the AI bot for a human advisor",
                "weight": 1.1,
            }
        )
    if f["maturing_30d_amount"][i] > 0:
        out.append(
            {
                "code": "maturity_soon",
                "text": f"30 天内有 {f['maturing_30d_amount'][i] / 10_000:.1f} 万元产品到期",
                "text_en": f"{f['maturing_30d_amount'][i] / 10_000:.1f} 10k CNY maturing within 30 days",
                "weight": 0.9,
            }
        )
    if f["ai_intent_wealth"][i]:
        out.append(
            {
                "code": "ai_intent_wealth",
                "text": "AI 对话中询问理财产品",
                "text_en": "Asked the AI bot about wealth products",
                "weight": 0.8,
            }
        )
    if f["ai_intent_pension"][i]:
        out.append(
            {
                "code": "ai_intent_pension",
                "text": "AI 对话中询问养老理财",
                "text_en": "Asked the AI bot about pension products",
                "weight": 0.5,
            }
        )
    if f["aum_change_90d"][i] < -0.1:
        out.append(
            {
                "code": "aum_outflow",
                "text": f"近 90 天资产流出 {-f['aum_change_90d'][i] * 100:.0f}%",
                "text_en": f"AUM outflow of {-f['aum_change_90d'][i] * 100:.0f}% in the last 90 days",
                "weight": 0.4,
            }
        )
    elif f["aum_change_90d"][i] > 0.08:
        out.append(
            {
                "code": "aum_inflow",
                "text": f"近 90 天资产增长 {f['aum_change_90d'][i] * 100:.0f}%",
                "text_en": f"AUM growth of {f['aum_change_90d'][i] * 100:.0f}% in the last 90 days",
                "weight": 0.4,
            }
        )
    if f["ai_not_interested"][i]:
        out.insert(
            0,
            {
                "code": "ai_not_interested",
                "text": "客户在 AI 对话中表示不想再被推销",
                "text_en": "Told the AI bot to stop marketing: respect the contact preference",
                "weight": -2.5,
            },
        )
    if f["assessment_expired"][i]:
        out.append(
            {
                "code": "assessment_expired",
                "text": "风险测评已过期，需先完成测评",
                "text_en": "Risk assessment expired: renew it first",
                "weight": -1.0,
            }
        )
    if not out:
        out.append(
            {
                "code": "aum",
                "text": f"资产 {f['aum'][i] / 10_000:.1f} 万元",
                "text_en": f"AUM of {f['aum'][i] / 10_000:.1f} 10k CNY",
                "weight": 0.2,
            }
        )
    return out[:4]


class LeadSeeder:
    MODELS = (Lead,)
    STATS = ("leads",)

    def __init__(self, *, org: OrgWorld, writer: RowWriter, ids: IdAllocator):
        self.org = org
        self.writer = writer
        self.ids = ids

    def seed_chunk(self, c: CustomerChunk) -> tuple[ReferredLeads, dict[str, int]]:
        rng = c.chunk.rng(RNG_STREAM)
        f = c.features_now()
        chosen, score, grade, status, roll = self._draw(rng, c, f)
        ids = self.ids.take(Lead, len(chosen))
        now = fmt_ts(c.chunk.anchor - dt.timedelta(hours=2))
        referred = ReferredLeads(lead_id=[], customer_i=[], score=[], owner=[], reasons=[])
        rows = []
        for j, i in enumerate(chosen):
            team = int(c.team[i])
            st = status[j]
            owner = self._owner(c, i, team, st, roll[j])
            confirmed = grade[j] if st != "new" else ""
            if st == "pooled":
                confirmed = "low"
            reasons = json.dumps(reasons_for(f, i), ensure_ascii=False)
            lead_id = int(ids[j])
            rows.append(
                (
                    lead_id,
                    int(c.cid[i]),
                    team,
                    owner,
                    "model",
                    float(score[j]),
                    grade[j],
                    confirmed,
                    st,
                    reasons,
                    "demo-rules",
                    now,
                    now,
                )
            )
            if st == "referred":
                referred.lead_id.append(lead_id)
                referred.customer_i.append(int(i))
                referred.score.append(float(score[j]))
                referred.owner.append(owner)
                referred.reasons.append(reasons)
        self.writer.write(Lead, LEAD_COLUMNS, rows)
        # What lead_transition keeps for an open lead: its team sees the customer.
        customer_access_open_leads(pairs=[(row[1], row[2]) for row in rows if row[8] in OPEN_LEAD_STATUSES])
        return referred, {"leads": len(rows)}

    @staticmethod
    def _draw(rng, c: CustomerChunk, f):
        """Which customers have an open lead today, its score, grade and status."""
        p = sigmoid(logit_of(f, c.occupation, c.hidden))
        chosen = np.flatnonzero(rng.random(c.size) < np.clip(0.14 + 1.2 * p, 0, 0.95))
        score = np.round(100 * p[chosen], 1)
        grade = np.where(score >= 40, "high", np.where(score >= 15, "mid", "low"))
        roll = rng.random(len(chosen))
        status = np.where(
            roll < 0.62,
            "new",
            np.where(
                roll < 0.74,
                "nurturing",
                np.where(roll < 0.88, "pooled", np.where(roll < 0.94, "contacting", "referred")),
            ),
        )
        status = np.where((status == "referred") & (grade != "high"), "nurturing", status)
        status = np.where((status == "pooled") & (grade == "high"), "new", status)
        return chosen, score, grade, status, roll

    def _owner(self, c: CustomerChunk, i: int, team: int, status: str, roll: float) -> int | None:
        """Leads being worked have an advisor (the customer's owner, else one of the
        team's); a fifth of the others are already claimed by the owner."""
        worked = status in ("nurturing", "contacting", "referred")
        owner = c.owner[i] if worked or roll < 0.2 else None
        if worked and owner is None:
            owner = self.org.advisors_by_team[team][int(c.cid[i]) % ADVISORS_PER_TEAM]
        return owner
