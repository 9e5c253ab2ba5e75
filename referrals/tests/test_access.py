"""One access rule per action: ``Referral.objects.restrict`` and ``referrals.access`` agree,
for every role of the test world, and the pages offer exactly what the rule allows."""

from __future__ import annotations

import pytest
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from rest_framework.test import APIClient

from core.testing import assert_rule_agrees
from org.roles import Role
from org.tests.factories import UserFactory, make_staff
from referrals.access import can_decide_referral, can_view_referral, can_work_referral
from referrals.models import FollowUp, Referral, ReferralEvent, ReferralStatus, SlaBreach
from referrals.selectors import referral_get_for_user

from .factories import ReferralFactory

S = ReferralStatus
PREDICATES = {"view": can_view_referral, "decide": can_decide_referral, "work": can_work_referral}


@pytest.fixture
def people(world, rm_x2, rm_y):
    """Everyone of the world, plus a second RM of branch X, an RM of branch Y, the team
    lead of team B and a user without a role."""
    names = [
        "advisor_a",
        "advisor_a2",
        "lead_a",
        "advisor_b",
        "manager_x",
        "rm_x",
        "manager_y",
        "compliance",
        "admin",
    ]
    return {
        **{name: getattr(world, name) for name in names},
        "rm_x2": rm_x2,
        "rm_y": rm_y,
        "lead_b": make_staff(Role.TEAM_LEAD, username="lead_b", team=world.team_b),
        "nobody": UserFactory(username="nobody"),
    }


@pytest.fixture
def book(world, people):
    """Referrals placed so that each role's rule has something to include and exclude."""
    w, p = world, people
    return {
        "a_x": ReferralFactory(
            from_advisor=w.advisor_a, lead__team=w.team_a, branch=w.branch_x, status=S.ACCEPTED, assigned_rm=w.rm_x
        ),
        "a2_y": ReferralFactory(from_advisor=w.advisor_a2, lead__team=w.team_a, branch=w.branch_y),
        "b_x": ReferralFactory(from_advisor=w.advisor_b, lead__team=w.team_b, branch=w.branch_x),
        # made by team B about a lead of team A: team A's lead sees it through the lead
        "b_lead_a_y": ReferralFactory(
            from_advisor=w.advisor_b, lead__team=w.team_a, branch=w.branch_y, status=S.CONTACTED, assigned_rm=p["rm_y"]
        ),
        # made by team A about a lead of team B, worked by the other RM of branch X
        "a_lead_b_x": ReferralFactory(
            from_advisor=w.advisor_a, lead__team=w.team_b, branch=w.branch_x, status=S.MEETING, assigned_rm=p["rm_x2"]
        ),
        # no advisor, no team: the branch's only (and compliance's, the administrators')
        "orphan_y": ReferralFactory(from_advisor=None, lead__team=None, branch=w.branch_y, status=S.CONVERTED),
    }


def allowed(user, action, book) -> set[str]:
    ids = set(Referral.objects.restrict(user, action).values_list("pk", flat=True))
    return {name for name, r in book.items() if r.pk in ids}


@pytest.mark.parametrize("action", Referral.objects.none().ACTIONS)
def test_restrict_and_predicate_agree_for_every_role(people, book, action):
    pairs = assert_rule_agrees(
        model=Referral,
        action=action,
        predicate=PREDICATES[action],
        users=people.values(),
        objects=Referral.objects.filter(pk__in=[r.pk for r in book.values()]).select_related(
            "lead", "from_advisor__staff_profile"
        ),
    )
    assert 0 < pairs < len(people) * len(book)  # both answers were exercised


def test_who_sees_which_referrals(people, book):
    p = people
    everything = set(book)
    expected = {
        "advisor_a": {"a_x", "a_lead_b_x"},
        "advisor_a2": {"a2_y"},
        "advisor_b": {"b_x", "b_lead_a_y"},
        "lead_a": {"a_x", "a2_y", "b_lead_a_y", "a_lead_b_x"},
        "manager_x": {"a_x", "b_x", "a_lead_b_x"},
        "rm_x": {"a_x", "b_x", "a_lead_b_x"},
        "rm_x2": {"a_x", "b_x", "a_lead_b_x"},
        "manager_y": {"a2_y", "b_lead_a_y", "orphan_y"},
        "rm_y": {"a2_y", "b_lead_a_y", "orphan_y"},
        "compliance": everything,
        "admin": everything,
        "lead_b": {"b_x", "b_lead_a_y", "a_lead_b_x"},
        "nobody": set(),
    }
    assert {name: allowed(user, "view", book) for name, user in p.items()} == expected


def test_who_decides_and_who_works(people, book):
    p = people
    decide = {name: allowed(user, "decide", book) for name, user in p.items()}
    work = {name: allowed(user, "work", book) for name, user in p.items()}
    branch_x, branch_y = {"a_x", "b_x", "a_lead_b_x"}, {"a2_y", "b_lead_a_y", "orphan_y"}
    assert {k: v for k, v in decide.items() if v} == {"manager_x": branch_x, "manager_y": branch_y, "admin": set(book)}
    assert {k: v for k, v in work.items() if v} == {
        "manager_x": branch_x,
        "rm_x": {"a_x"},
        "rm_x2": {"a_lead_b_x"},
        "manager_y": branch_y,
        "rm_y": {"b_lead_a_y"},
        "admin": set(book),
    }


def test_rows_of_a_referral_follow_it(people, book):
    for r in book.values():
        FollowUp.objects.create(referral=r, kind="note", occurred_at=r.created_at, note="跟进")
        ReferralEvent.objects.create(referral=r, verb="create", to_status=r.status)
        SlaBreach.objects.create(referral=r, stage="review", due_at=r.created_at, breached_at=r.created_at)
    for model in (FollowUp, ReferralEvent, SlaBreach):
        assert_rule_agrees(
            model=model,
            action="view",
            predicate=lambda user, row: can_view_referral(user, row.referral),
            users=people.values(),
            objects=model.objects.select_related("referral__lead", "referral__from_advisor__staff_profile"),
        )


def test_team_fast_path_equals_the_plain_rule(people, book, world):
    """The team lead's rule reads two id sets on their indexes; the plain join says the same."""
    for user in (world.lead_a, people["lead_b"]):
        team_id = user.staff_profile.team_id
        plain = Referral.objects.filter(Q(from_advisor__staff_profile__team_id=team_id) | Q(lead__team_id=team_id))
        fast = Referral.objects.restrict(user, "view")
        assert set(fast.values_list("pk", flat=True)) == set(plain.values_list("pk", flat=True))
    assert Referral.objects.restrict(world.lead_a, "view").count() == 4


def test_unknown_action_is_a_programming_error(world):
    with pytest.raises(ValueError):
        Referral.objects.restrict(world.admin, "delete")


def test_get_for_user_is_a_404_outside_the_rule(people, book):
    r = book["a_lead_b_x"]
    assert referral_get_for_user(user=people["rm_x"], pk=r.pk) == r
    with pytest.raises(Http404):
        referral_get_for_user(user=people["rm_x"], pk=r.pk, action="work")
    assert referral_get_for_user(user=people["rm_x2"], pk=r.pk, action="work") == r
    with pytest.raises(Http404):
        referral_get_for_user(user=people["manager_y"], pk=r.pk)


def test_team_leads_list_and_api_agree_with_the_rule(world, client_for, book):
    """The issue's symptom: the team lead's list showed other rows than the rule."""
    expected = {r.pk for r in Referral.objects.restrict(world.lead_a, "view")}
    html = client_for(world.lead_a).get(reverse("referrals:list") + "?tab=all").content.decode()
    listed = {r.pk for r in book.values() if f'data-referral="{r.pk}"' in html}
    assert listed == expected
    api = APIClient()
    api.force_authenticate(world.lead_a)
    assert {row["id"] for row in api.get("/api/referrals/").json()["results"]} == expected


def test_detail_page_offers_exactly_what_the_rule_allows(people, book, client_for):
    """Forms only where the predicate allows and the status permits (the service checks both)."""
    pending, working = book["b_x"], book["a_lead_b_x"]
    for name, user in people.items():
        client = client_for(user)
        for r in (pending, working):
            response = client.get(reverse("referrals:detail", args=[r.pk]))
            if not can_view_referral(user, r):
                assert response.status_code == 404, name
                continue
            html = response.content.decode()
            assert ('data-testid="accept-form"' in html) == (r is pending and can_decide_referral(user, r)), name
            assert ('data-testid="follow-up-form"' in html) == (r is working and can_work_referral(user, r)), name
            assert ('data-testid="outcome-form"' in html) == (r is working and can_work_referral(user, r)), name
            assert ('data-testid="reassign-form"' in html) == (r is working and can_decide_referral(user, r)), name


def test_api_says_what_the_caller_may_do(world, book):
    api = APIClient()
    api.force_authenticate(world.rm_x)
    body = api.get(f"/api/referrals/{book['a_x'].pk}/").json()
    assert body["permissions"] == {"decide": False, "work": True}
    api.force_authenticate(world.manager_x)
    assert api.get(f"/api/referrals/{book['b_x'].pk}/").json()["permissions"] == {"decide": True, "work": True}
