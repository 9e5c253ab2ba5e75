"""The lead lifecycle (services): transitions, claiming, confirming a grade and routing
mid and low leads (high ones are referred by ``calls``: calls/tests/test_services.py)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from customers.tests.factories import CustomerFactory
from leads import selectors, services
from leads.models import Grade, GradeDecision, LeadStatus, LeadTransition, PlannedCall
from leads.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def _verbs(target) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk))
        .order_by("id")
        .values_list("verb", flat=True)
    )


def _lead(world, customer=None, **kw):
    kw.setdefault("team", world.team_a)
    return LeadFactory(customer=customer or CustomerFactory(home_branch=world.branch_x), **kw)


def test_invalid_transition_is_refused(world):
    lead = _lead(world, status=LeadStatus.WON)
    with pytest.raises(ValidationError):
        services.lead_transition(actor=world.advisor_a, lead=lead, to=LeadStatus.NEW)
    lead = _lead(world, status=LeadStatus.NURTURING, owner=world.advisor_a)
    with pytest.raises(ValidationError):
        services.lead_confirm(actor=world.advisor_a, lead=lead, grade="mid")
    assert not LeadTransition.objects.exists()


def test_claim_next_takes_highest_score_of_own_team(world):
    low = _lead(world, score=40.0)
    high = _lead(world, score=90.0)
    _lead(world, score=99.0, team=world.team_b)
    _lead(world, score=95.0, owner=world.advisor_a2)
    assert services.lead_claim_next(actor=world.advisor_a) == high
    assert services.lead_claim_next(actor=world.advisor_a) == low
    assert services.lead_claim_next(actor=world.advisor_a) is None
    high.refresh_from_db()
    assert high.owner == world.advisor_a
    assert "lead.claim" in _verbs(high)
    with pytest.raises(PermissionDenied):
        services.lead_claim_next(actor=world.lead_a)


# --- confirming the grade and routing ---------------------------------------------


def test_confirm_mid_routes_to_nurture_with_cadence_and_audit(world, settings):
    at_noon = dt.datetime(2026, 12, 2, 4, 0, tzinfo=dt.UTC)  # a Wednesday, 12:00 in Shanghai
    settings.WORKBENCH_NURTURE_TOUCHES = 3
    settings.WORKBENCH_NURTURE_PERIOD_DAYS = 14
    lead = _lead(world, proposed_grade=Grade.MID)
    services.lead_confirm(actor=world.advisor_a, lead=lead, grade="mid", now=at_noon)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NURTURING
    assert lead.confirmed_grade == "mid"
    assert lead.owner == world.advisor_a  # confirming an unowned team lead takes it
    hops = list(lead.transitions.order_by("id").values_list("from_status", "to_status", "actor_id"))
    assert hops == [("new", "confirmed", world.advisor_a.pk), ("confirmed", "nurturing", world.advisor_a.pk)]
    assert all(t.reason for t in lead.transitions.all())
    assert _verbs(lead).count("lead.transition") == 2
    assert "lead.confirm_grade" in _verbs(lead)
    plan = lead.nurture_plan
    assert (plan.touches_planned, plan.period_days, plan.touches_done) == (3, 14, 0)
    touch = PlannedCall.objects.get(lead=lead)
    assert touch.kind == "nurture" and touch.touch_no == 1 and touch.due_at == at_noon
    assert lead.next_touch_at == at_noon
    decision = GradeDecision.objects.get(lead=lead)
    assert not decision.overridden and decision.reason_code == ""


def test_confirm_low_goes_to_team_pool_unassigned(world):
    lead = _lead(world, proposed_grade=Grade.LOW)
    services.lead_confirm(actor=world.advisor_a, lead=lead, grade="low")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.POOLED
    assert lead.owner is None
    assert list(selectors.leads_pool(user=world.advisor_a2)) == [lead]  # the whole team sees it
    assert list(selectors.leads_pool(user=world.advisor_b)) == []


def test_override_needs_reason_code_and_is_recorded(world):
    lead = _lead(world, proposed_grade=Grade.MID)
    with pytest.raises(ValidationError) as exc:
        services.lead_confirm(actor=world.advisor_a, lead=lead, grade="low")
    assert "override" in str(exc.value) or "理由" in str(exc.value)
    lead.refresh_from_db()
    assert lead.status == "new" and not GradeDecision.objects.exists()
    assert not lead.transitions.exists()
    services.lead_confirm(actor=world.advisor_a, lead=lead, grade="low", reason_code="transcript_weaker")
    decision = GradeDecision.objects.get(lead=lead)
    assert decision.overridden and decision.reason_code == "transcript_weaker"
    assert (decision.proposed_grade, decision.confirmed_grade) == ("mid", "low")


def test_other_team_and_branch_staff_cannot_confirm(world):
    lead = _lead(world)
    for user in (world.advisor_b, world.manager_x, world.compliance):
        with pytest.raises(PermissionDenied):
            services.lead_confirm(actor=user, lead=lead, grade="mid")
    owned = _lead(world, owner=world.advisor_a2)
    with pytest.raises(PermissionDenied):
        services.lead_confirm(actor=world.advisor_a, lead=owned, grade="mid")
