"""Conditions the apps above register on the customer list (``customers.extensions.LIST_FILTERS``)."""

from __future__ import annotations

import django_filters as df
import pytest
from django.urls import reverse

from customers.extensions import LIST_FILTERS, ListFilter
from customers.filters import CustomerFilter, condition_names
from customers.models import Customer, Tier
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def _city(qs, name, value):
    return qs.filter(city=value)


def _registered():
    return {
        "city_is": df.CharFilter(method=_city, label="City is"),
        "tier": df.CharFilter(method=_city, label="Not the list's tier"),
    }


def _clean(values):
    return {"city_is": "No such city."} if values.get("city_is") == "Atlantis" else {}


def test_a_registered_condition_filters_the_list_and_checks_its_values(world, client_for):
    LIST_FILTERS.register(ListFilter(key="test_city", filters=_registered, clean=_clean))
    here = CustomerFactory(owner=world.advisor_a, city="杭州", tier=Tier.BASE)
    there = CustomerFactory(owner=world.advisor_a, city="上海", tier=Tier.BASE)
    assert "city_is" in condition_names()
    client = client_for(world.advisor_a)
    html = client.get(reverse("customers:list"), {"city_is": "杭州"}).content.decode()
    assert here.customer_no in html and there.customer_no not in html
    refused = client.get(reverse("customers:list"), {"city_is": "Atlantis"}).content.decode()
    assert "No such city." in refused
    # a name the list uses itself stays the list's own
    f = CustomerFilter({"tier": Tier.BASE}, queryset=Customer.objects.all())
    assert f.filters["tier"].label != "Not the list's tier"
    assert set(f.qs) == {here, there}
