"""The queue filters: the workbench's one customer search, and Today's calls by "when"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import QueryDict
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from leads.filters import LeadQueueFilter, PlannedCallFilter
from leads.models import Lead, PlannedCall
from leads.tests.factories import LeadFactory, PlannedCallFactory

pytestmark = pytest.mark.django_db


def _found(term: str) -> set[str]:
    qs = LeadQueueFilter(QueryDict(f"q={term}"), queryset=Lead.objects.all()).qs
    return set(qs.values_list("customer__name", flat=True))


def test_customer_search_is_number_exact_name_prefix_or_last_4(world):
    LeadFactory(
        team=world.team_a, customer=CustomerFactory(name="陈美玲", customer_no="C0000012345", mobile="13800001234")
    )
    LeadFactory(
        team=world.team_a, customer=CustomerFactory(name="陈刚", customer_no="C0000067890", mobile="13900005678")
    )
    LeadFactory(
        team=world.team_a, customer=CustomerFactory(name="王陈", customer_no="C0000011111", mobile="13700009999")
    )
    assert _found("C0000012345") == {"陈美玲"}
    assert _found("c0000012345") == {"陈美玲"}  # any case
    assert _found("C00000123") == set()  # the number is exact
    assert _found("陈") == {"陈美玲", "陈刚"}  # the name is a prefix
    assert _found("5678") == {"陈刚"}  # last 4 of the mobile
    assert _found("") == {"陈美玲", "陈刚", "王陈"}


def test_todays_calls_default_to_today_and_overdue(world):
    now = timezone.now()
    lead = LeadFactory(team=world.team_a, owner=world.advisor_a)
    overdue = PlannedCallFactory(lead=lead, advisor=world.advisor_a, due_at=now - dt.timedelta(days=1))
    later = PlannedCallFactory(lead=lead, advisor=world.advisor_a, due_at=now + dt.timedelta(days=3))
    qs = PlannedCall.objects.all()
    assert set(PlannedCallFilter(QueryDict(""), queryset=qs).qs) == {overdue}
    assert set(PlannedCallFilter(QueryDict("when=nonsense"), queryset=qs).qs) == {overdue}
    assert set(PlannedCallFilter(QueryDict("when=week"), queryset=qs).qs) == {overdue, later}
    assert set(PlannedCallFilter(QueryDict("when=all&kind=nurture"), queryset=qs).qs) == set()
