"""The segment builder's conditions on AUM change, holdings, model scores, AI-bot intents,
earlier campaigns and "all of these tags": the customer list and a segment pick the same
customers, bad values are refused in words and save nothing, query counts stay constant."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from campaigns.models import (
    CampaignStatus,
    Enrolment,
    JourneyEvent,
    JourneyEventKind,
    Message,
    Segment,
)
from campaigns.services import segments as seg
from campaigns.tests.factories import make_campaign
from customers.models import Customer, ProductType
from customers.tests.factories import (
    AssetSnapshotFactory,
    CustomerFactory,
    CustomerTagFactory,
    HoldingFactory,
    InteractionFactory,
    ProductFactory,
    TagFactory,
)
from leads.models import Grade
from scoring.models import CustomerScore

pytestmark = pytest.mark.django_db

CUSTOMER_NO = re.compile(r"C-SEG-[0-9]+")


def _customer(no: int, aum: str, **kw) -> Customer:
    return CustomerFactory(customer_no=f"C-SEG-{no:03d}", aum=Decimal(aum), **kw)


def _snapshot(customer, days_ago: int, aum: str) -> None:
    AssetSnapshotFactory(customer=customer, date=timezone.localdate() - dt.timedelta(days=days_ago), aum=Decimal(aum))


def _score(customer, score: float, grade: str) -> None:
    CustomerScore.objects.create(customer=customer, score=score, grade=grade, method="rules", scored_at=timezone.now())


@pytest.fixture
def people(world):
    """Customers each made to meet (or just miss) one condition."""
    p = {
        "falling": _customer(1, "70000"),  # 100,000 35 days ago: -30 %, -30,000
        "rising": _customer(2, "150000"),  # 100,000 40 days ago: +50 %
        "steady": _customer(3, "100000"),
        "fell_90": _customer(4, "100000"),  # 200,000 100 days ago, 100,000 40 days ago
        "fund_r4": _customer(5, "300000"),
        "wealth_r2": _customer(6, "300000"),
        "mixed": _customer(7, "300000"),  # a wealth product R2 and a fund R5
        "nobody": _customer(8, "50000"),
    }
    _snapshot(p["falling"], 35, "100000")
    _snapshot(p["rising"], 40, "100000")
    _snapshot(p["steady"], 40, "100000")
    _snapshot(p["fell_90"], 100, "200000")
    _snapshot(p["fell_90"], 40, "100000")
    fund_r4 = ProductFactory(type=ProductType.FUND, risk_level=4)
    wealth_r2 = ProductFactory(type=ProductType.WEALTH, risk_level=2)
    fund_r5 = ProductFactory(type=ProductType.FUND, risk_level=5)
    HoldingFactory(customer=p["fund_r4"], product=fund_r4)
    HoldingFactory(customer=p["wealth_r2"], product=wealth_r2)
    HoldingFactory(customer=p["mixed"], product=wealth_r2)
    HoldingFactory(customer=p["mixed"], product=fund_r5)
    _score(p["fund_r4"], 45.0, Grade.HIGH)
    _score(p["wealth_r2"], 20.0, Grade.MID)
    _score(p["steady"], 5.0, Grade.LOW)
    now = timezone.now()
    InteractionFactory(customer=p["rising"], channel="ai_bot", intents=["ask_fund"], occurred_at=now - dt.timedelta(3))
    InteractionFactory(customer=p["steady"], channel="ai_bot", intents=["ask_fund"], occurred_at=now - dt.timedelta(60))
    InteractionFactory(customer=p["falling"], channel="ai_bot", intents=["ask_human"], occurred_at=now)
    t1, t2 = TagFactory(code="seg_t1"), TagFactory(code="seg_t2")
    CustomerTagFactory(customer=p["falling"], tag=t1)
    CustomerTagFactory(customer=p["falling"], tag=t2)
    CustomerTagFactory(customer=p["rising"], tag=t1)
    earlier = make_campaign(world, status=CampaignStatus.ENDED, code="SEG-EARLIER", name="上期到期提醒")
    enrolments = {
        k: Enrolment.objects.create(campaign=earlier, customer=p[k], bucket=1, entered_at=now)
        for k in ("falling", "rising", "steady")
    }
    Message.objects.create(
        campaign=earlier,
        customer=p["rising"],
        enrolment=enrolments["rising"],
        channel="sms",
        body="您好",
        key="seg-test-1",
        send_after=now,
        replied_at=now,
    )
    Message.objects.create(
        campaign=earlier, customer=p["falling"], channel="sms", body="您好", key="seg-test-2", send_after=now
    )
    JourneyEvent.objects.create(
        campaign=earlier, enrolment=enrolments["steady"], kind=JourneyEventKind.CONVERTED, at=now
    )
    p["tags"] = (t1, t2)
    p["campaign"] = earlier
    return p


def _cases(p) -> list[tuple[dict, set[str]]]:
    t1, t2 = (str(t.pk) for t in p["tags"])
    c = str(p["campaign"].pk)
    everyone = {k for k, v in p.items() if isinstance(v, Customer)}
    return [
        ({"aum_change": "fall", "aum_change_days": "30", "aum_change_percent": "20"}, {"falling"}),
        ({"aum_change": "fall", "aum_change_days": "90", "aum_change_percent": "20"}, {"fell_90"}),
        ({"aum_change": "rise", "aum_change_days": "30", "aum_change_amount": "40000"}, {"rising"}),
        ({"aum_change": "rise", "aum_change_days": "30", "aum_change_amount": "60000"}, set()),
        # either the % or the CNY is enough: -30 % passes 25 % though -30,000 misses 50,000
        (
            {"aum_change": "fall", "aum_change_days": "30", "aum_change_percent": "25", "aum_change_amount": "50000"},
            {"falling"},
        ),
        ({"product_type": "fund"}, {"fund_r4", "mixed"}),
        ({"product_risk_min": "4"}, {"fund_r4", "mixed"}),
        ({"product_type": "wealth"}, {"wealth_r2", "mixed"}),
        # type and risk are one holding: the mixed customer's wealth product is R2
        ({"product_type": "wealth", "product_risk_min": "3"}, set()),
        ({"grade": "high"}, {"fund_r4"}),
        ({"score_min": "10", "score_max": "30"}, {"wealth_r2"}),
        ({"score_max": "30"}, {"wealth_r2", "steady"}),
        ({"intent": "ask_fund"}, {"rising"}),  # 30 days when the days are blank
        ({"intent": "ask_fund", "intent_days": "90"}, {"rising", "steady"}),
        ({"intent": "ask_human", "intent_days": "7"}, {"falling"}),
        ({"in_campaign": c}, {"falling", "rising", "steady"}),
        ({"responded_in_campaign": c}, {"rising", "steady"}),
        ({"not_in_campaign": c}, everyone - {"falling", "rising", "steady"}),
        ({"tags_all": [t1, t2]}, {"falling"}),
        ({"tags_all": [t1]}, {"falling", "rising"}),
        ({"tag": t1, "without_tag": t2}, {"rising"}),
    ]


def _names(p, ids) -> set[str]:
    by_id = {v.pk: k for k, v in p.items() if isinstance(v, Customer)}
    return {by_id[i] for i in ids if i in by_id}


def _list_page_names(client, p, params) -> set[str]:
    html = client.get(reverse("customers:list"), params).content.decode()
    by_no = {v.customer_no: k for k, v in p.items() if isinstance(v, Customer)}
    return {by_no[no] for no in CUSTOMER_NO.findall(html) if no in by_no}


def test_the_list_and_a_segment_pick_the_same_customers(world, people, client_for):
    client = client_for(world.campaigner)
    for params, expected in _cases(people):
        assert _list_page_names(client, people, params) == expected, params
        picked = seg.segment_queryset(definition={"groups": [params]})
        assert _names(people, picked.values_list("pk", flat=True)) == expected, params
        saved = seg.segment_save(actor=world.campaigner, name="条件", definition={"groups": [params]})
        assert saved.member_count == len(expected), params
        # the saved definition opens as the same list
        assert seg.clean_group(saved.definition["groups"][0]) == seg.clean_group(params)


def test_the_builder_keeps_a_list_value_through_preview_and_save(world, people, client_for):
    t1, t2 = (str(t.pk) for t in people["tags"])
    client = client_for(world.campaigner)
    query = f"g0-tags_all={t1}&g0-tags_all={t2}&groups=1"
    preview = client.get(reverse("campaigns:segment_preview") + "?" + query).content.decode()
    assert re.search(r'data-testid="live-count">1<', preview)
    page = client.get(reverse("campaigns:segment_new") + "?" + query).content.decode()
    assert page.count(" selected>") >= 2  # both tags chosen in the builder's select
    answer = client.post(
        reverse("campaigns:segment_new"),
        {"name": "两个标签", "kind": "dynamic", "groups": "1", "g0-tags_all": [t1, t2]},
    )
    segment = Segment.objects.get(name="两个标签")
    assert answer.status_code == 302 and segment.member_count == 1
    assert segment.definition == {"groups": [{"tags_all": [t1, t2]}]}
    detail = client.get(reverse("campaigns:segment_detail", args=[segment.pk])).content.decode()
    assert f"tags_all={t1}&amp;tags_all={t2}" in detail  # "open as the customer list"


def _bad_cases(p) -> list[tuple[dict, str]]:
    draft = make_campaign(p["world"], code="SEG-DRAFT")
    tags = [str(TagFactory().pk) for _i in range(6)]
    return [
        ({"aum_change": "fall"}, "Choose over 30 or 90 days."),
        ({"aum_change": "fall", "aum_change_days": "30"}, "Give the change in % or in CNY"),
        ({"aum_change_percent": "10"}, "Choose whether the AUM fell or rose."),
        ({"aum_change": "fall", "aum_change_days": "45", "aum_change_percent": "10"}, "Select a valid choice"),
        ({"aum_change": "fall", "aum_change_days": "30", "aum_change_percent": "-5"}, "greater than or equal to"),
        ({"product_risk_min": "9"}, "Select a valid choice"),
        ({"product_type": "crypto"}, "Select a valid choice"),
        ({"grade": "top"}, "Select a valid choice"),
        ({"score_min": "50", "score_max": "10"}, "The upper score is below the lower one."),
        ({"score_min": "101"}, "less than or equal to 100"),
        ({"intent_days": "7"}, "Choose the intent the AI bot detected."),
        ({"intent": "ask_fund", "intent_days": "0"}, "greater than or equal to 1"),
        ({"intent": "bogus"}, "Select a valid choice"),
        ({"in_campaign": "999999"}, "Select a valid choice"),
        ({"responded_in_campaign": str(draft.pk)}, "Select a valid choice"),  # a draft has no members
        ({"tags_all": tags}, "Choose at most 5 tags."),
        ({"tags_all": "abc"}, "is not a valid value"),
        ({"tags_all": "99999999999999999999999999"}, "is not a valid value"),  # beyond any row id
        ({"aum_change": "fall", "aum_change_days": "30", "aum_change_amount": "9" * 30}, "less than or equal to"),
    ]


def test_bad_values_are_refused_in_words_and_nothing_is_saved(world, people, client_for):
    people["world"] = world
    client = client_for(world.campaigner)
    client.cookies["django_language"] = "en"
    for params, message in _bad_cases(people):
        page = client.get(reverse("customers:list"), params)
        assert page.status_code == 200 and message in page.content.decode(), params
        preview = client.get(reverse("campaigns:segment_preview"), params).content.decode()
        assert message in preview, params
        with translation.override("en"), pytest.raises(ValidationError) as refused:
            seg.segment_save(actor=world.campaigner, name="坏条件", definition={"groups": [params]})
        assert any(message in m for m in refused.value.messages), params
        answer = client.post(reverse("campaigns:segment_new"), {"name": "坏条件", "kind": "dynamic", **params})
        assert answer.status_code == 200 and message in answer.content.decode(), params
    assert not Segment.objects.exists()


def test_the_refusals_are_in_chinese_by_default(world, people):
    cases = [
        ({"aum_change": "fall"}, "请选择 30 天或 90 天"),
        ({"score_min": "50", "score_max": "10"}, "评分上限低于下限"),
        ({"intent_days": "7"}, "请选择 AI 机器人识别出的意图"),
    ]
    for params, message in cases:
        with translation.override("zh-hans"), pytest.raises(ValidationError, match=message):
            seg.segment_save(actor=world.campaigner, name="坏条件", definition={"groups": [params]})


def _every_condition(p) -> dict:
    t1, t2 = (str(t.pk) for t in p["tags"])
    return {
        "aum_change": "fall",
        "aum_change_days": "30",
        "aum_change_percent": "20",
        "aum_change_amount": "10000",
        "product_type": "fund",
        "product_risk_min": "3",
        "grade": "high",
        "score_min": "1",
        "score_max": "99",
        "intent": "ask_fund",
        "intent_days": "30",
        "in_campaign": str(p["campaign"].pk),
        "responded_in_campaign": str(p["campaign"].pk),
        "tags_all": [t1, t2],
    }


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx)


def _meet_every_condition(p, first: int, n: int) -> None:
    for i in range(first, first + n):
        c = _customer(100 + i, "50000")
        _snapshot(c, 40, "100000")
        HoldingFactory(customer=c, product=ProductFactory(type=ProductType.FUND, risk_level=4))
        _score(c, 40.0, Grade.HIGH)
        InteractionFactory(customer=c, channel="ai_bot", intents=["ask_fund"])
        for tag in p["tags"]:
            CustomerTagFactory(customer=c, tag=tag)
        e = Enrolment.objects.create(campaign=p["campaign"], customer=c, bucket=1, entered_at=timezone.now())
        JourneyEvent.objects.create(
            campaign=p["campaign"], enrolment=e, kind=JourneyEventKind.CONVERTED, at=e.entered_at
        )


def test_query_counts_do_not_grow_with_the_data(world, people, client_for):
    client = client_for(world.campaigner)
    params = _every_condition(people)
    preview = {f"g0-{k}": v for k, v in params.items()} | {"groups": "1"}
    _meet_every_condition(people, 0, 1)
    before = (
        _queries(client, reverse("customers:list"), params),
        _queries(client, reverse("campaigns:segment_preview"), preview),
    )
    _meet_every_condition(people, 1, 10)
    after = (
        _queries(client, reverse("customers:list"), params),
        _queries(client, reverse("campaigns:segment_preview"), preview),
    )
    assert before == after
    assert seg.segment_queryset(definition={"groups": [params]}).count() == 11
