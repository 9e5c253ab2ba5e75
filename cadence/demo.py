"""Demo cadence: the year's themed interactions, allocation reviews (some at the branch
or by video) and a few written reports for the customers of the cadence's tiers, then
the planned calls the beat task would make, so the cadence pages and the portrait bar
have figures in a fresh demo.

Drawn after the bulk seeding with its own NumPy generator (deterministic for the seed
and the anchor; no other seeder's draws move). Customers differ in how well they are
served: some ahead of pace, most a little behind, a few far behind. The rows are the
customers' timeline (``customers.Interaction``), which is what the cadence counts; they
are demo rows with external ids of their own, written in one bulk insert.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db import transaction

from core.demo import WORKING_MINUTES, local_time_on
from customers.models import Channel, Customer, Interaction, Meeting, TouchKind

from .pace import day_number, days_in_year
from .selectors import targets_current
from .services import cadence_plan_calls

RNG_STREAM = 131
LIMIT = 5000  # customers of the tiers given a history (the rest start the year untouched)
THEMES = ["市场月度观点沟通", "到期资金安排交流", "养老规划主题交流", "子女教育金规划交流", "税务与传承主题沙龙邀约"]
REVIEWS = ["季度资产配置检视：权益与固收比例回顾", "资产配置检视：流动性与风险敞口", "半年度组合回顾与再平衡建议"]


@transaction.atomic
def seed_cadence(*, seed: int, anchor: dt.datetime) -> dict[str, int]:
    rng = np.random.default_rng([seed, RNG_STREAM])
    targets = targets_current()
    local_anchor = anchor.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    share = day_number(local_anchor) / days_in_year(local_anchor.year)
    elapsed = day_number(local_anchor) - 1  # whole days of the year before today
    customers = list(
        Customer.objects.filter(tier__in=targets.tiers).order_by("id").values_list("id", "owner_id")[:LIMIT]
    )
    rows = []
    for cid, owner_id in customers:
        diligence = float(rng.choice([0.5, 0.8, 0.95, 1.1], p=[0.15, 0.35, 0.3, 0.2]))
        themed = int(rng.poisson(targets.themed * share * diligence))
        reviews = min(themed, int(rng.poisson(targets.reviews * share * diligence)))
        face = min(reviews, int(rng.poisson(targets.face_to_face * share * diligence)))
        report = int(targets.reports > 0 and rng.random() < share * diligence * 0.6)
        kinds = (
            [(TouchKind.REVIEW, Meeting.IN_PERSON if rng.random() < 0.6 else Meeting.VIDEO)] * face
            + [(TouchKind.REVIEW, Meeting.NONE)] * (reviews - face)
            + [(TouchKind.THEMED, Meeting.NONE)] * (themed - reviews)
            + [(TouchKind.REPORT, Meeting.NONE)] * report
        )
        for n, (kind, meeting) in enumerate(kinds):
            days_ago = int(rng.integers(1, max(elapsed, 1) + 1)) if elapsed else 0
            when = local_time_on(anchor, days_ago, int(rng.integers(*WORKING_MINUTES)))
            if when.astimezone(dt.timezone(dt.timedelta(hours=8))).year != local_anchor.year:
                continue  # 1 January before the opening of the day: nothing yet
            channel = {
                Meeting.IN_PERSON: Channel.BRANCH_VISIT,
                Meeting.VIDEO: Channel.WECHAT,
            }.get(meeting, Channel.PHONE if kind != TouchKind.REPORT else Channel.EMAIL)
            if kind == TouchKind.REPORT:
                summary = "年度书面财富管理报告已送达"
            elif kind == TouchKind.REVIEW:
                summary = REVIEWS[int(rng.integers(0, len(REVIEWS)))]
            else:
                summary = THEMES[int(rng.integers(0, len(THEMES)))]
            rows.append(
                Interaction(
                    customer_id=cid,
                    channel=channel,
                    occurred_at=when,
                    actor_id=owner_id,
                    summary=summary,
                    external_id=f"demo-cadence:{cid}:{n}",
                    touch_kind=kind,
                    meeting=meeting,
                )
            )
    Interaction.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    planned = cadence_plan_calls(now=anchor)
    return {"cadence_touches": len(rows), "cadence_calls": planned["planned"]}
