"""factory_boy factories for scoring: past outcomes."""

from __future__ import annotations

import factory
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from scoring import models as m


class OutcomeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Outcome

    customer = factory.SubFactory(CustomerFactory)
    contacted_at = factory.LazyFunction(timezone.now)
    channel = "phone"
    converted = False
    features = factory.LazyFunction(dict)
    source = m.OutcomeSource.CALL
