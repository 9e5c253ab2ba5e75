"""Segments mean what the customer list means: same filter, OR of groups, exact counts,
frozen snapshots, uploaded lists with unknown numbers reported per line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import QueryDict
from django.utils import timezone

from campaigns.models import SegmentKind, SegmentMember
from campaigns.services import segments as seg
from core.models import AuditEvent
from customers.filters import CustomerFilter
from customers.models import Customer, Tier
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory, HoldingFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(world):
    rows = []
    for i in range(12):
        rows.append(
            CustomerFactory(
                owner=world.advisor_a if i % 2 else world.advisor_b,
                tier=Tier.BASE if i % 3 else Tier.WEALTH,
                aum=Decimal(60_000 + i * 50_000),
                risk_level=1 + i % 5,
                birth_date=dt.date(1950 + i * 4, 1, 1),
            )
        )
    return rows


def _list_ids(params: dict) -> set[int]:
    data = QueryDict(mutable=True)
    data.update(params)
    return set(CustomerFilter(data, queryset=Customer.objects.all()).qs.values_list("pk", flat=True))


GROUPS = [
    {"tier": "base", "aum_min": "200000"},
    {"risk_level": "5"},
    {"age_min": "60", "team": None},
]


def test_one_group_is_the_customer_list(world, book):
    for params in ({"tier": "base", "aum_min": "200000"}, {"risk_level": "3"}, {"age_min": "50", "age_max": "70"}):
        picked = seg.segment_queryset(definition={"groups": [params]})
        assert set(picked.values_list("pk", flat=True)) == _list_ids(params)


def test_groups_are_joined_by_or(world, book):
    a, b = {"tier": "wealth"}, {"owner": str(world.advisor_a.pk), "risk_level": "2"}
    picked = set(seg.segment_queryset(definition={"groups": [a, b]}).values_list("pk", flat=True))
    assert picked == _list_ids(a) | _list_ids(b)
    assert _list_ids(a) and _list_ids(b) - _list_ids(a)


def test_team_and_without_tag(world, book):
    params = {"team": str(world.team_a.pk)}
    assert _list_ids(params) == {c.pk for c in book if c.owner == world.advisor_a}


def test_bad_conditions_are_refused_with_the_group_named(world, book):
    with pytest.raises(ValidationError, match="2"):
        seg.segment_queryset(definition={"groups": [{"tier": "base"}, {"aum_min": "lots"}]})


def test_save_counts_exactly_and_snapshot_freezes(world, book):
    definition = {"groups": [{"tier": "base"}, {"risk_level": "5"}]}
    expected = seg.segment_queryset(definition=definition).count()
    dynamic = seg.segment_save(actor=world.campaigner, name="基础客群", definition=definition)
    assert dynamic.member_count == expected and dynamic.kind == SegmentKind.DYNAMIC
    frozen = seg.segment_save(actor=world.campaigner, name="快照", definition=definition, kind=SegmentKind.SNAPSHOT)
    assert SegmentMember.objects.filter(segment=frozen).count() == expected
    # a new customer joins the dynamic segment, not the snapshot
    CustomerFactory(tier=Tier.BASE)
    assert seg.segment_members(segment=dynamic).count() == expected + 1
    assert seg.segment_members(segment=frozen).count() == expected
    assert AuditEvent.objects.filter(verb__in=["segment.save", "segment.freeze"]).count() == 2
    # unknown parameters never reach the definition
    other = seg.segment_save(actor=world.campaigner, name="x", definition={"groups": [{"tier": "base", "page": "3"}]})
    assert other.definition == {"groups": [{"tier": "base"}]}
    with pytest.raises(PermissionDenied):
        seg.segment_save(actor=world.lead_a, name="组长", definition=definition)
    with pytest.raises(ValidationError):
        seg.segment_save(actor=world.campaigner, name=" ", definition=definition)


def test_sample_is_masked_and_capped(world, book):
    sample = seg.segment_sample(Customer.objects.all(), size=5)
    assert len(sample) == 5
    assert all("*" in row["name"] and "*" in row["mobile"] for row in sample)


def test_upload_reports_unknown_numbers_per_line_and_saves_nothing(world, book):
    raw = f"{book[0].customer_no}\nC-NOT-THERE\n\n{book[1].customer_no},张三\n{book[0].customer_no}\n客户号\n".encode()
    segment, report = seg.segment_upload(actor=world.campaigner, name="名单", raw=raw)
    assert segment is None
    assert [(p["line"], p["kind"]) for p in report["problems"]] == [(2, "unknown"), (5, "repeat"), (6, "invalid")]
    assert not SegmentMember.objects.exists()
    segment, _report = seg.segment_upload(actor=world.campaigner, name="名单", raw=raw, skip_unknown=True)
    assert segment.kind == SegmentKind.UPLOADED and segment.member_count == 2
    assert set(seg.segment_members(segment=segment)) == {book[0], book[1]}


def test_upload_reads_gbk_and_refuses_empty_files(world, book):
    segment, _report = seg.segment_upload(
        actor=world.campaigner, name="GBK名单", raw=f"客户号\n{book[2].customer_no}\n".encode("gbk"), skip_unknown=True
    )
    assert segment.member_count == 1
    with pytest.raises(ValidationError):
        seg.segment_upload(actor=world.campaigner, name="空", raw=b"\n \n")


def test_maturity_and_consent_conditions(world, book):
    today = timezone.localdate()
    soon, later = book[0], book[1]
    HoldingFactory(customer=soon, maturity_date=today + dt.timedelta(days=10))
    HoldingFactory(customer=later, maturity_date=today + dt.timedelta(days=60))
    HoldingFactory(customer=book[2], maturity_date=today - dt.timedelta(days=1))  # matured already
    assert _list_ids({"maturity_within_days": "30"}) == {soon.pk}
    assert _list_ids({"maturity_within_days": "90"}) == {soon.pk, later.pk}
    ContactPreferenceFactory(customer=soon, channel="sms", consent=True)
    ContactPreferenceFactory(
        customer=later, channel="sms", consent=True, dnd_until=timezone.now() + dt.timedelta(days=5)
    )
    ContactPreferenceFactory(customer=book[3], channel="sms", consent=False)
    assert _list_ids({"consent": "sms"}) == {soon.pk}
    picked = seg.segment_queryset(definition={"groups": [{"maturity_within_days": "90", "consent": "sms"}]})
    assert list(picked) == [soon]
