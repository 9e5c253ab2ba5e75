"""The access rules of scoring: a score or an outcome is seen by whoever sees its
customer (``restrict`` and the ``can_view_*`` predicates agree row for row for every
role); the model page, its API and the services that change the model are for team
leads and administrators."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent, Job
from core.testing import assert_rule_agrees
from customers.services.access import customer_access_referral
from customers.tests.factories import CustomerFactory
from leads.tests.factories import LeadFactory
from org.tests.factories import UserFactory
from scoring.access import can_manage_scoring, can_view_outcome, can_view_score
from scoring.models import CustomerScore, ModelVersion, Outcome, ScoringSettings
from scoring.selectors import settings_get
from scoring.services import scores as score_services
from scoring.services import settings as setting_services
from scoring.services import versions as version_services

from .factories import OutcomeFactory

pytestmark = pytest.mark.django_db

ROLES = ("advisor_a", "advisor_a2", "lead_a", "advisor_b", "manager_x", "rm_x", "manager_y", "compliance", "admin")


@pytest.fixture
def book(world):
    """Customers placed so that each role's rule includes and excludes some, each with a
    score and an outcome; plus an imported outcome of no customer."""
    w = world
    referred = CustomerFactory(owner=None)
    customer_access_referral(customer_id=referred.pk, branch_id=w.branch_x.pk)
    customers = {
        "own_a": CustomerFactory(owner=w.advisor_a),
        "own_a2": CustomerFactory(owner=w.advisor_a2),
        "own_b": CustomerFactory(owner=w.advisor_b),
        "team_a_lead": LeadFactory(team=w.team_a, customer=CustomerFactory(owner=None)).customer,
        "referred_x": referred,
        "nobody": CustomerFactory(owner=None),
    }
    scores = {
        name: CustomerScore.objects.create(
            customer=c, score=40.0, grade="high", method="rules", scored_at=timezone.now()
        )
        for name, c in customers.items()
    }
    outcomes = {name: OutcomeFactory(customer=c) for name, c in customers.items()}
    outcomes["anonymous_import"] = OutcomeFactory(customer=None, source="import")
    return {"scores": scores, "outcomes": outcomes}


def _users(world):
    return [getattr(world, r) for r in ROLES] + [UserFactory(), AnonymousUser()]


def test_score_rule_agrees_with_the_predicate(world, book):
    allowed = assert_rule_agrees(
        model=CustomerScore,
        action="view",
        predicate=can_view_score,
        users=_users(world),
        objects=book["scores"].values(),
    )
    assert 0 < allowed < len(book["scores"]) * len(ROLES)


def test_outcome_rule_agrees_with_the_predicate(world, book):
    allowed = assert_rule_agrees(
        model=Outcome,
        action="view",
        predicate=can_view_outcome,
        users=_users(world),
        objects=book["outcomes"].values(),
    )
    assert 0 < allowed < len(book["outcomes"]) * len(ROLES)


EXPECTED_VIEW = {
    "advisor_a": {"own_a", "team_a_lead"},
    "advisor_a2": {"own_a2", "team_a_lead"},
    "lead_a": {"own_a", "own_a2", "team_a_lead"},
    "advisor_b": {"own_b"},
    "manager_x": {"referred_x"},
    "rm_x": {"referred_x"},
    "manager_y": set(),
    "compliance": {"own_a", "own_a2", "own_b", "team_a_lead", "referred_x", "nobody"},
    "admin": {"own_a", "own_a2", "own_b", "team_a_lead", "referred_x", "nobody"},
}


def _visible(model, user, objects: dict) -> set[str]:
    ids = set(model.objects.restrict(user, "view").values_list("pk", flat=True))
    return {name for name, o in objects.items() if o.pk in ids}


@pytest.mark.parametrize("who", ROLES)
def test_expected_scores_and_outcomes_per_role(world, book, who):
    user = getattr(world, who)
    assert _visible(CustomerScore, user, book["scores"]) == EXPECTED_VIEW[who]
    anonymous = {"anonymous_import"} if who in ("lead_a", "admin") else set()
    assert _visible(Outcome, user, book["outcomes"]) == EXPECTED_VIEW[who] | anonymous


def test_nobody_without_a_role_sees_any_score(db, book):
    assert _visible(CustomerScore, UserFactory(), book["scores"]) == set()
    assert _visible(CustomerScore, AnonymousUser(), book["scores"]) == set()


def test_unknown_action_is_a_programming_error(world):
    with pytest.raises(ValueError, match="no access action"):
        CustomerScore.objects.restrict(world.admin, "decide")


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("advisor_a", False),
        ("lead_a", True),
        ("advisor_b", False),
        ("manager_x", False),
        ("rm_x", False),
        ("compliance", False),
        ("admin", True),
    ],
)
def test_only_team_leads_and_admins_manage_scoring(world, client_for, who, allowed):
    user = getattr(world, who)
    assert can_manage_scoring(user) is allowed
    client = client_for(user)
    expected = 200 if allowed else 403
    assert client.get(reverse("scoring:model")).status_code == expected
    assert client.get("/api/scoring/models/").status_code == expected


def test_manage_scoring_needs_a_role(db):
    assert not can_manage_scoring(AnonymousUser())
    assert not can_manage_scoring(UserFactory())
    assert can_manage_scoring(UserFactory(is_superuser=True))  # a superuser without a profile is an admin


@pytest.mark.parametrize("who", ["advisor_a", "manager_x", "compliance"])
def test_services_refuse_who_may_not_manage_scoring(world, who):
    user = getattr(world, who)
    before = settings_get()
    version = ModelVersion.objects.create(version="gbm-x", artifact=b"", features=[], metrics={})
    with pytest.raises(PermissionDenied):
        setting_services.cutoffs_update(actor=user, high=50, mid=20)
    with pytest.raises(PermissionDenied):
        version_services.model_activate(actor=user, version_id=version.pk)
    with pytest.raises(PermissionDenied):
        version_services.train_job_create(actor=user)
    with pytest.raises(PermissionDenied):
        score_services.rescore_start(actor=user)
    with pytest.raises(PermissionDenied):
        version_services.model_train(actor=user)
    after = ScoringSettings.objects.get(pk=before.pk)
    assert (after.high_cutoff, after.mid_cutoff) == (before.high_cutoff, before.mid_cutoff)
    assert not ModelVersion.objects.filter(is_active=True).exists()
    assert not Job.objects.exists() and not AuditEvent.objects.filter(verb__startswith="scoring.").exists()


def test_a_training_job_whose_creator_lost_the_role_fails_plainly(world):
    job = version_services.train_job_create(actor=world.lead_a)  # queued after commit: not run here
    world.lead_a.staff_profile.role = "advisor"
    world.lead_a.staff_profile.save()
    assert version_services.train_run(job_id=job.pk) == {"error": "permission_denied"}
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and job.message
    assert not ModelVersion.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [("advisor_a", 200), ("lead_a", 200), ("compliance", 200), ("admin", 200), ("advisor_b", 404), ("manager_x", 404)],
)
def test_score_api_answers_404_outside_the_customer_scope(world, client_for, book, who, status):
    customer_id = book["scores"]["own_a"].customer_id
    response = client_for(getattr(world, who)).get(f"/api/scoring/customers/{customer_id}/score/")
    assert response.status_code == status


def test_score_api_404_for_a_visible_customer_not_scored_yet(world, client_for):
    customer = CustomerFactory(owner=world.advisor_a)
    assert client_for(world.advisor_a).get(f"/api/scoring/customers/{customer.pk}/score/").status_code == 404
