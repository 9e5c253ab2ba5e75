"""The contracts other features code against: features_for_customer, outcome_record,
rescore_customer: what the apps above call."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from core.models import AuditEvent
from customers.tests.factories import (
    AssetSnapshotFactory,
    CustomerFactory,
    HoldingFactory,
    InteractionFactory,
)
from leads.models import Lead
from scoring.feature_spec import FEATURE_NAMES
from scoring.features import conversation_signals, features_for_customer
from scoring.models import CustomerScore, Outcome
from scoring.services.outcomes import outcome_record
from scoring.services.scores import asset_change_rescore
from scoring.tasks import rescore_customer

pytestmark = pytest.mark.django_db


def _days_ago(n: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=n)


def test_features_have_the_contract_keys():
    c = CustomerFactory()
    f = features_for_customer(customer_id=c.pk, as_of=timezone.now())
    assert set(FEATURE_NAMES) <= set(f)
    assert f["gender"] == "F"
    assert f["previous_outcome"] == "none"
    assert 50 < f["age"] < 53


def test_features_are_point_in_time():
    c = CustomerFactory(aum=Decimal("300000"))
    today = timezone.localdate()
    AssetSnapshotFactory(customer=c, date=today - dt.timedelta(days=90), aum=Decimal("200000"))
    AssetSnapshotFactory(customer=c, date=today - dt.timedelta(days=60), aum=Decimal("240000"))
    AssetSnapshotFactory(customer=c, date=today - dt.timedelta(days=30), aum=Decimal("250000"))
    AssetSnapshotFactory(customer=c, date=today, aum=Decimal("300000"))
    HoldingFactory(customer=c, maturity_date=today + dt.timedelta(days=12), amount=Decimal("80000"))
    # an outcome and an AI session *after* the first as-of moment
    Outcome.objects.create(customer=c, contacted_at=_days_ago(10), channel="phone", converted=True, features={})
    InteractionFactory(
        customer=c,
        channel="ai_bot",
        direction="in",
        occurred_at=_days_ago(5),
        transcript=[{"speaker": "bot", "text": "您好"}, {"speaker": "customer", "text": "我快退休了，想看看养老理财"}],
    )
    earlier = features_for_customer(customer_id=c.pk, as_of=_days_ago(40))
    assert earlier["previous_outcome"] == "none"  # the later outcome does not leak
    assert earlier["ai_intent_pension"] == 0.0
    assert earlier["aum"] == 240000.0
    now = features_for_customer(customer_id=c.pk, as_of=timezone.now())
    assert now["previous_outcome"] == "converted"
    assert now["ai_intent_pension"] == 1.0 and now["ai_rounds"] == 1
    assert now["aum"] == 300000.0
    assert now["aum_change_30d"] == pytest.approx(0.2)
    assert now["aum_change_90d"] == pytest.approx(0.5)
    assert now["days_to_next_maturity"] == 12
    assert now["maturing_30d_amount"] == 80000.0


def test_conversation_signals_on_chinese_text():
    s = conversation_signals(
        [
            {"speaker": "bot", "text": "为您推荐理财产品"},
            {"speaker": "customer", "text": "我有一笔理财快到期了，能不能让理财经理直接给我打个电话"},
        ]
    )
    assert s["rounds"] == 1
    assert s["intents"] == ["ai_asked_human", "ai_intent_maturity", "ai_intent_wealth"]
    assert s["keywords"]


def test_outcome_record_snapshots_and_is_idempotent():
    c = CustomerFactory()
    when = _days_ago(1)
    o1 = outcome_record(customer=c, contacted_at=when, channel="phone", converted=True, external_key="call-1")
    o2 = outcome_record(customer=c, contacted_at=when, channel="phone", converted=True, external_key="call-1")
    assert o1.pk == o2.pk
    assert Outcome.objects.filter(external_key="call-1").count() == 1
    assert set(FEATURE_NAMES) <= set(o1.features)
    assert AuditEvent.objects.filter(verb="scoring.outcome_record", target_id=str(o1.pk)).count() == 1


def test_rescore_customer_is_idempotent_and_creates_one_lead(world):
    c = CustomerFactory(owner=world.advisor_a, aum=Decimal("900000"))
    HoldingFactory(customer=c, maturity_date=timezone.localdate() + dt.timedelta(days=8))
    InteractionFactory(
        customer=c,
        channel="ai_bot",
        direction="in",
        occurred_at=_days_ago(2),
        intents=["ask_human", "ask_wealth_product"],
        transcript=[{"speaker": "customer", "text": "我想找人工客服详细聊聊"}],
    )
    first = rescore_customer.delay(c.pk).get()
    second = rescore_customer.delay(c.pk).get()
    score = CustomerScore.objects.get(customer=c)
    assert first["score"] == second["score"] == score.score
    assert score.method == "rules" and score.grade == "high"
    assert Lead.objects.filter(customer=c).count() == 1
    lead = Lead.objects.get(customer=c)
    assert lead.team_id == world.team_a.pk and lead.owner_id == world.advisor_a.pk
    assert lead.proposed_grade == "high" and lead.reasons
    assert any("天后到期" in r["text"] for r in score.reasons)


def test_large_asset_change_queues_a_rescore(django_capture_on_commit_callbacks):
    c = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert not asset_change_rescore(customer_id=c.pk, before=Decimal("100000"), after=Decimal("105000"))
        assert asset_change_rescore(customer_id=c.pk, before=Decimal("100000"), after=Decimal("80000"))
    assert len(callbacks) == 1
    assert CustomerScore.objects.filter(customer=c).exists()


def test_outcome_record_rescores_the_customer_after_commit(django_capture_on_commit_callbacks):
    c = CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        outcome_record(customer=c, contacted_at=_days_ago(0), channel="phone", converted=False, external_key="k2")
    assert CustomerScore.objects.get(customer=c).method == "rules"
