"""A referral's conversion is a sale: the suitability rule of the call form applies, on the
page, in the service and in the API (R ≤ C, a valid assessment, 65+ with R4/R5 only after
the second-level review), and a refused conversion changes nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from customers.models import Customer
from customers.tests.factories import ProductFactory, RiskAssessmentFactory
from leads.models import Lead, LeadStatus
from referrals import services
from referrals.models import Referral
from referrals.models import ReferralStatus as S

pytestmark = pytest.mark.django_db


def _assess(customer, level: int, *, days_ago: int = 30, birth: dt.date | None = None) -> None:
    RiskAssessmentFactory(customer=customer, level=level, assessed_at=timezone.now() - dt.timedelta(days=days_ago))
    Customer.objects.filter(pk=customer.pk).update(
        risk_level=level, birth_date=birth or dt.date(1980, 1, 1), aum=Decimal("800000")
    )
    customer.refresh_from_db()


@pytest.fixture
def r4_fund(db):
    return ProductFactory(code="FUND-R4", name="成长股票基金", type="fund", risk_level=4, min_amount=Decimal("1000"))


def _unchanged(referral: Referral) -> None:
    referral.refresh_from_db()
    assert referral.status == S.ACCEPTED and referral.converted_product_id is None
    assert Lead.objects.get(pk=referral.lead_id).status == LeadStatus.REFERRED
    assert not AuditEvent.objects.filter(verb="referral.converted").exists()


def test_an_r4_fund_for_a_c1_customer_is_refused_everywhere(world, client_for, accepted, r4_fund):
    _assess(accepted.customer, 1)
    with pytest.raises(ValidationError) as exc:
        services.referral_record_outcome(
            actor=world.rm_x, referral=accepted, outcome=S.CONVERTED, product=r4_fund, amount="50000"
        )
    assert "R4" in exc.value.messages[0] and "C1" in exc.value.messages[0]
    _unchanged(accepted)

    page = client_for(world.rm_x).post(
        reverse("referrals:outcome", args=[accepted.pk]),
        {"out-outcome": "converted", "out-product": r4_fund.pk, "out-amount": "50000", "out-note": ""},
    )
    assert page.status_code == 400
    assert "不能继续推进这笔销售" in page.content.decode()
    _unchanged(accepted)

    api = APIClient()
    api.force_authenticate(world.rm_x)
    answer = api.post(
        f"/api/referrals/{accepted.pk}/outcome/",
        {"outcome": "converted", "product": r4_fund.code, "amount": "50000.00"},
        format="json",
    )
    assert answer.status_code == 400 and "R4" in answer.json()["detail"]
    _unchanged(accepted)


def test_an_expired_assessment_refuses_the_conversion(world, accepted, product):
    _assess(accepted.customer, 5, days_ago=400)
    with pytest.raises(ValidationError):
        services.referral_record_outcome(
            actor=world.rm_x, referral=accepted, outcome=S.CONVERTED, product=product, amount="50000"
        )
    _unchanged(accepted)


def test_65_or_over_with_r4_needs_the_second_review(world, accepted, r4_fund):
    _assess(accepted.customer, 5, birth=timezone.localdate().replace(year=timezone.localdate().year - 70))
    with pytest.raises(ValidationError) as exc:
        services.referral_record_outcome(
            actor=world.rm_x, referral=accepted, outcome=S.CONVERTED, product=r4_fund, amount="50000"
        )
    assert exc.value.code == "second_review"
    _unchanged(accepted)
    done = services.referral_record_outcome(
        actor=world.rm_x, referral=accepted, outcome=S.CONVERTED, product=r4_fund, amount="50000", second_review=True
    )
    assert done.status == S.CONVERTED
    assert AuditEvent.objects.get(verb="referral.converted").details["second_review"] is True


def test_the_api_takes_the_second_review(world, accepted, r4_fund):
    _assess(accepted.customer, 5, birth=dt.date(1950, 1, 1))
    api = APIClient()
    api.force_authenticate(world.rm_x)
    url = f"/api/referrals/{accepted.pk}/outcome/"
    body = {"outcome": "converted", "product": r4_fund.code, "amount": "50000.00"}
    assert api.post(url, body, format="json").status_code == 400
    answer = api.post(url, {**body, "second_review": True}, format="json")
    assert answer.status_code == 200 and answer.json()["status"] == "converted"
