"""The lead lifecycle: transitions and claiming (services)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from customers.tests.factories import CustomerFactory
from leads import services
from leads.models import LeadStatus, LeadTransition
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


