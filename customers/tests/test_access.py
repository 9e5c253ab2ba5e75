"""One rule per model and action: ``restrict`` and the ``customers.access`` predicates
agree row for row for every role; the expected sets per role; the PostgreSQL list plan
equals the plain rule."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from core.testing import assert_rule_agrees
from customers import access
from customers.models import AccessKind, AccessRecord, Customer, ImportBatch
from customers.selectors import customer_get_for_user
from customers.services.access import customer_access_open_lead, customer_access_referral
from org.roles import role_of
from org.tests.factories import UserFactory

from .factories import CustomerFactory

ROLES = ["advisor_a", "advisor_a2", "lead_a", "advisor_b", "manager_x", "rm_x", "manager_y", "compliance", "admin"]


@pytest.fixture
def users(world):
    return [getattr(world, who) for who in ROLES] + [UserFactory(), AnonymousUser()]


@pytest.fixture
def book(world):
    """Customers placed so that each role's rule has something to include and exclude."""
    w = world
    b = {
        "own_a": CustomerFactory(owner=w.advisor_a),
        "own_a2": CustomerFactory(owner=w.advisor_a2),
        "own_lead_a": CustomerFactory(owner=w.lead_a),
        "own_b": CustomerFactory(owner=w.advisor_b),
        "team_a_lead": CustomerFactory(owner=None),
        "team_b_lead": CustomerFactory(owner=None),
        "own_b_team_a_lead": CustomerFactory(owner=w.advisor_b),
        "referred_x": CustomerFactory(owner=None),
        "referred_y_own_a2": CustomerFactory(owner=w.advisor_a2),
        "nobody": CustomerFactory(owner=None),
    }
    customer_access_open_lead(customer_id=b["team_a_lead"].pk, team_id=w.team_a.pk)
    customer_access_open_lead(customer_id=b["team_b_lead"].pk, team_id=w.team_b.pk)
    customer_access_open_lead(customer_id=b["own_b_team_a_lead"].pk, team_id=w.team_a.pk)
    customer_access_referral(customer_id=b["referred_x"].pk, branch_id=w.branch_x.pk)
    customer_access_referral(customer_id=b["referred_y_own_a2"].pk, branch_id=w.branch_y.pk)
    # Reloaded the way the portrait reads them (with the owner's profile).
    return {name: Customer.objects.select_related("owner__staff_profile").get(pk=c.pk) for name, c in b.items()}


def names(qs, book) -> set[str]:
    ids = set(qs.values_list("pk", flat=True))
    return {name for name, c in book.items() if c.pk in ids}


TEAM_A_VIEW = {"team_a_lead", "own_b_team_a_lead"}
EXPECTED_VIEW = {
    "advisor_a": {"own_a"} | TEAM_A_VIEW,
    "advisor_a2": {"own_a2", "referred_y_own_a2"} | TEAM_A_VIEW,
    "lead_a": {"own_a", "own_a2", "own_lead_a", "referred_y_own_a2"} | TEAM_A_VIEW,
    "advisor_b": {"own_b", "own_b_team_a_lead", "team_b_lead"},
    "manager_x": {"referred_x"},
    "rm_x": {"referred_x"},
    "manager_y": {"referred_y_own_a2"},
}


class TestCustomer:
    @pytest.mark.parametrize("who", ROLES)
    def test_view_per_role(self, world, book, who):
        expected = EXPECTED_VIEW.get(who, set(book))  # compliance and admin: everyone
        assert names(Customer.objects.restrict(getattr(world, who), "view"), book) == expected

    @pytest.mark.parametrize("who", ROLES)
    def test_work_is_view_but_for_compliance(self, world, book, who):
        user = getattr(world, who)
        expected = set() if who == "compliance" else names(Customer.objects.restrict(user, "view"), book)
        assert names(Customer.objects.restrict(user, "work"), book) == expected

    def test_nobody_without_a_role(self, db, book):
        assert names(Customer.objects.restrict(UserFactory(), "view"), book) == set()
        assert names(Customer.objects.restrict(AnonymousUser(), "view"), book) == set()

    @pytest.mark.parametrize(
        "action,predicate", [("view", access.can_view_customer), ("work", access.can_work_customer)]
    )
    def test_predicate_agrees_with_restrict(self, users, book, action, predicate):
        allowed = assert_rule_agrees(
            model=Customer, action=action, predicate=predicate, users=users, objects=book.values()
        )
        assert 0 < allowed < len(users) * len(book)

    def test_unknown_action_is_an_error(self, world):
        with pytest.raises(ValueError):
            Customer.objects.restrict(world.admin, "delete")

    def test_get_for_user_is_404_outside_the_action(self, world, book):
        c = book["own_a"]
        assert customer_get_for_user(user=world.compliance, pk=c.pk) == c
        with pytest.raises(Http404):
            customer_get_for_user(user=world.compliance, pk=c.pk, action="work")
        assert customer_get_for_user(user=world.advisor_a, pk=c.pk, action="work") == c
        with pytest.raises(Http404):
            customer_get_for_user(user=world.advisor_b, pk=c.pk)

    def test_reveal_and_export_follow_permissions_and_scope(self, world, book):
        assert access.can_reveal_customer_pii(world.advisor_a, book["own_a"])
        assert not access.can_reveal_customer_pii(world.advisor_a, book["own_b"])  # not visible to them
        assert access.can_reveal_customer_pii(world.compliance, book["own_b"])
        assert not access.can_reveal_customer_pii(AnonymousUser(), book["own_a"])
        assert access.can_export_customers(world.lead_a) and access.can_export_customers(world.admin)
        assert not access.can_export_customers(world.advisor_a)
        assert not access.can_export_customers(world.compliance)

    def test_predicate_reads_nothing_for_owned_customers(self, world, book, django_assert_num_queries):
        with django_assert_num_queries(0):
            assert access.can_work_customer(world.advisor_a, book["own_a"])
            assert access.can_view_customer(world.lead_a, book["own_a2"])


class TestListPlan:
    """The fast plan for big lists (``OFFSET 0`` fence, team staff sub-select) returns
    exactly the plain rule's rows."""

    @pytest.mark.parametrize("who", ROLES)
    def test_fenced_rule_equals_the_plain_rule(self, world, book, who):
        user = getattr(world, who)
        fenced = Customer.objects.all()._visible(user, role_of(user), fenced=True)
        assert names(fenced, book) == names(Customer.objects.plain_view_rule(user), book)

    @pytest.mark.parametrize("who", ["advisor_a", "lead_a", "advisor_b"])
    def test_postgresql_lists_use_the_fenced_plan(self, world, book, who):
        if connection.vendor != "postgresql":
            pytest.skip("the OFFSET 0 plan is PostgreSQL's")
        user = getattr(world, who)
        with CaptureQueriesContext(connection) as q:
            rows = names(Customer.objects.restrict(user, "view"), book)
        assert "OFFSET 0" in q.captured_queries[-1]["sql"]
        assert rows == names(Customer.objects.plain_view_rule(user), book) == EXPECTED_VIEW[who]

    def test_fenced_rule_nests_as_a_subquery(self, world, book):
        """Other apps filter by ``customer__in=Customer.objects.restrict(...)``: the plan is
        ORM, so it re-aliases inside a subquery."""
        visible = Customer.objects.restrict(world.lead_a, "view")
        nested = Customer.objects.filter(pk__in=visible.values("pk"))
        assert names(nested, book) == EXPECTED_VIEW["lead_a"]


@pytest.fixture
def records(world, book):
    return [
        AccessRecord.objects.create(user=world.advisor_a, customer=book["own_a"], kind=AccessKind.VIEW),
        AccessRecord.objects.create(user=world.compliance, customer=None, kind=AccessKind.EXPORT),
    ]


@pytest.fixture
def batches(world):
    return [
        ImportBatch.objects.create(kind="customers", original_name=f"{who}.csv", sha256="0", created_by=user)
        for who, user in (("lead", world.lead_a), ("admin", world.admin), ("nobody", None))
    ]


class TestAccessRecordAndImportBatch:
    def test_access_records_for_compliance_and_admin_only(self, world, users, records):
        assert_rule_agrees(
            model=AccessRecord, action="view", predicate=access.can_view_access_record, users=users, objects=records
        )
        assert AccessRecord.objects.restrict(world.compliance, "view").count() == 2
        assert AccessRecord.objects.restrict(world.admin, "view").count() == 2
        for who in ("advisor_a", "lead_a", "manager_x"):
            assert not AccessRecord.objects.restrict(getattr(world, who), "view").exists()

    def test_import_batches_admin_all_others_their_own(self, world, users, batches):
        assert_rule_agrees(
            model=ImportBatch, action="view", predicate=access.can_view_import_batch, users=users, objects=batches
        )
        lead, admin_file, nobody = batches
        assert set(ImportBatch.objects.restrict(world.admin, "view")) == {lead, admin_file, nobody}
        assert set(ImportBatch.objects.restrict(world.lead_a, "view")) == {lead}
        assert not ImportBatch.objects.restrict(world.advisor_a, "view").exists()


class TestViewParts:
    """``view_parts`` (the rule split for capped counts: owned, then granted and not
    owned) gives each visible customer in exactly one part, and nothing else."""

    @pytest.mark.parametrize("who", ROLES)
    def test_the_parts_are_disjoint_and_add_up_to_the_rule(self, world, book, who):
        user = getattr(world, who)
        visible = Customer.objects.restrict(user, "view")
        parts = [names(visible.filter(part), book) for part in Customer.objects.view_parts(user)]
        assert set().union(*parts) == names(visible, book)
        assert sum(len(p) for p in parts) == len(names(visible, book))  # none in two parts
        if who in ("advisor_a", "lead_a", "advisor_b"):
            assert len(parts) == 2 and all(parts)  # the book has both owned and granted customers
