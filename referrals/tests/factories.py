"""Factories for the referral workflow: referrals, and a high lead of an advisor ready to refer."""

from __future__ import annotations

import factory

from customers.services.access import customer_access_referral
from customers.tests.factories import CustomerFactory, InteractionFactory
from leads.models import Grade, LeadBranchAccess, LeadStatus
from leads.tests.factories import LeadFactory
from org.tests.factories import BranchFactory
from referrals import models as m

TRANSCRIPT = [
    {"speaker": "bot", "text": "您好，这里是智能理财助手。"},
    {"speaker": "customer", "text": "我有一笔50万的理财下个月到期，想了解一下怎么配置"},
    {"speaker": "bot", "text": "好的，请问您更看重收益还是稳健？"},
    {"speaker": "customer", "text": "稳健一点，<script>alert(1)</script>最好能面谈"},
]


def high_lead(*, advisor, team, branch, status=LeadStatus.REFERRED, **customer_kwargs):
    """A confirmed high lead of ``advisor`` for a customer of ``branch`` with an AI-bot session."""
    customer = CustomerFactory(home_branch=branch, owner=advisor, **customer_kwargs)
    InteractionFactory(
        customer=customer, channel="ai_bot", direction="in", summary="到期资金再投资", transcript=TRANSCRIPT
    )
    return LeadFactory(
        customer=customer,
        team=team,
        owner=advisor,
        score=86.5,
        proposed_grade=Grade.HIGH,
        confirmed_grade=Grade.HIGH if status != LeadStatus.NEW else "",
        status=status,
        reasons=[{"code": "maturity_soon", "text": "理财产品 20 天后到期"}],
    )


class ReferralFactory(factory.django.DjangoModelFactory):
    """A referral row as ``referrals.services.referral_create`` leaves it, with the access
    grants it gives the branch (the customer and the lead)."""

    class Meta:
        model = m.Referral
        skip_postgeneration_save = True

    lead = factory.SubFactory(LeadFactory, status=LeadStatus.REFERRED, proposed_grade=Grade.HIGH)
    customer = factory.SelfAttribute("lead.customer")
    branch = factory.SubFactory(BranchFactory)
    status = m.ReferralStatus.PENDING
    needs_summary = "客户有 50 万到期资金，希望面谈资产配置"

    @factory.post_generation
    def _access(obj, create, extracted, **kwargs):
        if create:
            customer_access_referral(customer_id=obj.customer_id, branch_id=obj.branch_id)
            LeadBranchAccess.objects.get_or_create(lead_id=obj.lead_id, branch_id=obj.branch_id)
