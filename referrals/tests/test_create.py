import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEvent, Notification
from customers.tests.factories import ProductFactory
from referrals.models import ReferralEvent, ReferralStatus
from referrals.services import referral_create

from .factories import high_lead


@pytest.fixture
def lead(world):
    return high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)


def test_referral_create_pending_with_sla_copied_fields_audit_and_notification(world, lead):
    product = ProductFactory(risk_level=2)
    risky = ProductFactory(risk_level=5)
    referral = referral_create(
        actor=world.advisor_a,
        lead=lead,
        needs_summary="50 万到期，想面谈配置",
        products_of_interest=[{"product_id": product.pk, "amount": "200000"}, {"code": risky.code}],
        preferred_contact_time="工作日晚上",
    )
    assert referral.status == ReferralStatus.PENDING
    assert referral.branch == world.branch_x
    assert referral.from_advisor == world.advisor_a
    assert referral.score == 86.5
    assert referral.reasons[0]["code"] == "maturity_soon"
    assert referral.review_due_at > referral.created_at
    assert referral.review_due_at - referral.created_at >= dt.timedelta(hours=23)
    highlights = referral.ai_highlights
    assert highlights and "50万" in highlights[0]["turns"][0]
    rows = {p["code"]: p for p in referral.products_of_interest}
    assert rows[product.code]["allowed"] is True
    assert rows[risky.code]["allowed"] is False and rows[risky.code]["reasons"]
    assert AuditEvent.objects.filter(verb="referral.create", target_id=str(referral.pk)).count() == 1
    assert ReferralEvent.objects.filter(referral=referral, verb="create").count() == 1
    notes = Notification.objects.filter(recipient=world.manager_x)
    assert notes.count() == 1 and notes[0].url.endswith(f"/referrals/{referral.pk}/")
    assert not Notification.objects.filter(recipient=world.manager_y).exists()


def test_referral_to_other_branch_needs_reason_and_changes_nothing(world, lead):
    with pytest.raises(ValidationError):
        referral_create(actor=world.advisor_a, lead=lead, branch=world.branch_y)
    assert not lead.referrals.exists()
    referral = referral_create(actor=world.advisor_a, lead=lead, branch=world.branch_y, branch_reason="客户常住徐汇")
    assert referral.branch == world.branch_y
    assert Notification.objects.filter(recipient=world.manager_y).count() == 1


def test_second_open_referral_for_same_lead_is_refused(world, lead):
    referral_create(actor=world.advisor_a, lead=lead)
    with pytest.raises(ValidationError):
        referral_create(actor=world.advisor_a, lead=lead)
    assert lead.referrals.count() == 1
