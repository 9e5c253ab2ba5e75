"""Pooled leads come back to the queue when rescoring lifts their grade."""

from __future__ import annotations

import pytest
from django.utils import timezone

from customers.tests.factories import CustomerFactory
from leads import selectors
from leads.models import LeadStatus
from leads.tests.factories import LeadFactory
from scoring import tasks
from scoring.models import CustomerScore

pytestmark = pytest.mark.django_db


def _lead(world, customer=None, **kw):
    kw.setdefault("team", world.team_a)
    return LeadFactory(customer=customer or CustomerFactory(home_branch=world.branch_x), **kw)


def test_pooled_lead_resurfaces_when_rescoring_lifts_grade(world):
    lead = _lead(world, status=LeadStatus.POOLED, proposed_grade="low", confirmed_grade="low", score=12.0)
    CustomerScore.objects.create(
        customer=lead.customer,
        score=61.0,
        grade="mid",
        reasons=[{"code": "aum_up", "text": "近 30 天资产增长 20%"}],
        method="rules",
        scored_at=timezone.now(),
    )
    assert tasks.resurface_pool() == 1
    assert tasks.resurface_pool() == 0  # safe to run twice
    lead.refresh_from_db()
    assert (lead.status, lead.proposed_grade, lead.confirmed_grade, lead.score) == ("new", "mid", "", 61.0)
    assert lead.transitions.get().to_status == "new"
    assert lead in selectors.leads_to_confirm(user=world.advisor_a2)


def test_pooled_lead_stays_when_grade_not_lifted(world):
    lead = _lead(world, status=LeadStatus.POOLED, proposed_grade="low", confirmed_grade="low")
    CustomerScore.objects.create(
        customer=lead.customer, score=8.0, grade="low", method="rules", scored_at=timezone.now()
    )
    assert tasks.resurface_pool() == 0
    lead.refresh_from_db()
    assert lead.status == "pooled"
