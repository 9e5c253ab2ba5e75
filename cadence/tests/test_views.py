"""The cadence pages: figures on known data, query counts that stay constant as the book
grows, bad input answered in words, and the portrait bar."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import TouchKind

from .factories import TouchFactory, WealthCustomerFactory

pytestmark = pytest.mark.django_db


def _touches(customer, *, themed=0, reviews=0):
    start = timezone.now() - dt.timedelta(days=1)
    for i in range(themed):
        TouchFactory(customer=customer, occurred_at=start - dt.timedelta(minutes=i))
    for i in range(reviews):
        TouchFactory(
            customer=customer, touch_kind=TouchKind.REVIEW, occurred_at=start - dt.timedelta(hours=1, minutes=i)
        )


def test_advisor_page_shows_each_customer_with_the_next_touch(world, book, client_for):
    _touches(book.a, themed=12, reviews=4)
    response = client_for(world.advisor_a).get(reverse("cadence:advisor", args=[world.advisor_a.pk]))
    assert response.status_code == 200
    rows = response.context["page"].object_list
    by_pk = {p.customer.pk: p for p in rows}
    assert by_pk[book.a.pk].touches["themed"].done == 16  # reviews are themed interactions too
    assert by_pk[book.a.pk].touches["review"].done == 4
    html = response.content.decode()
    assert "张**" in html and "张三丰" not in html  # masked
    assert 'data-testid="cadence-customer"' in html


def test_status_filter_and_counts(world, book, client_for):
    today = timezone.localdate()
    if today.timetuple().tm_yday < 31:
        pytest.skip("nothing is due before 31 January")
    url = reverse("cadence:advisor", args=[world.advisor_a.pk])
    client = client_for(world.advisor_a)
    assert client.get(url, {"status": "behind"}).context["count"] == 2
    assert client.get(url, {"status": "on_pace"}).context["count"] == 0


@pytest.mark.parametrize("params", [{"status": "x\x01"}, {"status": "nonsense"}, {"page": "-1"}, {"page": "9" * 30}])
def test_bad_input_gets_words_not_errors(world, book, client_for, params):
    client = client_for(world.advisor_a)
    response = client.get(reverse("cadence:advisor", args=[world.advisor_a.pk]), params)
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("team", ["abc", "-1", "99999999999999999999", "²"])
def test_unknown_team_filter_says_so(world, book, client_for, team):
    response = client_for(world.admin).get(reverse("cadence:overview"), {"team": team})
    assert response.status_code == 200
    assert response.context["team_id"] is None
    with translation.override("zh-hans"):
        assert "没有这个团队" in response.content.decode()


def test_team_filter(world, book, client_for):
    response = client_for(world.admin).get(reverse("cadence:overview"), {"team": world.team_b.pk})
    assert response.context["total"].customers == 1


def test_teams_page_groups_by_the_owners_team(world, book, client_for):
    rows = client_for(world.admin).get(reverse("cadence:teams")).context["rows"]
    by_team = {r.key: r.customers for r in rows}
    assert by_team == {world.team_a.pk: 3, world.team_b.pk: 1, None: 1}


def test_every_advisor_link_of_the_overview_opens(world, book, client_for):
    """A customer owned by a team lead has a row, but the advisor page is for advisors:
    no link that would answer 404."""
    WealthCustomerFactory(owner=world.lead_a, home_branch=world.branch_x)
    client = client_for(world.admin)
    rows = client.get(reverse("cadence:overview")).context["rows"]
    linked = [row.advisor_id for row in rows if row.advisor_id]
    assert world.advisor_a.pk in linked
    assert [row for row in rows if row.key == ("advisor", world.lead_a.pk)]
    for advisor_id in linked:
        assert client.get(reverse("cadence:advisor", args=[advisor_id])).status_code == 200


def test_unowned_customers_are_grouped_by_branch(world, book, client_for):
    rows = client_for(world.admin).get(reverse("cadence:overview")).context["rows"]
    branch_rows = [r for r in rows if r.advisor_id is None]
    assert len(branch_rows) == 1 and world.branch_y.name in str(branch_rows[0].label)


def _grow(world):
    for _ in range(5):
        c = WealthCustomerFactory(owner=world.advisor_a, home_branch=world.branch_x)
        _touches(c, themed=2, reviews=1)
    for _ in range(3):
        WealthCustomerFactory(owner=world.advisor_b, home_branch=world.branch_y)
    WealthCustomerFactory(owner=None, home_branch=world.branch_x)


@pytest.mark.parametrize(
    ("url_name", "who", "args"),
    [
        ("cadence:overview", "admin", []),
        ("cadence:overview", "lead_a", []),
        ("cadence:teams", "admin", []),
        ("cadence:advisor", "advisor_a", ["advisor_a"]),
        ("cadence:targets", "admin", []),
    ],
)
def test_query_counts_stay_constant_as_the_book_grows(
    world, book, client_for, django_assert_num_queries, url_name, who, args
):
    client = client_for(getattr(world, who))
    url = reverse(url_name, args=[getattr(world, a).pk for a in args])
    client.get(url)  # session and caches warm

    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _grow(world)
    with django_assert_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200
    assert len(small.captured_queries) <= QUERY_CEILING[url_name]


# What each page costs (session, user and profile, navigation, the page's own reads,
# one of them the wealth reports delivered this year: the "1"; the advisor page also asks
# which customers on it the viewer may open).
QUERY_CEILING = {
    "cadence:overview": 11,
    "cadence:teams": 9,
    "cadence:advisor": 10,
    "cadence:targets": 5,
}


def test_portrait_shows_the_cadence_bar(world, book, client_for):
    _touches(book.a, themed=3, reviews=1)
    html = client_for(world.advisor_a).get(reverse("customers:detail", args=[book.a.pk])).content.decode()
    assert 'data-testid="cadence-bar"' in html
    assert html.count('data-testid="cadence-touch"') == 4
    assert "4/12" in html and "1/4" in html


def test_portrait_of_a_customer_without_cadence_shows_a_dash(world, book, client_for):
    html = client_for(world.advisor_a).get(reverse("customers:detail", args=[book.base.pk])).content.decode()
    assert 'data-testid="cadence-bar"' not in html


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_pages_in_both_languages(world, book, client_for, lang):
    client = client_for(world.admin)
    client.cookies["django_language"] = lang
    for url in (reverse("cadence:overview"), reverse("cadence:teams"), reverse("cadence:targets")):
        html = client.get(url, HTTP_ACCEPT_LANGUAGE=lang).content.decode()
        if lang == "zh-hans":
            assert "服务节奏" in html
        else:
            assert "Service cadence" in html
