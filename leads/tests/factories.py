"""factory_boy factories for leads, referrals and outcomes."""

from __future__ import annotations

import factory
from django.utils import timezone

from customers.tests.factories import BranchFactory, CustomerFactory, TeamFactory
from leads import models as m


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Lead

    customer = factory.SubFactory(CustomerFactory)
    team = factory.SubFactory(TeamFactory)
    source = m.LeadSource.MODEL
    score = 55.0
    proposed_grade = m.Grade.MID
    status = m.LeadStatus.NEW
    reasons = factory.LazyFunction(lambda: [{"code": "maturity_soon", "text": "理财产品 12 天后到期"}])


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Referral

    lead = factory.SubFactory(LeadFactory, status=m.LeadStatus.REFERRED, proposed_grade=m.Grade.HIGH)
    customer = factory.SelfAttribute("lead.customer")
    branch = factory.SubFactory(BranchFactory)
    status = m.ReferralStatus.PENDING
    needs_summary = "客户有 50 万到期资金，希望面谈资产配置"


class OutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Outcome

    customer = factory.SubFactory(CustomerFactory)
    contacted_at = factory.LazyFunction(timezone.now)
    channel = "phone"
    converted = False
    features = factory.LazyFunction(dict)
    source = m.OutcomeSource.CALL
