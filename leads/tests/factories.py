"""factory_boy factories for leads and planned calls.

A lead made here keeps the customer's access grant as ``leads.services`` does, so the
customer row rule sees the same world the services would have made.
"""

from __future__ import annotations

import factory
from django.utils import timezone

from customers.services.access import customer_access_open_lead
from customers.tests.factories import CustomerFactory
from leads import models as m
from org.tests.factories import TeamFactory


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Lead
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    team = factory.SubFactory(TeamFactory)
    source = m.LeadSource.MODEL
    score = 55.0
    proposed_grade = m.Grade.MID
    status = m.LeadStatus.NEW
    reasons = factory.LazyFunction(lambda: [{"code": "maturity_soon", "text": "理财产品 12 天后到期"}])

    @factory.post_generation
    def _access(obj, create, extracted, **kwargs):
        if create and obj.is_open:
            customer_access_open_lead(customer_id=obj.customer_id, team_id=obj.team_id)


class PlannedCallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.PlannedCall

    lead = factory.SubFactory(LeadFactory)
    customer = factory.SelfAttribute("lead.customer")
    kind = m.PlannedCallKind.CALLBACK
    due_at = factory.LazyFunction(timezone.now)
