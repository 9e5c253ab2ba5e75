"""The access rules of the advisor's day.

- ``CallLog.objects.restrict`` and ``calls.access.can_view_call_log`` agree row for row;
- the call screen offers, for every role and lead, exactly the actions the services
  accept (the predicates of ``leads.access`` decide both), and a refused POST writes
  nothing;
- the Referred tab is the referral rule (``Referral.objects.restrict``).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from calls import selectors, services
from calls.access import can_view_call_log
from calls.models import CallLog
from calls.tests.factories import CallLogFactory, disposition
from core.testing import assert_rule_agrees
from customers.tests.factories import CustomerFactory
from leads import services as lead_services
from leads.access import can_call_lead, can_claim_lead, can_confirm_lead, can_view_lead
from leads.models import GradeDecision, Lead, LeadBranchAccess, LeadStatus
from leads.tests.factories import LeadFactory
from org.tests.factories import UserFactory
from referrals.models import Referral
from referrals.tests.factories import ReferralFactory

pytestmark = pytest.mark.django_db

ROLES = ("advisor_a", "advisor_a2", "lead_a", "advisor_b", "manager_x", "rm_x", "manager_y", "compliance", "admin")


# --- call logs ------------------------------------------------------------------------------


def test_call_log_view_per_role_and_agrees(world):
    w = world
    calls = {
        "advisor_a": CallLogFactory(advisor=w.advisor_a, lead__team=w.team_a),
        "advisor_a2": CallLogFactory(advisor=w.advisor_a2, lead__team=w.team_a),
        "advisor_b": CallLogFactory(advisor=w.advisor_b, lead__team=w.team_b),
    }

    def seen(user):
        ids = set(CallLog.objects.restrict(user, "view").values_list("pk", flat=True))
        return {name for name, c in calls.items() if c.pk in ids}

    assert seen(w.advisor_a) == {"advisor_a"}
    assert seen(w.lead_a) == {"advisor_a", "advisor_a2"}
    assert seen(w.advisor_b) == {"advisor_b"}
    assert seen(w.compliance) == seen(w.admin) == set(calls)
    assert seen(w.manager_x) == seen(w.rm_x) == set()
    users = [getattr(w, r) for r in ROLES] + [UserFactory(), AnonymousUser()]
    allowed = assert_rule_agrees(
        model=CallLog, action="view", predicate=can_view_call_log, users=users, objects=calls.values()
    )
    assert allowed == 1 + 2 + 1 + 3 + 3 + 1  # advisor_a, advisor_a2, lead_a, advisor_b, compliance, admin
    assert set(selectors.call_logs(user=w.lead_a)) == {calls["advisor_a"], calls["advisor_a2"]}


# --- the call screen offers what the services accept ---------------------------------------


@pytest.fixture
def book(world):
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
        "b_on_my_customer": lead(team=w.team_b, customer=CustomerFactory(owner=w.advisor_a)),
        "b_owned_by_a2": lead(team=w.team_b, owner=w.advisor_a2, status=LeadStatus.CONTACTING),
        "b_referred_x": lead(team=w.team_b, owner=w.advisor_b, status=LeadStatus.REFERRED),
    }
    LeadBranchAccess.objects.create(lead=leads["b_referred_x"], branch=w.branch_x)
    return leads


class _Rollback(Exception):
    pass


def _accepted(action) -> bool:
    """Whether the service does ``action`` (its effects rolled back either way)."""
    try:
        with transaction.atomic():
            action()
            raise _Rollback
    except _Rollback:
        return True
    except (PermissionDenied, ValidationError):
        return False


def _entry(user, lead) -> services.CallEntry:
    # A service call with its reason: the contact policy cannot be what refuses it.
    return services.CallEntry(
        idempotency_key=f"access-{user.pk}-{lead.pk}",
        disposition=disposition("effective"),
        started_at=timezone.now() - dt.timedelta(minutes=3),
        purpose="service",
        service_reason="理财到期兑付提醒",
    )


def _offers(html: str, lead) -> dict[str, bool]:
    return {
        "confirm": 'data-testid="confirm-form"' in html,
        "call": 'data-testid="call-outcome-form"' in html,
        "claim": f'action="{reverse("calls:claim", args=[lead.pk])}"' in html,
    }


def _accepts(user, lead) -> dict[str, bool]:
    lead = Lead.objects.get(pk=lead.pk)
    return {
        "confirm": _accepted(lambda: services.lead_confirm_grade(actor=user, lead=lead, grade=lead.proposed_grade)),
        "call": _accepted(lambda: services.call_log_create(actor=user, lead=lead, entry=_entry(user, lead))),
        # Claiming one's own lead changes nothing: only a real claim counts.
        "claim": lead.owner_id != user.pk and _accepted(lambda: lead_services.lead_claim(actor=user, lead=lead)),
    }


@pytest.mark.parametrize("who", ROLES)
def test_call_screen_offers_exactly_what_the_services_accept(world, client_for, book, who):
    user = getattr(world, who)
    client = client_for(user)
    offered_somewhere = set()
    for name, lead in book.items():
        r = client.get(reverse("calls:call", args=[lead.pk]))
        accepts = _accepts(user, lead)
        if not can_view_lead(user, lead):
            assert r.status_code == 404, name
            assert not any(accepts.values()), (name, accepts)
            continue
        assert r.status_code == 200, name
        offers = _offers(r.content.decode(), lead)
        assert offers == accepts, (who, name, offers, accepts)
        assert offers == {
            "confirm": can_confirm_lead(user, lead),
            "call": can_call_lead(user, lead),
            "claim": can_claim_lead(user, lead),
        }
        offered_somewhere |= {action for action, yes in offers.items() if yes}
    if who in ("advisor_a", "advisor_a2"):
        assert offered_somewhere == {"confirm", "call", "claim"}
    if who in ("compliance", "manager_x", "rm_x", "manager_y"):
        assert offered_somewhere == set()  # they read; they do not work leads


def _call_post(key: str) -> dict:
    return {
        "idempotency_key": key,
        "purpose": "service",
        "service_reason": "理财到期兑付提醒",
        "started_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "disposition": str(disposition("effective").pk),
        "interest": "none",
        "next_action": "none",
    }


@pytest.mark.parametrize(
    ("who", "name"),
    [
        ("compliance", "a_unclaimed"),  # an officer reads every lead and works none
        ("advisor_a", "a_colleague"),  # an advisor on another advisor's lead
        ("advisor_a", "b_on_my_customer"),  # another team's lead on the advisor's customer
    ],
)
def test_what_the_page_does_not_offer_is_refused(world, client_for, book, who, name):
    user, lead = getattr(world, who), book[name]
    client = client_for(user)
    html = client.get(reverse("calls:call", args=[lead.pk])).content.decode()
    assert _offers(html, lead) == {"confirm": False, "call": False, "claim": False}
    assert "您可以查看这条线索，但不能登记外呼。" in html
    assert client.post(reverse("calls:confirm", args=[lead.pk]), {"grade": "mid"}).status_code == 403
    assert client.post(reverse("calls:log_call", args=[lead.pk]), _call_post(f"refused-{name}")).status_code == 403
    assert client.post(reverse("calls:claim", args=[lead.pk])).status_code == 403
    lead_after = Lead.objects.get(pk=lead.pk)
    assert (lead_after.status, lead_after.owner_id) == (lead.status, lead.owner_id)
    assert not CallLog.objects.exists() and not GradeDecision.objects.exists()


def test_a_closed_lead_of_the_team_answers_404_like_its_customer(world, client_for, book):
    """The issue: the call screen of a closed team lead showed a customer whom the
    customer page hid. Both answer 404 now, and so does every action on it."""
    lead = book["a_lost_mine"]
    for user in (world.advisor_a, world.advisor_a2, world.lead_a):
        client = client_for(user)
        assert client.get(reverse("customers:detail", args=[lead.customer_id])).status_code == 404
        assert client.get(reverse("calls:call", args=[lead.pk])).status_code == 404
        assert client.get(reverse("calls:product_check", args=[lead.pk])).status_code == 404
        assert client.post(reverse("calls:claim", args=[lead.pk])).status_code in (403, 404)
    # The admin, who sees every customer, still opens it.
    assert client_for(world.admin).get(reverse("calls:call", args=[lead.pk])).status_code == 200


@pytest.mark.parametrize("status", [LeadStatus.LOST, LeadStatus.CONTACTING, LeadStatus.POOLED, LeadStatus.CLOSED])
def test_only_new_unclaimed_leads_can_be_claimed(world, client_for, status):
    customer = CustomerFactory(owner=world.advisor_a)  # visible whatever the lead's status
    lead = LeadFactory(customer=customer, team=world.team_a, status=status, owner=None)
    client = client_for(world.advisor_a)
    assert client.post(reverse("calls:claim", args=[lead.pk])).status_code == 403
    assert Lead.objects.get(pk=lead.pk).owner_id is None
    assert lead_services.lead_claim_next(actor=world.advisor_a) is None
    with pytest.raises(PermissionDenied):
        lead_services.lead_claim(actor=world.advisor_a, lead=lead)
    new = LeadFactory(customer=CustomerFactory(), team=world.team_a, owner=None)
    assert client.post(reverse("calls:claim", args=[new.pk])).status_code == 302
    assert Lead.objects.get(pk=new.pk).owner_id == world.advisor_a.pk


# --- the Referred tab -------------------------------------------------------------------------


def test_referred_tab_is_the_referral_rule(world, client_for):
    w = world
    r1 = ReferralFactory(lead__team=w.team_a, from_advisor=w.advisor_a, lead__customer__name="转介甲")
    r2 = ReferralFactory(lead__team=w.team_a, from_advisor=w.advisor_a2, lead__customer__name="转介乙")
    # A referral on team A's lead made by another team's advisor: team A's lead sees it
    # under the referral rule, so the tab lists it too.
    r3 = ReferralFactory(lead__team=w.team_a, from_advisor=w.advisor_b, lead__customer__name="转介丙")
    r4 = ReferralFactory(lead__team=w.team_b, from_advisor=w.advisor_b, lead__customer__name="转介丁")
    for who in ("advisor_a", "advisor_a2", "lead_a", "advisor_b", "admin"):
        user = getattr(w, who)
        assert set(selectors.referrals_made(user=user)) == set(Referral.objects.restrict(user, "view")), who
    html = client_for(w.lead_a).get(reverse("calls:queue") + "?tab=referred").content.decode()
    # names are masked (docs/masking.md): the rows are told apart by customer number
    listed = [r.customer.customer_no in html for r in (r1, r2, r3, r4)]
    assert listed == [True, True, True, False]
