"""The customer portrait's "Leads and referrals" tab, which referrals registers
(``referrals/portrait.py``) in ``customers.extensions.PORTRAIT_TABS``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.extensions import PORTRAIT_TABS
from customers.models import AccessKind, AccessRecord
from customers.tests.factories import CustomerFactory
from leads.models import LeadStatus
from leads.tests.factories import LeadFactory
from referrals.models import ReferralStatus

from .factories import ReferralFactory


def tab_url(customer):
    return reverse("customers:tab", args=[customer.pk, "leads"])


@pytest.fixture
def customer(world):
    return CustomerFactory(owner=world.advisor_a, home_branch=world.branch_x)


@pytest.fixture
def history(world, customer):
    closed = LeadFactory(customer=customer, team=world.team_a, owner=world.advisor_a, status=LeadStatus.WON)
    converted = ReferralFactory(
        lead=closed,
        branch=world.branch_x,
        from_advisor=world.advisor_a,
        assigned_rm=world.rm_x,
        status=ReferralStatus.CONVERTED,
        converted_amount=Decimal("200000"),
        outcome_note="<b>客户已购买</b>",
    )
    rejected = ReferralFactory(
        lead=LeadFactory(customer=customer, team=world.team_a, status=LeadStatus.NURTURING),
        branch=world.branch_y,
        from_advisor=world.advisor_a,
        status=ReferralStatus.REJECTED,
        reject_reason="not_a_fit",
    )
    return {"leads": [closed, rejected.lead], "referrals": [converted, rejected]}


def test_the_tab_is_registered_after_the_portraits_own():
    tab = PORTRAIT_TABS.get("leads")
    assert tab is not None and tab.template == "referrals/portrait_leads.html" and tab.order == 60
    assert str(tab.label) in ("Leads and referrals", "线索与转介")


def test_tab_shows_the_customers_leads_and_referrals_escaped(world, client_for, customer, history):
    response = client_for(world.advisor_a).get(tab_url(customer), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    for lead in history["leads"]:
        assert f'data-lead="{lead.pk}"' in html
    for referral in history["referrals"]:
        assert f'data-referral="{referral.pk}"' in html
    assert world.branch_x.name in html and world.branch_y.name in html
    assert "¥200,000" in html
    assert "<b>客户已购买</b>" not in html and "&lt;b&gt;客户已购买&lt;/b&gt;" in html


def test_tab_with_nothing_says_so(world, client_for, customer):
    html = client_for(world.advisor_a).get(tab_url(customer), HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="leads-table"' in html and 'data-testid="referrals-table"' in html
    assert "data-lead=" not in html and "data-referral=" not in html


def test_tab_is_recorded_and_a_404_outside_the_customer_rule(world, client_for, customer, history):
    client_for(world.advisor_a).get(tab_url(customer), HTTP_HX_REQUEST="true")
    record = AccessRecord.objects.get(customer=customer)
    assert record.user == world.advisor_a and record.kind == AccessKind.VIEW and record.details["tab"] == "leads"
    assert client_for(world.advisor_b).get(tab_url(customer), HTTP_HX_REQUEST="true").status_code == 404
    assert AccessRecord.objects.filter(customer=customer).count() == 1


def test_tab_query_count_is_constant(world, client_for, customer, history, django_assert_num_queries):
    client = client_for(world.advisor_a)
    client.get(tab_url(customer), HTTP_HX_REQUEST="true")  # warm the session
    # session, user, staff profile, customer, the access record, leads, referrals
    with django_assert_num_queries(7):
        client.get(tab_url(customer), HTTP_HX_REQUEST="true")
    for _ in range(3):
        ReferralFactory(lead=LeadFactory(customer=customer, status=LeadStatus.LOST), branch=world.branch_x)
    with django_assert_num_queries(7):
        client.get(tab_url(customer), HTTP_HX_REQUEST="true")


def test_a_referral_links_to_its_page_only_for_those_who_may_open_it(world, client_for, customer, history):
    to_x, to_y = history["referrals"]
    html = client_for(world.rm_x).get(tab_url(customer), HTTP_HX_REQUEST="true").content.decode()
    assert reverse("referrals:detail", args=[to_x.pk]) in html
    assert reverse("referrals:detail", args=[to_y.pk]) not in html and f'data-referral="{to_y.pk}"' in html
    html = client_for(world.advisor_a).get(tab_url(customer), HTTP_HX_REQUEST="true").content.decode()
    assert reverse("referrals:detail", args=[to_y.pk]) in html
