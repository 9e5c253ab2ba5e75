"""A small world with known figures on fixed days, counted by the dashboards' task.

The current week is Monday 2026-11-23 to Sunday 2026-11-29, the previous one 11-16 to
11-22 (Asia/Shanghai). Team A's advisor_a (customers of branch X) and team B's advisor_b.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from calls.tests.factories import CallLogFactory, disposition
from customers.tests.factories import AssetSnapshotFactory, CustomerFactory, FundFlowFactory, InteractionFactory
from dashboards.services import day_refresh
from leads.models import Grade, GradeDecision, Lead, LeadStatus, PlannedCallKind
from leads.tests.factories import LeadFactory, PlannedCallFactory
from referrals.models import Referral, ReferralStatus
from referrals.tests.factories import ReferralFactory

SH = ZoneInfo("Asia/Shanghai")
WEEK_START = dt.date(2026, 11, 23)
PREV_START = dt.date(2026, 11, 16)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SH)


def refresh(first: dt.date, last: dt.date) -> None:
    day = first
    while day <= last:
        day_refresh(day=day)
        day += dt.timedelta(days=1)


@pytest.fixture
def known(world):
    a, b = world.advisor_a, world.advisor_b
    tue, wed, thu, fri = (WEEK_START + dt.timedelta(days=n) for n in (1, 2, 3, 4))
    # Reached: 8 AI-bot conversations with advisor_a's customers, 1 with advisor_b's.
    customers_a = [CustomerFactory(owner=a, home_branch=world.branch_x) for _ in range(8)]
    customer_b = CustomerFactory(owner=b, home_branch=world.branch_y)
    for c in customers_a:
        InteractionFactory(customer=c, channel="ai_bot", direction="in", occurred_at=at(tue, 9))
    InteractionFactory(customer=customer_b, channel="ai_bot", direction="in", occurred_at=at(tue, 9))
    # Proposed: 5 leads of advisor_a this week, 2 the week before; 2 of advisor_b.
    leads_a = [
        LeadFactory(customer=c, team=world.team_a, owner=a, proposed_grade=Grade.HIGH, proposed_at=at(tue))
        for c in customers_a[:5]
    ]
    for c in customers_a[5:7]:
        LeadFactory(customer=c, team=world.team_a, owner=a, proposed_at=at(PREV_START + dt.timedelta(days=2)))
    LeadFactory(customer=customer_b, team=world.team_b, owner=b, proposed_at=at(wed))
    LeadFactory(
        customer=CustomerFactory(owner=b, home_branch=world.branch_y), team=world.team_b, owner=b, proposed_at=at(wed)
    )
    # Confirmed by advisor_a: high 2, mid 1 (an override).
    for lead, grade in zip(leads_a[:3], (Grade.HIGH, Grade.HIGH, Grade.MID), strict=True):
        d = GradeDecision.objects.create(
            lead=lead,
            advisor=a,
            proposed_grade=Grade.HIGH,
            confirmed_grade=grade,
            overridden=grade != Grade.HIGH,
            reason_code="" if grade == Grade.HIGH else "transcript_weaker",
        )
        GradeDecision.objects.filter(pk=d.pk).update(decided_at=at(wed))
    Lead.objects.filter(pk__in=[leads_a[0].pk, leads_a[1].pk]).update(
        status=LeadStatus.REFERRED, confirmed_grade="high"
    )
    # Referred to branch X: one accepted (then converted, 500,000), one rejected.
    r1 = ReferralFactory(lead=leads_a[0], branch=world.branch_x, from_advisor=a)
    r2 = ReferralFactory(lead=leads_a[1], branch=world.branch_x, from_advisor=a)
    Referral.objects.filter(pk__in=[r1.pk, r2.pk]).update(
        created_at=at(wed), review_due_at=at(thu, 18), first_contact_due_at=at(fri, 18)
    )
    Referral.objects.filter(pk=r1.pk).update(
        status=ReferralStatus.CONVERTED,
        accepted_at=at(thu),
        assigned_rm=world.rm_x,
        first_contacted_at=at(thu, 15),
        converted_amount=Decimal("500000.00"),
        closed_at=at(fri),
    )
    Referral.objects.filter(pk=r2.pk).update(
        status=ReferralStatus.REJECTED, rejected_at=at(fri), reject_reason="not_a_fit", closed_at=at(fri)
    )
    # Calls of advisor_a on Tuesday: 10 dialled, 8 effective, 1 won (100,000); advisor_b 2.
    for n in range(10):
        code = "effective" if n < 8 else ("refused" if n == 8 else "no_answer")
        CallLogFactory(
            lead=leads_a[n % 5],
            advisor=a,
            started_at=at(tue, 10 + n // 4),
            disposition=disposition(code),
            next_action="won" if n == 0 else "none",
            won_amount=Decimal("100000.00") if n == 0 else None,
        )
    for _ in range(2):
        CallLogFactory(
            lead=LeadFactory(team=world.team_b, owner=b),
            advisor=b,
            started_at=at(tue, 14),
            disposition=disposition("no_answer"),
        )
    # Planned calls of advisor_a due Tuesday: 5, 4 done; two callbacks, one kept on time.
    for n in range(5):
        PlannedCallFactory(
            lead=leads_a[n],
            advisor=a,
            kind=PlannedCallKind.NURTURE,
            due_at=at(tue, 11),
            status="done" if n < 4 else "planned",
        )
    PlannedCallFactory(
        lead=leads_a[0],
        advisor=a,
        kind=PlannedCallKind.CALLBACK,
        due_at=at(tue, 15),
        status="done",
        done_at=at(tue, 15, 20),
    )
    PlannedCallFactory(
        lead=leads_a[1],
        advisor=a,
        kind=PlannedCallKind.CALLBACK,
        due_at=at(tue, 15),
        status="done",
        done_at=at(tue, 19),
    )
    # The book: a snapshot of each on the previous Friday and this Thursday; a transfer in
    # to advisor_a's customer on Tuesday and a withdrawal of advisor_b's on Wednesday.
    for customer, before, after in ((customers_a[0], "300000", "380000"), (customer_b, "200000", "150000")):
        AssetSnapshotFactory(customer=customer, date=PREV_START + dt.timedelta(days=4), aum=Decimal(before))
        AssetSnapshotFactory(customer=customer, date=thu, aum=Decimal(after))
    FundFlowFactory(customer=customers_a[0], direction="in", amount=Decimal("80000"), occurred_at=at(tue, 11))
    FundFlowFactory(customer=customer_b, direction="out", amount=Decimal("50000"), occurred_at=at(wed, 16))
    refresh(PREV_START, WEEK_START + dt.timedelta(days=6))
    return SimpleNamespace(world=world, leads_a=leads_a, r1=r1, r2=r2)
