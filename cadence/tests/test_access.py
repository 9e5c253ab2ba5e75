"""Who sees whose cadence: one queryset rule per role (``cadence_customers``), and the
pages answer 403 for a role without them and 404 outside the user's scope."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cadence.access import (
    cadence_customers,
    can_edit_targets,
    can_view_cadence,
    can_view_team_cadence,
)
from customers.models import Customer

pytestmark = pytest.mark.django_db


def _users(world):
    return [
        world.advisor_a, world.advisor_a2, world.lead_a, world.advisor_b, world.manager_x, world.rm_x,
        world.manager_y, world.compliance, world.campaigner, world.admin,
    ]  # fmt: skip


def test_each_role_sees_its_own_rows(world, book):
    def seen(user):
        return set(cadence_customers(user).values_list("pk", flat=True))

    assert seen(world.advisor_a) == {book.a.pk, book.a_private.pk, book.base.pk}
    assert seen(world.lead_a) == {book.a.pk, book.a_private.pk, book.a2.pk, book.base.pk}
    assert seen(world.advisor_b) == {book.b.pk}
    assert seen(world.manager_x) == seen(world.rm_x) == {book.a.pk, book.b.pk, book.base.pk}
    assert seen(world.manager_y) == {book.a_private.pk, book.a2.pk, book.unowned.pk}
    everyone = set(Customer.objects.values_list("pk", flat=True))
    assert seen(world.admin) == seen(world.compliance) == seen(world.campaigner) == everyone


def test_page_predicates(world):
    assert all(can_view_cadence(u) for u in _users(world))
    assert not can_view_team_cadence(world.advisor_a) and can_view_team_cadence(world.lead_a)
    assert [u for u in _users(world) if can_edit_targets(u)] == [world.admin]


@pytest.mark.parametrize(
    ("who", "status"),
    [("advisor_a", 403), ("lead_a", 200), ("manager_x", 200), ("compliance", 200), ("admin", 200)],
)
def test_teams_page_by_role(world, client_for, who, status):
    assert client_for(getattr(world, who)).get(reverse("cadence:teams")).status_code == status


@pytest.mark.parametrize(("who", "status"), [("advisor_a", 403), ("lead_a", 403), ("compliance", 403), ("admin", 200)])
def test_targets_page_by_role(world, client_for, who, status):
    assert client_for(getattr(world, who)).get(reverse("cadence:targets")).status_code == status


@pytest.mark.parametrize(
    ("who", "advisor", "status"),
    [
        ("advisor_a", "advisor_a", 200),
        ("advisor_a", "advisor_a2", 404),  # a colleague's book
        ("lead_a", "advisor_a2", 200),
        ("lead_a", "advisor_b", 404),  # another team
        ("manager_x", "advisor_b", 200),
        ("admin", "advisor_b", 200),
        ("admin", "lead_a", 404),  # not an advisor
    ],
)
def test_advisor_page_by_role(world, book, client_for, who, advisor, status):
    url = reverse("cadence:advisor", args=[getattr(world, advisor).pk])
    assert client_for(getattr(world, who)).get(url).status_code == status


def test_a_branch_sees_only_its_branchs_customers_of_an_advisor(world, book, client_for):
    url = reverse("cadence:advisor", args=[world.advisor_a.pk])
    x = client_for(world.manager_x).get(url).context["page"].object_list
    assert [p.customer.pk for p in x] == [book.a.pk]  # not a_private (branch Y), not base (no cadence)
    y = client_for(world.manager_y).get(url).context["page"].object_list
    assert [p.customer.pk for p in y] == [book.a_private.pk]


def test_a_branch_links_only_the_customers_the_customer_rule_lets_it_open(world, book, client_for):
    url = reverse("cadence:advisor", args=[world.advisor_a.pk])
    portrait = reverse("customers:detail", args=[book.a.pk])
    branch_page = client_for(world.manager_x).get(url).content.decode()
    assert book.a.name_masked in branch_page and f'href="{portrait}"' not in branch_page  # not referred to it
    assert client_for(world.manager_x).get(portrait).status_code == 404
    assert f'href="{portrait}"' in client_for(world.admin).get(url).content.decode()


def test_summaries_stay_in_scope(world, book, client_for):
    rows = client_for(world.advisor_a).get(reverse("cadence:overview")).context["rows"]
    assert [(r.advisor_id, r.customers) for r in rows] == [(world.advisor_a.pk, 2)]
    total = client_for(world.lead_a).get(reverse("cadence:overview")).context["total"]
    assert total.customers == 3
    total = client_for(world.manager_y).get(reverse("cadence:overview")).context["total"]
    assert total.customers == 3


def test_anonymous_users_go_to_log_in(client):
    response = client.get(reverse("cadence:overview"))
    assert response.status_code in (302, 403)
