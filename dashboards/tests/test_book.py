"""The book's AUM from the dated snapshots and its net new money from the fund flows: the
arithmetic on known data (an empty period too), the tile equal to its list of records,
each role's scope, and query counts that do not grow with the flows.

The week is Monday 2026-11-23 to Sunday 2026-11-29 (the previous one from 11-16), all in
the past: each day's book is the owned customers' latest snapshot on or before it."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from customers.tests.factories import AssetSnapshotFactory, CustomerFactory, FundFlowFactory
from dashboards.models import DailyFact, Metric
from dashboards.selectors import Period, book_aum, net_new_money, operations
from dashboards.services import day_refresh

from .conftest import PREV_START, WEEK_START, at, refresh

pytestmark = pytest.mark.django_db
WEEK = Period(WEEK_START, WEEK_START + dt.timedelta(days=6), "week")
PARAMS = {"period": "week", "end": (WEEK_START + dt.timedelta(days=2)).isoformat()}
D = dt.date


@pytest.fixture
def book(world):
    a, b = world.advisor_a, world.advisor_b
    a1 = CustomerFactory(owner=a, aum=Decimal("160000"))
    a2 = CustomerFactory(owner=a, aum=Decimal("50000"))
    CustomerFactory(owner=a, aum=Decimal("7000"))  # no snapshot yet: 0 on past days
    b1 = CustomerFactory(owner=b, aum=Decimal("180000"))
    nobody = CustomerFactory(owner=None, aum=Decimal("999999"))  # not in anyone's book
    for customer, day, aum in (
        (a1, D(2026, 11, 1), "100000"),
        (a1, D(2026, 11, 20), "120000"),
        (a1, D(2026, 11, 25), "150000"),
        (a2, D(2026, 11, 10), "50000"),
        (b1, D(2026, 11, 15), "200000"),
        (b1, D(2026, 11, 28), "180000"),
        (nobody, D(2026, 11, 15), "999999"),
    ):
        AssetSnapshotFactory(customer=customer, date=day, aum=Decimal(aum), deposits=Decimal(aum), wealth=0)
    for customer, direction, amount, day, channel in (
        (a1, "in", "40000", WEEK_START + dt.timedelta(days=1), "transfer"),
        (a1, "out", "5000", WEEK_START + dt.timedelta(days=3), "cash"),
        (a1, "in", "10000", PREV_START + dt.timedelta(days=2), "salary"),
        (b1, "out", "30000", WEEK_START + dt.timedelta(days=4), "transfer"),
        (nobody, "in", "1000000", WEEK_START + dt.timedelta(days=1), "transfer"),
    ):
        FundFlowFactory(
            customer=customer, direction=direction, amount=Decimal(amount), occurred_at=at(day), channel=channel
        )
    refresh(PREV_START, WEEK.end)
    return SimpleNamespace(world=world, a1=a1, b1=b1)


@pytest.mark.parametrize(
    ("who", "start", "end"),
    [
        ("advisor_a", "170000", "200000"),
        ("lead_a", "170000", "200000"),
        ("advisor_a2", None, None),
        ("advisor_b", "200000", "180000"),
        ("admin", "370000", "380000"),
        ("campaigner", "370000", "380000"),
    ],
)
def test_book_aum_from_the_latest_snapshot_on_or_before_each_day(book, who, start, end):
    figures = book_aum(user=getattr(book.world, who), period=WEEK, filters={})
    assert figures["start"] == (Decimal(start) if start else None)
    assert figures["end"] == (Decimal(end) if end else None)
    if start:
        assert figures["start_day"] == WEEK_START - dt.timedelta(days=1) and figures["end_day"] == WEEK.end
        assert figures["change"] == Decimal(end) - Decimal(start)


def test_book_of_a_day_in_between_and_of_today(book):
    facts = DailyFact.objects.filter(metric=Metric.BOOK_AUM, day=D(2026, 11, 24))
    assert {f.advisor_id: f.amount for f in facts} == {
        book.world.advisor_a.pk: Decimal("170000"),
        book.world.advisor_b.pk: Decimal("200000"),
    }
    assert {f.advisor_id: f.count for f in facts}[book.world.advisor_a.pk] == 3  # owned customers
    day_refresh(day=timezone.localdate())
    today = DailyFact.objects.filter(metric=Metric.BOOK_AUM, day=timezone.localdate())
    assert {f.advisor_id: f.amount for f in today}[book.world.advisor_a.pk] == Decimal("217000")  # current AUM


def test_a_past_period_is_counted_again_from_the_snapshots(book):
    """History counted after the fact (the management command) gives the same figures as
    the days counted as they passed: nothing depends on when the task ran."""
    before = book_aum(user=book.world.admin, period=WEEK, filters={})
    DailyFact.objects.all().delete()
    days = (timezone.localdate() - PREV_START).days + 1
    call_command("dashboards_refresh", days=days, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert book_aum(user=book.world.admin, period=WEEK, filters={}) == before


@pytest.mark.parametrize(
    ("who", "inflow", "outflow", "count", "previous", "change"),
    [
        ("advisor_a", "40000", "5000", 2, "10000", 2.5),
        ("lead_a", "40000", "5000", 2, "10000", 2.5),
        ("advisor_a2", "0", "0", 0, "0", None),
        ("advisor_b", "0", "30000", 1, "0", None),
        ("admin", "40000", "35000", 3, "10000", -0.5),
    ],
)
def test_net_new_money_is_inflows_minus_outflows_of_the_book(book, who, inflow, outflow, count, previous, change):
    f = net_new_money(user=getattr(book.world, who), period=WEEK, filters={})
    assert (f["inflow"], f["outflow"], f["count"]) == (Decimal(inflow), Decimal(outflow), count)
    assert f["net"] == Decimal(inflow) - Decimal(outflow) and f["previous"] == Decimal(previous)
    assert f["change"] == change


def test_an_empty_period_has_no_book_and_no_flows(book, client_for):
    empty = Period(D(2025, 1, 1), D(2025, 1, 31), "month")
    assert book_aum(user=book.world.admin, period=empty, filters={})["end"] is None
    f = net_new_money(user=book.world.admin, period=empty, filters={})
    assert (f["net"], f["count"], f["change"]) == (Decimal("0"), 0, None)
    html = client_for(book.world.admin).get(reverse("dashboards:operations"), {"period": "month", "end": "2025-01-15"})
    assert html.status_code == 200 and 'data-testid="card-net-new-money"' in html.content.decode()


def test_another_teams_filter_narrows_to_nothing(book):
    f = net_new_money(user=book.world.lead_a, period=WEEK, filters={"team": book.world.team_b.pk})
    assert (
        f["count"] == 0
        and book_aum(user=book.world.lead_a, period=WEEK, filters={"advisor": book.world.advisor_b.pk})["end"] is None
    )


@pytest.mark.parametrize("who", ["advisor_a", "lead_a", "advisor_b", "admin"])
def test_the_tile_equals_its_list_of_records(book, client_for, who):
    client = client_for(getattr(book.world, who))
    page = client.get(reverse("dashboards:operations"), PARAMS)
    tile = page.context["flows"]
    href = re.search(r'<a href="([^"]+)" data-testid="card-net-new-money">', page.content.decode()).group(1)
    records = client.get(href.replace("&amp;", "&"))
    assert records.context["total"] == tile["count"]
    assert records.context["flows"] == {k: tile[k] for k in ("inflow", "outflow", "net")}
    assert len(records.context["rows"]) == tile["count"]
    assert sum(r["amount"] for r in records.context["rows"]) == tile["net"]
    html = records.content.decode()
    assert 'data-testid="records-net"' in html and book.a1.name not in html  # names masked


def test_no_link_where_the_records_are_not_the_viewers(book, client_for):
    """A campaign manager sees the figure of the whole book, not the customers' flows."""
    page = client_for(book.world.campaigner).get(reverse("dashboards:operations"), PARAMS)
    html = page.content.decode()
    assert '<span data-testid="card-net-new-money">' in html and page.context["flows"]["url"] == ""
    r = client_for(book.world.campaigner).get(reverse("dashboards:records"), {**PARAMS, "metric": "net_new_money"})
    assert 'data-testid="records-count"' not in r.content.decode()


def test_records_of_another_advisor_are_not_listed(book, client_for):
    r = client_for(book.world.advisor_a).get(
        reverse("dashboards:records"), {**PARAMS, "metric": "net_new_money", "advisor": book.world.advisor_b.pk}
    )
    assert r.context["total"] == 0


def test_the_tile_is_on_the_page_with_its_definition(book, client_for):
    html = client_for(book.world.admin).get(reverse("dashboards:operations"), PARAMS).content.decode()
    assert "净新增资金" in html and "期内所管客户的外部资金流入减流出" in html
    assert "5,000" in html or "0.50万" in html


def _count(client, url, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params).status_code == 200
    return len(ctx.captured_queries)


def test_records_page_query_count_does_not_grow_with_the_flows(book, client_for):
    client = client_for(book.world.admin)
    url = reverse("dashboards:records")
    params = {**PARAMS, "metric": "net_new_money"}
    client.get(url, params)
    few = _count(client, url, params)
    for n in range(20):
        FundFlowFactory(customer=CustomerFactory(owner=book.world.advisor_b), occurred_at=at(WEEK_START, 9 + n % 9))
    assert _count(client, url, params) == few


@pytest.mark.parametrize(("who", "market"), [("advisor_a", "-5000"), ("advisor_b", "10000"), ("admin", "5000")])
def test_the_aum_change_is_net_new_money_plus_market_and_other(book, who, market):
    data = operations(user=getattr(book.world, who), period=WEEK, filters={})
    assert data["book"]["market"] == Decimal(market)
    assert data["book"]["change"] == data["flows"]["net"] + data["book"]["market"]


def test_no_split_when_the_day_before_the_period_was_not_counted(book):
    DailyFact.objects.filter(day=WEEK_START - dt.timedelta(days=1)).delete()
    assert operations(user=book.world.admin, period=WEEK, filters={})["book"]["market"] is None


def test_the_flows_export_has_the_signed_amounts_and_is_audited(book, client_for):
    response = client_for(book.world.advisor_a).get(
        reverse("dashboards:records"), {**PARAMS, "metric": "net_new_money", "export": "csv"}
    )
    lines = b"".join(response.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + 2 and lines[1].endswith(",-5000.00") and lines[2].endswith(",40000.00")
    assert AuditEvent.objects.get(verb="dashboard.export").details["rows"] == 2
