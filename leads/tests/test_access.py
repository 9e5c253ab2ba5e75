"""The lead access rules: ``restrict(user, action)`` and the ``leads.access`` predicates
agree row for row for every role and action; the expected leads per role for ``view``;
the queues stay inside the view rule; claiming next follows the claim rule."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from core.testing import assert_rule_agrees
from customers.models import Customer
from customers.services.access import customer_access_referral
from customers.tests.factories import CustomerFactory
from leads import selectors, services
from leads.access import (
    can_call_lead,
    can_claim_lead,
    can_confirm_lead,
    can_view_lead,
    can_view_lead_record,
    can_view_planned_call,
    can_work_lead,
)
from leads.models import GradeDecision, Lead, LeadBranchAccess, LeadStatus, LeadTransition, NurturePlan, PlannedCall
from leads.tests.factories import LeadFactory, PlannedCallFactory
from org.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLES = ("advisor_a", "advisor_a2", "lead_a", "advisor_b", "manager_x", "rm_x", "manager_y", "compliance", "admin")
PREDICATES = {
    "view": can_view_lead,
    "work": can_work_lead,
    "claim": can_claim_lead,
    "confirm": can_confirm_lead,
    "call": can_call_lead,
}


@pytest.fixture
def others(world):
    return {"no_role": UserFactory()}


def _users(world, others):
    return [getattr(world, r) for r in ROLES] + list(others.values()) + [AnonymousUser()]


@pytest.fixture
def book(world):
    """Leads placed so that every role and action has some to include and some to exclude."""
    w = world

    def lead(**kw):
        kw.setdefault("customer", CustomerFactory(owner=None, home_branch=w.branch_x))
        return LeadFactory(**kw)

    leads = {
        "a_unclaimed": lead(team=w.team_a),
        "a_mine": lead(team=w.team_a, owner=w.advisor_a),
        "a_colleague": lead(team=w.team_a, owner=w.advisor_a2),
        "a_nurturing_mine": lead(team=w.team_a, owner=w.advisor_a, status=LeadStatus.NURTURING),
        "a_lost_mine": lead(team=w.team_a, owner=w.advisor_a, status=LeadStatus.LOST),
        "a_pooled": lead(team=w.team_a, status=LeadStatus.POOLED, confirmed_grade="low"),
        # Another team's unclaimed lead on a customer advisor_a owns: seen, not worked.
        "b_on_my_customer": lead(team=w.team_b, customer=CustomerFactory(owner=w.advisor_a)),
        # Team B's lead still owned by advisor_a2 (team A): seen by team A's lead.
        "b_owned_by_a2": lead(team=w.team_b, owner=w.advisor_a2, status=LeadStatus.CONTACTING),
        "b_referred_x": lead(team=w.team_b, owner=w.advisor_b, status=LeadStatus.REFERRED),
        "no_team": lead(team=None),
    }
    # A referral grants the branch both the lead and its customer (referrals.services).
    LeadBranchAccess.objects.create(lead=leads["b_referred_x"], branch=w.branch_x)
    customer_access_referral(customer_id=leads["b_referred_x"].customer_id, branch_id=w.branch_x.pk)
    return leads


def visible(user, book) -> set[str]:
    ids = set(Lead.objects.restrict(user, "view").values_list("pk", flat=True))
    return {name for name, lead in book.items() if lead.pk in ids}


# Team A's leads that show a customer team A may see: "a_lost_mine" is closed, so its
# customer (owned by nobody in team A) is no longer granted to the team, and neither is
# the lead; "b_owned_by_a2" is team B's open lead, so its customer is team B's.
TEAM_A = {"a_unclaimed", "a_mine", "a_colleague", "a_nurturing_mine", "a_pooled"}


def test_view_per_role(world, others, book):
    w = world
    assert visible(w.advisor_a, book) == TEAM_A | {"b_on_my_customer"}
    assert visible(w.advisor_a2, book) == TEAM_A
    assert visible(w.lead_a, book) == TEAM_A
    assert visible(w.advisor_b, book) == {"b_on_my_customer", "b_owned_by_a2", "b_referred_x"}
    assert visible(w.manager_x, book) == visible(w.rm_x, book) == {"b_referred_x"}
    assert visible(w.manager_y, book) == set()
    assert visible(w.compliance, book) == visible(w.admin, book) == set(book)
    for user in others.values():
        assert visible(user, book) == set()
    assert visible(AnonymousUser(), book) == set()


def test_a_lead_never_shows_a_customer_the_customer_rule_hides(world, others, book):
    """The call screen and the customer page agree: every lead a user may see is on a
    customer they may see (the issue: a closed lead of the team showed a hidden customer)."""
    for user in _users(world, others):
        leads = Lead.objects.restrict(user, "view")
        customers = set(Customer.objects.restrict(user, "view").values_list("pk", flat=True))
        assert set(leads.values_list("customer_id", flat=True)) <= customers, user


@pytest.mark.parametrize("action", sorted(PREDICATES))
def test_lead_rule_agrees_with_the_predicate(world, others, book, action):
    users = _users(world, others)
    allowed = assert_rule_agrees(
        model=Lead, action=action, predicate=PREDICATES[action], users=users, objects=book.values()
    )
    assert 0 < allowed < len(book) * len(users)  # the book exercises both answers


@pytest.mark.parametrize("action", sorted(PREDICATES))
def test_the_one_lead_form_of_the_rule_agrees_with_the_list_form(world, others, book, action):
    """``one_lead`` (probes of the lead's customer and grant, for reading one lead) gives
    each lead exactly when the list form does, for every role and action."""
    allowed = 0
    for user in _users(world, others):
        listed = set(Lead.objects.restrict(user, action).values_list("pk", flat=True))
        for name, lead in book.items():
            one = Lead.objects.one_lead().restrict(user, action).filter(pk=lead.pk).exists()
            assert one == (lead.pk in listed), (user, name)
            allowed += one
    assert allowed > 0


def test_reading_one_lead_probes_its_customer_on_postgresql(world, book):
    """The call screen's read of its lead uses the one-lead form: per-lead probes
    (``OFFSET 0``), not the list plan's ``IN (SELECT …)`` over the book and the grants."""
    if connection.vendor != "postgresql":
        pytest.skip("the OFFSET 0 probe is PostgreSQL's")
    with CaptureQueriesContext(connection) as q:
        lead = selectors.lead_get_for_user(user=world.advisor_a, pk=book["b_on_my_customer"].pk)
    assert lead == book["b_on_my_customer"]
    sql = q.captured_queries[-1]["sql"]
    assert "OFFSET 0" in sql and "IN (SELECT" not in sql


def test_work_claim_confirm_call_examples(world, book):
    w = world
    assert can_work_lead(w.advisor_a, book["a_unclaimed"]) and can_claim_lead(w.advisor_a, book["a_unclaimed"])
    assert not can_work_lead(w.advisor_a, book["a_colleague"])
    assert can_work_lead(w.lead_a, book["a_colleague"]) and not can_claim_lead(w.lead_a, book["a_unclaimed"])
    assert not can_work_lead(w.advisor_a, book["b_on_my_customer"])  # seen, but another team's
    assert not can_work_lead(w.lead_a, book["b_owned_by_a2"])
    assert can_confirm_lead(w.advisor_a, book["a_mine"])
    assert not can_confirm_lead(w.advisor_a, book["a_nurturing_mine"])
    assert can_call_lead(w.advisor_a, book["a_nurturing_mine"])
    assert not can_call_lead(w.advisor_a, book["a_lost_mine"]) and not can_call_lead(w.admin, book["a_lost_mine"])
    assert not can_work_lead(w.compliance, book["a_unclaimed"])


def test_lead_records_follow_their_lead(world, others, book):
    records = []
    for name in ("a_mine", "b_on_my_customer", "b_referred_x", "no_team"):
        lead = book[name]
        records.append(LeadTransition.objects.create(lead=lead, from_status="new", to_status=lead.status))
        records.append(
            GradeDecision.objects.create(lead=lead, advisor=world.admin, proposed_grade="mid", confirmed_grade="mid")
        )
    plan = NurturePlan.objects.create(
        lead=book["a_nurturing_mine"],
        advisor=world.advisor_a,
        touches_planned=3,
        period_days=14,
        started_at=book["a_nurturing_mine"].created_at,
    )
    users = _users(world, others)
    for model in (LeadTransition, GradeDecision, NurturePlan):
        objects = [r for r in [*records, plan] if isinstance(r, model)]
        assert_rule_agrees(model=model, action="view", predicate=can_view_lead_record, users=users, objects=objects)
    assert set(LeadTransition.objects.restrict(world.manager_x, "view").values_list("lead_id", flat=True)) == {
        book["b_referred_x"].pk
    }


@pytest.fixture
def planned(world, book):
    w = world
    return {
        "advisor_a": PlannedCallFactory(lead=book["a_mine"], advisor=w.advisor_a),
        "advisor_a2": PlannedCallFactory(lead=book["a_colleague"], advisor=w.advisor_a2),
        "advisor_b": PlannedCallFactory(lead=book["b_referred_x"], advisor=w.advisor_b),
    }


def test_planned_call_view_per_role_and_agrees(world, others, planned):
    w = world

    def seen(user):
        ids = set(PlannedCall.objects.restrict(user, "view").values_list("pk", flat=True))
        return {name for name, p in planned.items() if p.pk in ids}

    assert seen(w.advisor_a) == {"advisor_a"}
    assert seen(w.lead_a) == {"advisor_a", "advisor_a2"}
    assert seen(w.advisor_b) == {"advisor_b"}
    assert seen(w.compliance) == seen(w.admin) == set(planned)
    assert seen(w.manager_x) == seen(others["no_role"]) == set()
    assert_rule_agrees(
        model=PlannedCall,
        action="view",
        predicate=can_view_planned_call,
        users=_users(world, others),
        objects=planned.values(),
    )


QUEUE_USERS = ("advisor_a", "advisor_a2", "lead_a", "advisor_b", "admin")


@pytest.mark.parametrize("who", QUEUE_USERS)
def test_every_queue_stays_inside_the_view_rule(world, book, planned, who):
    user = getattr(world, who)
    seen = set(Lead.objects.restrict(user, "view").values_list("pk", flat=True))
    for queue in (selectors.leads_to_confirm, selectors.leads_nurturing, selectors.leads_pool):
        rows = set(queue(user=user).values_list("pk", flat=True))
        assert rows <= seen, (queue.__name__, who)
    planned_seen = set(PlannedCall.objects.restrict(user, "view").values_list("pk", flat=True))
    assert set(selectors.planned_calls(user=user, when="all").values_list("pk", flat=True)) <= planned_seen
    if who in ("advisor_a", "lead_a"):  # the queues are not empty for these
        assert set(selectors.leads_to_confirm(user=user).values_list("pk", flat=True))
    # and whatever To confirm lists, the user may confirm.
    assert set(selectors.leads_to_confirm(user=user).values_list("pk", flat=True)) <= set(
        Lead.objects.restrict(user, "confirm").values_list("pk", flat=True)
    )


def test_lead_get_for_user_answers_404_outside_the_action(world, book):
    lead = book["a_colleague"]
    assert selectors.lead_get_for_user(user=world.advisor_a, pk=lead.pk) == lead
    with pytest.raises(Http404):
        selectors.lead_get_for_user(user=world.advisor_a, pk=lead.pk, action="work")
    with pytest.raises(Http404):
        selectors.lead_get_for_user(user=world.advisor_b, pk=lead.pk)


def test_claim_next_takes_only_what_the_claim_rule_allows(world, book):
    claimed = services.lead_claim_next(actor=world.advisor_a)
    assert claimed == book["a_unclaimed"]
    assert services.lead_claim_next(actor=world.advisor_a) is None
