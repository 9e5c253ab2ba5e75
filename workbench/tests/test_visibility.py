"""The row rule every read starts from: who sees which customers, leads and referrals."""

import pytest

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from leads.models import Lead, LeadStatus
from leads.tests.factories import LeadFactory
from org.tests.factories import UserFactory
from referrals.models import Referral
from referrals.tests.factories import ReferralFactory


@pytest.fixture
def book(world):
    """Customers placed so that each role's rule has something to include and exclude."""
    w = world
    return {
        "own_a": CustomerFactory(owner=w.advisor_a, home_branch=w.branch_x),
        "own_a2": CustomerFactory(owner=w.advisor_a2, home_branch=w.branch_y),
        "own_b": CustomerFactory(owner=w.advisor_b, home_branch=w.branch_x),
        "team_a_lead": LeadFactory(team=w.team_a, customer=CustomerFactory(owner=None)).customer,
        "team_a_closed_lead": LeadFactory(team=w.team_a, status=LeadStatus.CLOSED, customer=CustomerFactory()).customer,
        "team_b_lead": LeadFactory(team=w.team_b, customer=CustomerFactory(owner=None)).customer,
        "referred_x": ReferralFactory(
            branch=w.branch_x, lead__team=w.team_b, lead__customer=CustomerFactory()
        ).customer,
        "referred_y": ReferralFactory(
            branch=w.branch_y, lead__team=w.team_a, lead__customer=CustomerFactory()
        ).customer,
        "nobody": CustomerFactory(owner=None),
    }


def visible(user, book):
    ids = set(Customer.objects.restrict(user, "view").values_list("pk", flat=True))
    return {name for name, c in book.items() if c.pk in ids}


def test_advisor_sees_own_book_and_team_open_leads_only(world, book):
    assert visible(world.advisor_a, book) == {"own_a", "team_a_lead", "referred_y"}
    assert visible(world.advisor_b, book) == {"own_b", "team_b_lead", "referred_x"}


def test_team_lead_sees_the_team_book_and_team_leads(world, book):
    assert visible(world.lead_a, book) == {"own_a", "own_a2", "team_a_lead", "referred_y"}


def test_branch_staff_see_only_customers_referred_to_their_branch(world, book):
    assert visible(world.manager_x, book) == {"referred_x"}
    assert visible(world.rm_x, book) == {"referred_x"}
    assert visible(world.manager_y, book) == {"referred_y"}


def test_compliance_and_admin_see_everyone(world, book):
    assert visible(world.compliance, book) == set(book)
    assert visible(world.admin, book) == set(book)


def test_user_without_a_role_sees_nothing(db, book):
    assert visible(UserFactory(), book) == set()


def test_lead_and_referral_visibility(world, book):
    w = world
    team_a_leads = set(Lead.objects.restrict(w.advisor_a, "view").values_list("customer_id", flat=True))
    assert book["team_a_lead"].pk in team_a_leads
    assert book["team_b_lead"].pk not in team_a_leads
    assert set(Lead.objects.restrict(w.manager_x, "view").values_list("customer_id", flat=True)) == {
        book["referred_x"].pk
    }
    assert Referral.objects.restrict(w.manager_x, "view").count() == 1
    assert Referral.objects.restrict(w.manager_y, "view").get().customer == book["referred_y"]
    assert Referral.objects.restrict(w.compliance, "view").count() == 2
    assert Referral.objects.restrict(w.advisor_a, "view").count() == 0  # made by nobody in the fixtures


def test_only_one_open_lead_per_customer_is_enforced_by_the_database(world):
    from django.db import IntegrityError, transaction

    customer = CustomerFactory()
    LeadFactory(customer=customer, status=LeadStatus.NEW)
    LeadFactory(customer=customer, status=LeadStatus.WON)  # closed ones do not count
    with pytest.raises(IntegrityError), transaction.atomic():
        LeadFactory(customer=customer, status=LeadStatus.NURTURING)
