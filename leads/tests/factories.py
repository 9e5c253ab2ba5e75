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


class PlannedCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.PlannedCall

    lead = factory.SubFactory(LeadFactory)
    customer = factory.SelfAttribute("lead.customer")
    kind = m.PlannedCallKind.CALLBACK
    due_at = factory.LazyFunction(timezone.now)


def disposition(code: str) -> m.Disposition:
    """One of the default dispositions (created by the leads data migration; recreated
    here when a transactional test has flushed the tables)."""
    import importlib

    if not m.Disposition.objects.filter(code=code).exists():
        migration = importlib.import_module("leads.migrations.0003_dispositions")
        for order, (c, label, label_en, connected, effective, callback) in enumerate(migration.DISPOSITIONS):
            m.Disposition.objects.get_or_create(
                code=c,
                defaults={
                    "label": label,
                    "label_en": label_en,
                    "connected": connected,
                    "effective": effective,
                    "requests_callback": callback,
                    "sort_order": (order + 1) * 10,
                },
            )
    return m.Disposition.objects.get(code=code)


class CallLogFactory(factory.django.DjangoModelFactory):
    """A call row for metrics tests (real calls go through services.call_log_create)."""

    class Meta:
        model = m.CallLog

    lead = factory.SubFactory(LeadFactory)
    customer = factory.SelfAttribute("lead.customer")
    idempotency_key = factory.Sequence(lambda n: f"key-{n}")
    started_at = factory.LazyFunction(timezone.now)
    disposition = factory.LazyFunction(lambda: disposition("effective"))
