"""The customer portrait's "needs and propensities" tab, which scoring fills
(``customers.extensions.PORTRAIT_TABS``): the current score and what the data says,
escaped, recorded for PIPL, with a pinned number of queries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.extensions import PORTRAIT_TABS
from customers.models import AccessKind, AccessRecord, Channel
from customers.tests.factories import CustomerFactory, HoldingFactory, InteractionFactory, RiskAssessmentFactory
from scoring.models import CustomerScore

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(world):
    c = CustomerFactory(owner=world.advisor_a)
    RiskAssessmentFactory(customer=c, level=3)
    HoldingFactory(customer=c, maturity_date=timezone.localdate() + dt.timedelta(days=10), amount=Decimal("80000"))
    InteractionFactory(customer=c, channel=Channel.AI_BOT, intents=["ask_maturity"])
    return c


def _score(customer, **kw):
    return CustomerScore.objects.create(
        customer=customer,
        score=kw.get("score", 42.5),
        grade=kw.get("grade", "high"),
        method="model",
        model_version="gbm-20261201-1",
        scored_at=dt.datetime(2026, 12, 1, 6, 5, tzinfo=dt.UTC),
        reasons=kw.get("reasons", [{"code": "maturity_30d", "text": "理财产品 10 天后到期", "weight": 0.9}]),
    )


def _tab(client, customer):
    return client.get(reverse("customers:tab", args=[customer.pk, "needs"]), HTTP_HX_REQUEST="true")


def test_the_tab_is_registered_by_scoring():
    tab = PORTRAIT_TABS.get("needs")
    assert tab is not None and tab.template == "scoring/portrait_needs.html" and tab.order == 40
    assert str(tab.label) == "需求与倾向"  # Chinese first


def test_the_tab_shows_the_score_and_what_the_data_says(world, client_for, customer):
    _score(customer)
    html = _tab(client_for(world.advisor_a), customer).content.decode()
    assert 'data-testid="needs"' in html and "<html" not in html
    assert "42.5" in html and "理财产品 10 天后到期" in html
    assert "gbm-20261201-1" in html
    assert "2026-12-01 14:05" in html  # scored at, in Asia/Shanghai
    assert "80,000" in html  # the holding maturing within 30 days
    assert "咨询到期或续投" in html  # the AI-bot intent of the last 90 days


def test_a_customer_not_scored_yet_says_so(world, client_for, customer):
    html = _tab(client_for(world.advisor_a), customer).content.decode()
    assert "该客户尚未评分" in html


def test_reasons_are_escaped(world, client_for, customer):
    _score(customer, reasons=[{"code": "x", "text": "<script>alert(1)</script>", "weight": 1.0}])
    html = _tab(client_for(world.advisor_a), customer).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_looking_at_the_tab_leaves_an_access_record(world, client_for, customer):
    _tab(client_for(world.advisor_a), customer)
    record = AccessRecord.objects.get(customer=customer)
    assert record.user == world.advisor_a and record.kind == AccessKind.VIEW and record.details["tab"] == "needs"


def test_outside_the_customer_scope_is_404(world, client_for, customer):
    _score(customer)
    assert _tab(client_for(world.advisor_b), customer).status_code == 404
    assert not AccessRecord.objects.filter(customer=customer).exists()


def test_query_count_is_pinned(world, client_for, customer, django_assert_num_queries):
    _score(customer)
    client = client_for(world.advisor_a)
    _tab(client, customer)  # warm the session
    # session, user, staff profile, customer, the access record, then the tab's own
    # reads: the score, the AI-bot intents, the maturing holdings.
    with django_assert_num_queries(8):
        _tab(client, customer)
