"""factory_boy factories for the cadence: customers of the cadence's tiers and their
touches."""

from __future__ import annotations

from decimal import Decimal

import factory

from cadence.models import CadenceTargets
from customers.models import TouchKind
from customers.tests.factories import CustomerFactory, InteractionFactory


class WealthCustomerFactory(CustomerFactory):
    aum = Decimal("1000000.00")


class TouchFactory(InteractionFactory):
    touch_kind = TouchKind.THEMED
    summary = "主题交流"


class TargetsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CadenceTargets
        django_get_or_create = ("id",)

    id = 1
