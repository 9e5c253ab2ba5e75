"""The call workflow against the real services of the other features (nothing recorded)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from calls import services
from calls.tests.factories import disposition
from compliance.lexicon_data import concept_groups_load_defaults, lexicon_load_defaults
from compliance.models import ConceptGroup, Flag, LexiconRule, LexiconRuleVersion
from customers.models import Interaction
from customers.tests.factories import CustomerFactory
from leads.tests.factories import LeadFactory
from referrals.models import Referral
from scoring.models import CustomerScore, Outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_for_real(monkeypatch):
    # The default lexicon comes from a data migration, which a transactional test flushes.
    if not LexiconRule.objects.exists():
        lexicon_load_defaults(LexiconRule, LexiconRuleVersion)
    if not ConceptGroup.objects.exists():
        concept_groups_load_defaults(ConceptGroup)
    monkeypatch.undo()  # drop the recorders of the autouse `recorded` fixture


def test_call_note_flagged_interaction_outcome_and_rescore(
    world, callable_customer, at_noon, run_for_real, django_capture_on_commit_callbacks
):
    lead = LeadFactory(customer=callable_customer, team=world.team_a, owner=world.advisor_a)
    with django_capture_on_commit_callbacks(execute=True):
        call, created = services.call_log_create(
            actor=world.advisor_a,
            lead=lead,
            entry=services.CallEntry(
                idempotency_key="real-1",
                disposition=disposition("effective"),
                started_at=at_noon,
                notes="我跟客户说这款产品保本保收益，稳赚不赔",
                next_action="nurture",
            ),
            now=at_noon + dt.timedelta(minutes=5),
        )
    assert created
    call.refresh_from_db()
    interaction = Interaction.objects.get(pk=call.interaction_id)
    assert interaction.channel == "phone" and interaction.external_id == "call:real-1"
    outcome = Outcome.objects.get(pk=call.outcome_id)
    assert outcome.features, "the point-in-time feature snapshot is stored"
    assert outcome.converted is False
    flags = Flag.objects.filter(source="call_note")
    assert flags.exists(), "a prohibited phrase in the note is flagged for compliance review"
    assert CustomerScore.objects.filter(customer=callable_customer).exists()  # rescored on commit
    lead.refresh_from_db()
    assert lead.status == "nurturing" and lead.next_touch_at > timezone.now() - dt.timedelta(days=30)


def test_confirm_high_with_real_referral_create(world, run_for_real):
    lead = LeadFactory(customer=CustomerFactory(home_branch=world.branch_x), team=world.team_a, proposed_grade="high")
    services.lead_confirm_grade(actor=world.advisor_a, lead=lead, grade="high", note="到期资金约 80 万，想面谈")
    referral = Referral.objects.get(lead=lead)
    assert referral.branch == world.branch_x and referral.status == "pending"
    assert referral.review_due_at is not None  # SLA set by the referrals feature
    lead.refresh_from_db()
    assert lead.status == "referred"
