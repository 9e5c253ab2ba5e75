"""A sale on a call passes the one sale rule (customers.suitability.suitability_require_sale)
that a referral's conversion passes too: unsuitable products are refused, and a customer of
65 or over buying an R4/R5 product needs the second-level review confirmed, on the page and
in the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from calls.models import CallLog
from calls.tests.factories import disposition
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory, ProductFactory, RiskAssessmentFactory
from leads.models import Lead, LeadStatus
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_hours(settings):
    settings.WORKBENCH_CALL_HOURS_START = "00:00"
    settings.WORKBENCH_CALL_HOURS_END = "23:59"


@pytest.fixture
def elderly_lead(world, open_hours):
    customer = CustomerFactory(
        owner=world.advisor_a, birth_date=dt.date(1950, 3, 1), aum=Decimal("900000"), risk_level=5
    )
    RiskAssessmentFactory(customer=customer, level=5)
    ContactPreferenceFactory(customer=customer, consent=True)
    return LeadFactory(customer=customer, team=world.team_a, owner=world.advisor_a, status=LeadStatus.CONTACTING)


@pytest.fixture
def r4_fund(db):
    return ProductFactory(code="FUND-R4", type="fund", risk_level=4, min_amount=Decimal("1000"))


def _won(product, **extra) -> dict:
    return {
        "idempotency_key": f"won-{product.pk}-{sorted(extra)}",
        "purpose": "marketing",
        "started_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "6",
        "disposition": str(disposition("effective").pk),
        "interest": "high",
        "next_action": "won",
        "won_product": str(product.pk),
        "won_amount": "50000",
        **extra,
    }


def test_the_call_form_asks_for_the_second_review(world, client_for, elderly_lead, r4_fund):
    client = client_for(world.advisor_a)
    url = reverse("calls:log_call", args=[elderly_lead.pk])
    refused = client.post(url, _won(r4_fund))
    assert refused.status_code == 400
    assert "二级复核" in refused.content.decode()
    assert not CallLog.objects.exists()
    assert Lead.objects.get(pk=elderly_lead.pk).status == LeadStatus.CONTACTING

    assert client.post(url, _won(r4_fund, second_review="on")).status_code == 302
    call = CallLog.objects.get()
    check = next(c for c in call.product_checks if c["product_id"] == r4_fund.pk)
    assert check["second_review_confirmed"] is True
    assert Lead.objects.get(pk=elderly_lead.pk).status == LeadStatus.WON


def test_the_api_refuses_an_unsuitable_sale_and_takes_the_second_review(world, elderly_lead, r4_fund):
    api = APIClient()
    api.force_authenticate(world.advisor_a)
    body = {
        "lead": elderly_lead.pk,
        "idempotency_key": "api-won-1",
        "started_at": timezone.now().isoformat(),
        "disposition": "effective",
        "next_action": "won",
        "won_product": r4_fund.pk,
        "won_amount": "50000.00",
    }
    assert api.post("/api/call-logs/", body, format="json").status_code == 400
    too_risky = ProductFactory(code="PE-R5", type="fund", risk_level=5, min_amount=Decimal("1000"), on_shelf=False)
    off_shelf = api.post("/api/call-logs/", {**body, "won_product": too_risky.pk}, format="json")
    assert off_shelf.status_code == 400
    assert not CallLog.objects.exists()
    _r = api.post("/api/call-logs/", {**body, "second_review": True}, format="json")
    assert _r.status_code == 201, _r.json()
