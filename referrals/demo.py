"""Demo referrals: one for each referred lead of a chunk, to the customer's home branch,
in every status with fields that agree with it (who took it, when, what came of it), and
the access grants ``referral_create`` would have written: the branch sees the customer
(``customers.services.access``) and the lead (``leads.services``).
"""

from __future__ import annotations

import datetime as dt

from core.demo import IdAllocator, RowWriter, fmt_ts, local_time_on
from customers.demo import CustomerChunk
from customers.services.access import customer_access_referrals
from leads.demo import ReferredLeads
from leads.services import lead_grant_branches
from org.demo import RMS_PER_BRANCH, OrgWorld

from .models import Referral

RNG_STREAM = 3  # core.demo.Chunk.rng

STATUSES = ["pending", "accepted", "contacted", "meeting", "converted", "rejected"]
REFERRAL_COLUMNS = [
    "id",
    "lead_id",
    "customer_id",
    "branch_id",
    "from_advisor_id",
    "status",
    "needs_summary",
    "score",
    "reasons",
    "created_at",
    "updated_at",
    "review_due_at",
    "ai_highlights",
    "products_of_interest",
    "branch_reason",
    "preferred_contact_time",
    "reject_reason",
    "reject_note",
    "outcome_note",
    "converted_amount",
    "assigned_rm_id",
    "accepted_at",
    "first_contacted_at",
    "rejected_at",
    "closed_at",
]


class ReferralSeeder:
    MODELS = (Referral,)
    STATS = ("referrals",)

    def __init__(self, *, org: OrgWorld, writer: RowWriter, ids: IdAllocator):
        self.org = org
        self.writer = writer
        self.ids = ids

    def seed_chunk(self, c: CustomerChunk, referred: ReferredLeads) -> dict[str, int]:
        rng = c.chunk.rng(RNG_STREAM)
        anchor = c.chunk.anchor
        ids = self.ids.take(Referral, len(referred.lead_id)).tolist()
        rows = []
        for n, (lead_id, i) in enumerate(zip(referred.lead_id, referred.customer_i, strict=True)):
            status = STATUSES[int(rng.integers(0, len(STATUSES)))]
            # Referred in office hours, early enough that the branch's same-day steps
            # (accepted five hours later) still fall in the working day.
            created = local_time_on(anchor, int(rng.integers(0, 20)), int(rng.integers(9 * 60, 15 * 60 + 30)))
            customer_id = int(c.cid[i])
            branch_id = self.org.branch_ids[c.branch_i[i]]
            worked = status not in ("pending", "rejected")
            rm = self.org.rms_by_branch[branch_id][customer_id % RMS_PER_BRANCH] if worked else None
            contacted = status in ("contacted", "meeting", "converted")
            converted = status == "converted"
            rejected = status == "rejected"
            rows.append(
                (
                    ids[n],
                    lead_id,
                    customer_id,
                    branch_id,
                    referred.owner[n],
                    status,
                    "客户有大额资金到期，希望面谈资产配置；AI 对话中要求人工服务",
                    referred.score[n],
                    referred.reasons[n],
                    fmt_ts(created),
                    fmt_ts(created),
                    fmt_ts(created + dt.timedelta(days=1)),
                    "[]",
                    "[]",
                    "",
                    "",
                    "not_a_fit" if rejected else "",
                    "客户近期无投资计划" if rejected else "",
                    "客户购买稳健类理财" if converted else "",
                    f"{min(float(c.aum[i]) * 0.3, 2_000_000):.2f}" if converted else None,
                    rm,
                    fmt_ts(created + dt.timedelta(hours=5)) if worked else None,
                    fmt_ts(created + dt.timedelta(days=1)) if contacted else None,
                    fmt_ts(created + dt.timedelta(hours=3)) if rejected else None,
                    fmt_ts(created + dt.timedelta(days=3)) if converted else None,
                )
            )
        self.writer.write(Referral, REFERRAL_COLUMNS, rows)
        # What referral_create grants: the branch sees the customer and the lead.
        customer_access_referrals(pairs=[(row[2], row[3]) for row in rows])
        lead_grant_branches(pairs=[(row[1], row[3]) for row in rows])
        return {"referrals": len(rows)}
