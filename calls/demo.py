"""Demo call history: the calls advisors logged over the last two weeks and the planned
calls due today, so a fresh demo's call measures (home card, team measures, API) have
figures to show and the Today's calls tab has work.

Drawn after the bulk seeding, from the leads being worked (an owner, in nurture, being
contacted or referred), with its own NumPy generator: deterministic for the seed and
the anchor, and no other seeder's draws move. Calls fall on working days inside the call
hours (``org.calendar``) and before the anchor; the customers who told the bot to stop
marketing (an opted-out phone preference) get no marketing call.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
from django.db import transaction

from core.demo import SHANGHAI, WORKING_MINUTES
from customers.models import ContactPreference
from leads.models import Lead, LeadStatus, PlannedCall, PlannedCallKind, PlannedCallStatus
from org.calendar import Calendar

from .dispositions import dispositions_install
from .models import CallLog, Disposition, NextAction

RNG_STREAM = 97
DAYS = 14
# Of the dialled calls: effective 45 %, refused 10 %, callback 8 %, no answer 22 %, busy 10 %, off 5 %.
OUTCOMES = (
    ("effective", 0.45),
    ("refused", 0.10),
    ("callback", 0.08),
    ("no_answer", 0.22),
    ("busy", 0.10),
    ("invalid", 0.05),
)
NOTES = {
    "effective": [
        "客户关注到期资金续作，已介绍稳健类产品",
        "客户对养老理财有兴趣，约定发送产品说明书",
        "了解客户资金安排，暂无购买计划",
    ],
    "refused": ["客户表示暂不考虑"],
    "callback": ["客户在忙，约定改天回电"],
}


@transaction.atomic
def seed_calls(*, seed: int, anchor: dt.datetime, limit: int = 4000) -> dict[str, int]:
    rng = np.random.default_rng([seed, RNG_STREAM])
    calendar = Calendar.load()
    dispositions_install(Disposition)  # the default taxonomy, whatever emptied the table
    dispositions = {d.code: d for d in Disposition.objects.all()}
    codes = [c for c, _p in OUTCOMES]
    weights = np.array([p for _c, p in OUTCOMES])
    weights = weights / weights.sum()
    stopped = set(
        ContactPreference.objects.filter(channel="phone", consent=False, opted_out_at__isnull=False).values_list(
            "customer_id", flat=True
        )
    )
    leads = list(
        Lead.objects.filter(
            owner__isnull=False,
            status__in=[LeadStatus.NURTURING, LeadStatus.CONTACTING, LeadStatus.REFERRED],
        )
        .exclude(customer_id__in=stopped)
        .order_by("id")
        .values_list("id", "customer_id", "owner_id", "status")[:limit]
    )
    today = anchor.astimezone(SHANGHAI).date()
    days = [today - dt.timedelta(days=d) for d in range(DAYS) if calendar.is_working_day(today - dt.timedelta(days=d))]
    calls: list[CallLog] = []
    planned: list[PlannedCall] = []
    for n, (lead_id, customer_id, owner_id, status) in enumerate(leads):
        for k in range(1 + int(rng.integers(0, 3))):
            day = days[int(rng.integers(0, len(days)))] if days else today
            minute = int(rng.integers(*WORKING_MINUTES))
            started = dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI) + dt.timedelta(minutes=minute)
            if started > anchor:
                continue  # today's calls only up to the demo's "now"
            code = codes[int(rng.choice(len(codes), p=weights))]
            won = code == "effective" and rng.random() < 0.08
            length = int(rng.integers(150, 900)) if code in ("effective", "refused", "callback") else 0
            calls.append(
                CallLog(
                    lead_id=lead_id,
                    customer_id=customer_id,
                    advisor_id=owner_id,
                    idempotency_key=f"demo-{seed}-{lead_id}-{k}",
                    started_at=started.astimezone(dt.UTC),
                    ended_at=(started + dt.timedelta(seconds=length)).astimezone(dt.UTC) if length else None,
                    duration_seconds=length,
                    disposition=dispositions[code],
                    notes=NOTES.get(code, [""])[int(rng.integers(0, len(NOTES.get(code, [""]))))],
                    next_action=NextAction.WON if won else NextAction.NONE,
                    won_amount=Decimal(int(rng.integers(5, 50)) * 10_000) if won else None,
                )
            )
        if status == LeadStatus.NURTURING and n % 3 == 0:
            # A nurture touch planned for today in a call slot; some already done.
            due = calendar.next_call_slot(
                dt.datetime.combine(today, dt.time(), tzinfo=SHANGHAI)
                + dt.timedelta(minutes=int(rng.integers(*WORKING_MINUTES)))
            )
            done = due <= anchor and rng.random() < 0.6
            planned.append(
                PlannedCall(
                    lead_id=lead_id,
                    customer_id=customer_id,
                    advisor_id=owner_id,
                    kind=PlannedCallKind.NURTURE,
                    due_at=due,
                    status=PlannedCallStatus.DONE if done else PlannedCallStatus.PLANNED,
                    done_at=due if done else None,
                    touch_no=1,
                )
            )
    CallLog.objects.bulk_create(calls, batch_size=2000)
    PlannedCall.objects.bulk_create(planned, batch_size=2000)
    return {"calls": len(calls), "planned_calls": len(planned)}
