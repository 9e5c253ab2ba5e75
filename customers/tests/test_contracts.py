"""The contracts other features code against: suitability, the access helper, interaction_record."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone, translation

from core.models import AuditEvent
from customers import models as m
from customers.selectors import customer_get_for_user
from customers.services import interactions
from customers.services.interactions import interaction_record
from customers.suitability import product_suitability, suitable_products

from .factories import CustomerFactory, HoldingFactory, ProductFactory, RiskAssessmentFactory

TODAY = dt.date(2026, 11, 23)
NOW = timezone.make_aware(dt.datetime(2026, 11, 23, 10, 0))


def _customer(**kw):
    defaults = {"aum": Decimal("300000"), "birth_date": dt.date(1980, 1, 1), "risk_level": 3}
    c = CustomerFactory(**{**defaults, **kw})
    return c


@pytest.fixture
def assessed(db):
    c = _customer()
    RiskAssessmentFactory(customer=c, level=3, assessed_at=NOW - dt.timedelta(days=30))
    HoldingFactory(customer=c, product=ProductFactory(type=m.ProductType.WEALTH, risk_level=1))
    return c


class TestSuitability:
    def test_allowed_within_tolerance(self, assessed):
        v = product_suitability(customer=assessed, product=ProductFactory(risk_level=3), today=TODAY)
        assert v.allowed and v.reasons == [] and not v.needs_second_review

    def test_risk_above_tolerance(self, assessed):
        v = product_suitability(customer=assessed, product=ProductFactory(risk_level=4), today=TODAY)
        assert not v.allowed
        assert any("R4" in r and "C3" in r for r in v.reasons)

    def test_expired_assessment(self, db):
        c = _customer()
        RiskAssessmentFactory(customer=c, level=5, assessed_at=NOW - dt.timedelta(days=400))
        v = product_suitability(customer=c, product=ProductFactory(risk_level=1), today=TODAY)
        assert not v.allowed
        assert len(v.reasons) == 1

    def test_no_assessment(self, db):
        c = _customer(risk_level=None, risk_assessed_at=None)
        v = product_suitability(customer=c, product=ProductFactory(risk_level=1), today=TODAY)
        assert not v.allowed

    def test_first_purchase_needs_self_completed_assessment(self, db):
        c = _customer()
        RiskAssessmentFactory(customer=c, level=3, assessed_at=NOW, completed_by_customer=False)
        product = ProductFactory(risk_level=2)
        assert not product_suitability(customer=c, product=product, today=TODAY).allowed
        HoldingFactory(customer=c, product=ProductFactory(type=m.ProductType.FUND, risk_level=1))
        assert product_suitability(customer=c, product=product, today=TODAY).allowed

    def test_min_amount(self, assessed):
        product = ProductFactory(risk_level=2, min_amount=Decimal("50000"))
        with translation.override("zh-hans"):
            refused = product_suitability(customer=assessed, product=product, amount=Decimal("10000"), today=TODAY)
        assert not refused.allowed
        # The amounts read as in the tables (the cny filter), not "50,000.00 元".
        assert "金额 ¥10,000.00 低于起购金额 ¥50,000.00。" in refused.reasons
        assert product_suitability(customer=assessed, product=product, amount=Decimal("50000"), today=TODAY).allowed
        big = ProductFactory(risk_level=2, min_amount=Decimal("1000000"))
        assert not product_suitability(customer=assessed, product=big, today=TODAY).allowed

    def test_shelf_and_sale_window(self, assessed):
        off = ProductFactory(risk_level=1, on_shelf=False)
        early = ProductFactory(risk_level=1, sale_start=TODAY + dt.timedelta(days=1))
        late = ProductFactory(risk_level=1, sale_end=TODAY - dt.timedelta(days=1))
        inside = ProductFactory(risk_level=1, sale_start=TODAY, sale_end=TODAY)
        for p in (off, early, late):
            assert not product_suitability(customer=assessed, product=p, today=TODAY).allowed
        assert product_suitability(customer=assessed, product=inside, today=TODAY).allowed

    def test_private_product_needs_qualified_investor(self, db):
        poor = _customer(aum=Decimal("2000000"), risk_level=5)
        rich = _customer(aum=Decimal("8000000"), risk_level=5)
        for c in (poor, rich):
            RiskAssessmentFactory(customer=c, level=5, assessed_at=NOW)
        p = ProductFactory(risk_level=3, is_private=True, min_amount=Decimal("1000000"))
        assert not product_suitability(customer=poor, product=p, today=TODAY).allowed
        v = product_suitability(customer=rich, product=p, today=TODAY)
        assert v.allowed and v.reasons  # the cooling-off note

    def test_elderly_high_risk_needs_second_review(self, db):
        c = _customer(birth_date=dt.date(1955, 1, 1), risk_level=5)
        RiskAssessmentFactory(customer=c, level=5, assessed_at=NOW)
        v = product_suitability(customer=c, product=ProductFactory(risk_level=4), today=TODAY)
        assert v.allowed and v.needs_second_review and v.reasons
        v3 = product_suitability(customer=c, product=ProductFactory(risk_level=3), today=TODAY)
        assert not v3.needs_second_review

    def test_suitable_products_orders_allowed_first(self, assessed, django_assert_max_num_queries):
        ProductFactory(risk_level=5)
        ProductFactory(risk_level=1)
        ProductFactory(risk_level=2, on_shelf=False)
        with django_assert_max_num_queries(3):
            result = suitable_products(customer=assessed, today=TODAY)
        assert all(p.on_shelf for p, _ in result)
        allowed = [v.allowed for _, v in result]
        assert allowed == sorted(allowed, reverse=True)
        assert any(not v.allowed and v.reasons for _, v in result)


class TestAccessHelper:
    def test_owner_sees_other_team_gets_404(self, world):
        c = CustomerFactory(owner=world.advisor_a)
        assert customer_get_for_user(user=world.advisor_a, pk=c.pk) == c
        assert customer_get_for_user(user=world.lead_a, pk=c.pk) == c
        assert customer_get_for_user(user=world.compliance, pk=c.pk) == c
        for user in (world.advisor_b, world.manager_x):
            with pytest.raises(Http404):
                customer_get_for_user(user=user, pk=c.pk)
        with pytest.raises(Http404):
            customer_get_for_user(user=world.admin, pk="nope")


@pytest.fixture
def fake_hooks(monkeypatch):
    """Record the work interaction_record asks of the apps above (by task name, ids only)."""
    calls = {"rescore": [], "scan": []}
    names = {"scoring.rescore_customer": "rescore", "compliance.scan_interaction": "scan"}

    def enqueue(name, *args, **kwargs):
        calls[names[name]].append(args[0])

    monkeypatch.setattr(interactions, "enqueue", enqueue)
    return calls


class TestInteractionRecord:
    def test_ai_session_idempotent_rescored_and_scanned(self, world, fake_hooks, django_capture_on_commit_callbacks):
        c = CustomerFactory(owner=world.advisor_a, last_contact_at=None)
        turns = [{"speaker": "bot", "text": "您好"}, {"speaker": "customer", "text": "理财到期了怎么办"}]
        with django_capture_on_commit_callbacks(execute=True):
            i1, created = interaction_record(
                actor=None,
                customer=c,
                channel=m.Channel.AI_BOT,
                direction="in",
                occurred_at=NOW,
                transcript=turns,
                intents=["ask_maturity"],
                external_id="S-1",
            )
        assert created
        with django_capture_on_commit_callbacks(execute=True):
            i2, created2 = interaction_record(
                actor=None, customer=c, channel=m.Channel.AI_BOT, occurred_at=NOW, transcript=turns, external_id="S-1"
            )
        assert i2.pk == i1.pk and not created2
        assert m.Interaction.objects.filter(external_id="S-1").count() == 1
        assert fake_hooks["rescore"] == [c.pk]
        assert fake_hooks["scan"] == [i1.pk]  # the scan loads the transcript by id
        c.refresh_from_db()
        assert c.last_contact_at == NOW
        assert AuditEvent.objects.filter(verb="interaction.record", target_id=str(i1.pk)).count() == 1

    def test_phone_call_scanned_not_rescored(self, world, fake_hooks, django_capture_on_commit_callbacks):
        c = CustomerFactory(owner=world.advisor_a, last_contact_at=NOW)
        with django_capture_on_commit_callbacks(execute=True):
            i, _ = interaction_record(
                actor=world.advisor_a,
                customer=c,
                channel=m.Channel.PHONE,
                occurred_at=NOW - dt.timedelta(days=2),
                summary="介绍了稳健理财",
            )
        assert fake_hooks["rescore"] == []
        assert fake_hooks["scan"] == [i.pk]
        c.refresh_from_db()
        assert c.last_contact_at == NOW  # an older touch does not move it back
        assert i.actor == world.advisor_a

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"channel": "fax"},
            {"direction": "sideways"},
            {"occurred_at": dt.datetime(2026, 1, 1, 9, 0)},  # noqa: DTZ001 - naive on purpose
            {"transcript": "not a list"},
            {"transcript": [{"speaker": "alien", "text": "hi"}]},
            {"transcript": [{"speaker": "bot"}]},
        ],
    )
    def test_bad_input_changes_nothing(self, db, kwargs):
        c = CustomerFactory()
        base = {"actor": None, "customer": c, "channel": m.Channel.PHONE, "occurred_at": NOW}
        with pytest.raises(ValidationError):
            interaction_record(**{**base, **kwargs})
        assert not m.Interaction.objects.exists()
