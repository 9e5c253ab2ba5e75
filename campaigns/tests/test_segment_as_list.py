"""A saved segment opens as the customer list (``?in_segment=<id>``): the whole segment,
every group, a snapshot's stored members; only for the roles that may read segments; and a
segment is never built from another one."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import Segment, SegmentKind
from campaigns.services import segments as seg
from customers.models import Tier
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CUSTOMER_NO = re.compile(r"C-LST-[0-9]+")


@pytest.fixture
def book(world):
    def make(no, tier, aum, owner=None):
        return CustomerFactory(customer_no=f"C-LST-{no:02d}", tier=tier, aum=Decimal(aum), owner=owner)

    return {
        "private": make(1, Tier.PRIVATE, "9000000", world.advisor_a),
        "wealth": make(2, Tier.WEALTH, "800000", world.advisor_b),
        "rich_base": make(3, Tier.BASE, "600000", world.advisor_a),
        "base": make(4, Tier.BASE, "60000", world.advisor_a),
    }


def _listed(client, **params) -> set[str]:
    page = client.get(reverse("customers:list"), params)
    assert page.status_code == 200
    return set(CUSTOMER_NO.findall(page.content.decode()))


def _nos(*customers) -> set[str]:
    return {c.customer_no for c in customers}


def test_a_two_group_segment_opens_as_the_list_of_all_its_members(world, book, client_for):
    segment = seg.segment_save(
        actor=world.campaigner,
        name="高端或大额",
        definition={"groups": [{"tier": Tier.PRIVATE}, {"tier": Tier.BASE, "aum_min": "500000"}]},
    )
    client = client_for(world.campaigner)
    assert _listed(client, in_segment=segment.pk) == _nos(book["private"], book["rich_base"])
    # the list's other conditions still narrow it
    assert _listed(client, in_segment=segment.pk, tier=Tier.BASE) == _nos(book["rich_base"])
    detail = client.get(reverse("campaigns:segment_detail", args=[segment.pk])).content.decode()
    assert f'href="{reverse("customers:list")}?in_segment={segment.pk}"' in detail


def test_a_snapshot_lists_the_members_it_kept(world, book, client_for):
    snapshot = seg.segment_save(
        actor=world.campaigner,
        name="私行快照",
        definition={"groups": [{"tier": Tier.PRIVATE}]},
        kind=SegmentKind.SNAPSHOT,
    )
    CustomerFactory(customer_no="C-LST-09", tier=Tier.PRIVATE, aum=Decimal("7000000"))  # came after the snapshot
    assert _listed(client_for(world.campaigner), in_segment=snapshot.pk) == _nos(book["private"])


def test_only_roles_that_read_segments_are_offered_it_and_it_never_widens_a_book(world, book, client_for):
    segment = seg.segment_save(actor=world.campaigner, name="全部", definition={"groups": [{}]})
    for user in (world.campaigner, world.compliance, world.admin):
        assert "in_segment" in client_for(user).get(reverse("customers:list")).content.decode()
    advisor = client_for(world.advisor_a)
    page = advisor.get(reverse("customers:list")).content.decode()
    assert "in_segment" not in page
    # the parameter means nothing to an advisor: their own book, neither narrowed nor widened
    own = _nos(book["private"], book["rich_base"], book["base"])
    assert _listed(advisor, in_segment=segment.pk) == _listed(advisor) == own


def test_an_unknown_segment_is_refused_in_words(world, book, client_for):
    page = client_for(world.campaigner).get(reverse("customers:list"), {"in_segment": "999999"})
    assert page.status_code == 200
    assert "选择一个有效的选项" in page.content.decode()


def test_a_segment_is_never_built_from_another(world, book, client_for):
    first = seg.segment_save(actor=world.campaigner, name="私行", definition={"groups": [{"tier": Tier.PRIVATE}]})
    second = seg.segment_save(
        actor=world.campaigner,
        name="引用",
        definition={"groups": [{"in_segment": str(first.pk), "tier": Tier.BASE}]},
    )
    assert second.definition == {"groups": [{"tier": Tier.BASE}]}
    builder = client_for(world.campaigner).get(reverse("campaigns:segment_new")).content.decode()
    assert "in_segment" not in builder


def test_the_list_of_a_segment_costs_the_same_queries_whatever_its_size(world, book, client_for):
    segment = seg.segment_save(actor=world.campaigner, name="基础客群", definition={"groups": [{"tier": Tier.BASE}]})
    client = client_for(world.campaigner)
    client.get(reverse("customers:list"), {"in_segment": segment.pk})

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("customers:list"), {"in_segment": segment.pk})
        return len(ctx.captured_queries)

    before = queries()
    for n in range(10, 30):
        CustomerFactory(customer_no=f"C-LST-{n:02d}", tier=Tier.BASE, aum=Decimal("10000"))
    assert queries() == before
    assert Segment.objects.count() == 1
