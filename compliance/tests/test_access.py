"""The one access rule of compliance: each predicate of ``compliance.access`` and the
``restrict(user, action)`` of its model agree row for row, for every role and action, and
each role sees the flags and scripts it should."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from compliance import access
from compliance.models import Flag, FlagOutcome, Script, ScriptPurpose, ScriptVersion
from compliance.services import flags as flag_services
from compliance.services import scripts as script_services
from compliance.services import surveillance as surveillance_services
from compliance.tests.factories import CLEAN_WEALTH_BODY
from core.testing import assert_rule_agrees
from customers.tests.factories import ProductFactory
from org.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLE_USERS = (
    "advisor_a",
    "advisor_a2",
    "lead_a",
    "advisor_b",
    "manager_x",
    "rm_x",
    "manager_y",
    "compliance",
    "admin",
)


@pytest.fixture
def users(world):
    return {name: getattr(world, name) for name in ROLE_USERS} | {"nobody": UserFactory(username="nobody")}


@pytest.fixture
def flag_book(world):
    """Open and closed flags of advisors in both teams, and one with no advisor."""
    w = world
    placed = {
        "a_open": (w.advisor_a, False),
        "a_closed": (w.advisor_a, True),
        "a2_closed": (w.advisor_a2, True),
        "b_open": (w.advisor_b, False),
        "b_closed": (w.advisor_b, True),
        "nobody_closed": (None, True),
    }
    book = {}
    for i, (name, (advisor, closed)) in enumerate(placed.items()):
        comm, _created = surveillance_services.communication_scan(
            source="call_note",
            object_id=900 + i,
            text="这款产品是保本的。",
            advisor_id=advisor.pk if advisor else None,
            occurred_at=timezone.now(),
        )
        flag = comm.flags.get()
        if closed:
            flag = flag_services.flag_close(actor=w.compliance, flag=flag, outcome=FlagOutcome.COACHING, comment="注意")
        book[name] = flag
    return book


def _script(author, *, title, submit=False, approve_by=None):
    version = script_services.script_create(
        actor=author,
        title=title,
        purpose=ScriptPurpose.PRODUCT_INTRO,
        body=CLEAN_WEALTH_BODY,
        product=ProductFactory(risk_level=2),
    )
    if submit or approve_by:
        version = script_services.script_submit_for_review(actor=author, version=version)
    if approve_by:
        version = script_services.script_approve(actor=approve_by, version=version, acknowledge_medium=True)
    return version


@pytest.fixture
def version_book(world):
    """Scripts in every state, by authors of both teams and an officer."""
    w = world
    s1v1 = _script(w.advisor_a, title="s1", approve_by=w.compliance)
    s1v2 = script_services.script_revise(actor=w.lead_a, script=s1v1.script)  # a team lead revises an approved one
    return {
        "s1v1_approved": s1v1,
        "s1v2_draft_by_lead": s1v2,
        "s2v1_submitted_by_a2": _script(w.advisor_a2, title="s2", submit=True),
        "s3v1_draft_by_b": _script(w.advisor_b, title="s3"),
        "s4v1_submitted_by_officer": _script(w.compliance, title="s4", submit=True),
        "s6v1_submitted_by_lead": _script(w.lead_a, title="s6", submit=True),
    }


def _names(book, ids):
    return {name for name, obj in book.items() if obj.pk in ids}


FLAG_PREDICATES = {"view": access.can_view_flag, "review": access.can_review_flag, "report": access.can_report_flag}
SCRIPT_PREDICATES = {"view": access.can_view_script, "revise": access.can_revise_script}
VERSION_PREDICATES = {
    "view": access.can_view_version,
    "edit": access.can_edit_version,
    "review": access.can_review_version,
    "approve": access.can_approve_version,
    "report": access.can_report_version,
}


def test_every_action_has_its_predicate():
    assert set(Flag.objects.none().ACTIONS) == set(FLAG_PREDICATES)
    assert set(Script.objects.none().ACTIONS) == set(SCRIPT_PREDICATES)
    assert set(ScriptVersion.objects.none().ACTIONS) == set(VERSION_PREDICATES)


@pytest.mark.parametrize("action", sorted(FLAG_PREDICATES))
def test_flag_rule_agrees_with_its_predicate(users, flag_book, action):
    allowed = assert_rule_agrees(
        model=Flag,
        action=action,
        predicate=FLAG_PREDICATES[action],
        users=users.values(),
        objects=flag_book.values(),
    )
    assert 0 < allowed < len(users) * len(flag_book)


@pytest.mark.parametrize("action", sorted(SCRIPT_PREDICATES))
def test_script_rule_agrees_with_its_predicate(users, version_book, action):
    scripts = {v.script_id: Script.objects.get(pk=v.script_id) for v in version_book.values()}.values()
    allowed = assert_rule_agrees(
        model=Script, action=action, predicate=SCRIPT_PREDICATES[action], users=users.values(), objects=scripts
    )
    assert 0 < allowed < len(users) * len(scripts)


@pytest.mark.parametrize("action", sorted(VERSION_PREDICATES))
def test_version_rule_agrees_with_its_predicate(users, version_book, action):
    versions = list(ScriptVersion.objects.filter(pk__in=[v.pk for v in version_book.values()]))
    allowed = assert_rule_agrees(
        model=ScriptVersion,
        action=action,
        predicate=VERSION_PREDICATES[action],
        users=users.values(),
        objects=versions,
    )
    assert 0 < allowed < len(users) * len(versions)


def test_flags_each_role_views(users, flag_book):
    def viewed(name):
        return _names(flag_book, set(Flag.objects.restrict(users[name], "view").values_list("pk", flat=True)))

    assert viewed("compliance") == viewed("admin") == set(flag_book)
    assert viewed("lead_a") == {"a_closed", "a2_closed"}  # the team's outcomes, not what is under review
    assert viewed("advisor_a") == {"a_closed"}
    assert viewed("advisor_a2") == {"a2_closed"}
    assert viewed("advisor_b") == {"b_closed"}
    for name in ("manager_x", "rm_x", "manager_y", "nobody"):
        assert viewed(name) == set()


def test_flags_review_and_report(users, flag_book):
    def ids(name, action):
        return _names(flag_book, set(Flag.objects.restrict(users[name], action).values_list("pk", flat=True)))

    assert ids("compliance", "review") == set(flag_book)
    assert all(ids(name, "review") == set() for name in users if name != "compliance")
    assert ids("admin", "report") == set(flag_book)
    assert ids("lead_a", "report") == {"a_open", "a_closed", "a2_closed"}
    assert ids("advisor_a", "report") == set()


def test_versions_each_role_views(users, version_book):
    def viewed(name):
        ids = set(ScriptVersion.objects.restrict(users[name], "view").values_list("pk", flat=True))
        return _names(version_book, ids)

    assert viewed("compliance") == viewed("admin") == set(version_book)
    assert viewed("advisor_a") == {"s1v1_approved", "s1v2_draft_by_lead"}  # the script is theirs
    assert viewed("lead_a") == {"s1v1_approved", "s1v2_draft_by_lead", "s6v1_submitted_by_lead"}
    assert viewed("advisor_a2") == {"s1v1_approved", "s2v1_submitted_by_a2"}
    assert viewed("advisor_b") == {"s1v1_approved", "s3v1_draft_by_b"}
    for name in ("manager_x", "rm_x", "manager_y", "nobody"):
        assert viewed(name) == {"s1v1_approved"}  # approved text is for everyone


def test_versions_edit_review_approve_report(users, version_book):
    def ids(name, action):
        return _names(
            version_book, set(ScriptVersion.objects.restrict(users[name], action).values_list("pk", flat=True))
        )

    assert ids("lead_a", "edit") == {"s1v2_draft_by_lead"}
    assert ids("advisor_b", "edit") == {"s3v1_draft_by_b"}
    assert ids("advisor_a2", "edit") == set()  # submitted: no longer a draft
    assert ids("compliance", "review") == set(version_book)
    assert ids("admin", "review") == set()
    assert ids("compliance", "approve") == set(version_book) - {"s4v1_submitted_by_officer"}  # four eyes
    assert ids("lead_a", "report") == {
        "s1v1_approved",
        "s1v2_draft_by_lead",
        "s2v1_submitted_by_a2",
        "s6v1_submitted_by_lead",
    }
    assert ids("advisor_a", "report") == set()


def test_scripts_each_role_views_and_revises(users, version_book):
    scripts = {name: v.script for name, v in version_book.items()}

    def ids(name, action):
        return _names(scripts, set(Script.objects.restrict(users[name], action).values_list("pk", flat=True)))

    assert ids("advisor_a", "view") == {"s1v1_approved", "s1v2_draft_by_lead"}  # one script, s1
    assert ids("advisor_b", "view") == {"s1v1_approved", "s1v2_draft_by_lead", "s3v1_draft_by_b"}
    assert ids("manager_x", "view") == {"s1v1_approved", "s1v2_draft_by_lead"}
    assert ids("manager_x", "revise") == set()  # branch staff use approved scripts, they do not write them
    assert ids("nobody", "revise") == set()
    assert ids("admin", "revise") == set(scripts)


DESK = {
    "can_oversee": {"compliance", "admin"},
    "can_edit_lexicon": {"compliance"},
    "can_configure_qa": {"compliance"},
    "can_start_rescan": {"compliance"},
    "can_view_reports": {"compliance", "admin", "lead_a"},
    "can_propose_script": {"advisor_a", "advisor_a2", "advisor_b", "lead_a", "compliance", "admin"},
}


@pytest.mark.parametrize("predicate", sorted(DESK))
def test_desk_predicates_per_role(users, predicate):
    check = getattr(access, predicate)
    assert {name for name, user in users.items() if check(user)} == DESK[predicate]


def test_anonymous_users_get_nothing(flag_book, version_book):
    anonymous = AnonymousUser()
    assert not Flag.objects.restrict(anonymous, "view").exists()
    assert not ScriptVersion.objects.restrict(anonymous, "view").exists()
    assert not Script.objects.restrict(anonymous, "view").exists()
    approved = version_book["s1v1_approved"]
    assert not access.can_view_version(anonymous, approved)
    assert not access.can_view_script(anonymous, approved.script)
    assert not access.can_oversee(anonymous)
