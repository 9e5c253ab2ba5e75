"""The advisor's workflow (services): confirming a high lead refers it, logging a call
and everything its outcome does. (The lead lifecycle itself: leads/tests.)"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from calls import models as m
from calls import services
from calls.tests.factories import disposition
from core.models import AuditEvent
from customers.models import ContactPreference, Interaction
from customers.tests.factories import ContactPreferenceFactory, CustomerFactory, HoldingFactory, ProductFactory
from leads import selectors
from leads.models import Grade, LeadStatus, PlannedCall
from leads.tests.factories import LeadFactory
from org.calendar import Calendar
from referrals.models import Referral, ReferralStatus
from scoring.models import Outcome

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


# --- confirming and referring ------------------------------------------------------------


def test_confirm_high_creates_referral_to_home_branch(world):
    lead = _lead(world, proposed_grade=Grade.HIGH, score=88.0)
    services.lead_confirm_grade(actor=world.advisor_a, lead=lead, grade="high", note="到期资金 80 万")
    lead.refresh_from_db()
    assert lead.status == LeadStatus.REFERRED
    referral = Referral.objects.get(lead=lead)
    assert referral.status == ReferralStatus.PENDING
    assert referral.branch == world.branch_x
    assert referral.from_advisor == world.advisor_a
    assert list(lead.transitions.order_by("id").values_list("to_status", flat=True)) == ["confirmed", "referred"]


# --- calls ----------------------------------------------------------------------------


def _call(world, lead, at, **kw):
    kw.setdefault("idempotency_key", "k-1")
    kw.setdefault("disposition", disposition("effective"))
    kw.setdefault("started_at", at)
    kw.setdefault("now", at + dt.timedelta(minutes=5))
    actor, now = kw.pop("actor", world.advisor_a), kw.pop("now")
    return services.call_log_create(actor=actor, lead=lead, entry=services.CallEntry(**kw), now=now)


def test_call_is_idempotent_and_has_its_side_effects(
    world, callable_customer, at_noon, recorded, django_capture_on_commit_callbacks
):
    lead = _lead(world, callable_customer, owner=world.advisor_a)
    with django_capture_on_commit_callbacks(execute=True):
        call, created = _call(world, lead, at_noon, notes="客户关心到期再投资，提到保本")
    again, created_again = _call(world, lead, at_noon, notes="客户关心到期再投资，提到保本")
    assert created and not created_again and again.pk == call.pk
    assert m.CallLog.objects.count() == 1
    assert Interaction.objects.filter(customer=callable_customer, channel="phone").count() == 1
    assert Outcome.objects.filter(customer=callable_customer, external_key=f"call:{call.idempotency_key}").count() == 1
    call.refresh_from_db()
    assert call.interaction_id and call.outcome_id
    assert recorded.scans == [
        {
            "source": "call_note",
            "object_id": call.pk,
            "text": "客户关心到期再投资，提到保本",
            "advisor_id": world.advisor_a.pk,
            "customer_id": callable_customer.pk,
            "occurred_at": at_noon,
            "source_url": f"/leads/{lead.pk}/",  # where the reviewer opens the call
        }
    ]
    assert recorded.rescored == [callable_customer.pk]
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTING
    assert _verbs(call) == ["call.log"]


def test_callback_appears_in_todays_calls_at_its_day(world, callable_customer, at_noon):
    lead = _lead(world, callable_customer, owner=world.advisor_a)
    tomorrow_10 = (timezone.localtime(at_noon) + dt.timedelta(days=1)).replace(hour=10)
    _call(world, lead, at_noon, disposition=disposition("callback"), next_action="callback", callback_at=tomorrow_10)
    planned = PlannedCall.objects.get(lead=lead)
    assert planned.kind == "callback" and planned.due_at == tomorrow_10 and planned.advisor == world.advisor_a
    assert list(selectors.planned_calls(user=world.advisor_a, when="today", now=at_noon)) == []
    assert list(selectors.planned_calls(user=world.advisor_a, when="tomorrow", now=at_noon)) == [planned]
    next_day = at_noon + dt.timedelta(days=1)
    assert list(selectors.planned_calls(user=world.advisor_a, when="today", now=next_day)) == [planned]
    assert list(selectors.planned_calls(user=world.advisor_a2, when="all")) == []


def test_callback_in_the_past_is_refused_and_nothing_written(world, callable_customer, at_noon):
    lead = _lead(world, callable_customer, owner=world.advisor_a)
    with pytest.raises(ValidationError) as exc:
        _call(world, lead, at_noon, next_action="callback", callback_at=at_noon - dt.timedelta(hours=1))
    assert "callback_at" in exc.value.message_dict
    assert not m.CallLog.objects.exists() and not PlannedCall.objects.exists()


def test_call_completes_nurture_touch_and_plans_the_next(world, callable_customer, at_noon, settings):
    settings.WORKBENCH_NURTURE_TOUCHES = 3
    settings.WORKBENCH_NURTURE_PERIOD_DAYS = 14
    lead = _lead(world, callable_customer, proposed_grade="mid")
    services.lead_confirm_grade(actor=world.advisor_a, lead=lead, grade="mid", now=at_noon)
    _call(world, lead, at_noon + dt.timedelta(minutes=10))
    touches = list(PlannedCall.objects.filter(lead=lead).order_by("touch_no"))
    assert [(t.touch_no, t.status) for t in touches] == [(1, "done"), (2, "planned")]
    # A third of the period later, moved into the next call slot if it falls outside one.
    expected = Calendar.load().next_call_slot(at_noon + dt.timedelta(days=14) / 3)
    assert touches[1].due_at == expected and Calendar.load().in_call_slot(expected)
    lead.refresh_from_db()
    assert lead.status == "nurturing" and lead.nurture_plan.touches_done == 1
    assert lead.next_touch_at == touches[1].due_at  # the Nurturing queue sorts on this copy


def test_opt_out_sets_phone_dnd_for_180_days_and_closes(world, callable_customer, at_noon, settings):
    settings.WORKBENCH_OPT_OUT_DND_DAYS = 180
    lead = _lead(world, callable_customer, owner=world.advisor_a)
    _call(world, lead, at_noon, disposition=disposition("refused"), next_action="opt_out")
    pref = ContactPreference.objects.get(customer=callable_customer, channel="phone")
    assert pref.dnd_until >= at_noon + dt.timedelta(days=180)
    assert pref.opted_out_at is not None
    lead.refresh_from_db()
    assert lead.status == "closed"
    assert AuditEvent.objects.filter(verb="contact.opt_out", target_id=str(callable_customer.pk)).exists()
    other = _lead(world, callable_customer, owner=world.advisor_a)
    with pytest.raises(ValidationError) as exc:
        _call(world, other, at_noon + dt.timedelta(hours=1), idempotency_key="k-2")
    assert "免打扰" in " ".join(exc.value.message_dict["purpose"])


def test_won_records_conversion_and_outcome(world, callable_customer, at_noon):
    product = ProductFactory(risk_level=2)
    lead = _lead(world, callable_customer, owner=world.advisor_a)
    call, _ = _call(world, lead, at_noon, next_action="won", won_product=product, won_amount=Decimal("50000"))
    lead.refresh_from_db()
    assert lead.status == "won"
    outcome = Outcome.objects.get(pk=call.outcome_id)
    assert outcome.converted and outcome.amount == Decimal("50000") and outcome.product == product
    assert call.product_checks[0]["allowed"] is True
    # The lead's history writes the amount as the tables do (the cny filter), in both languages.
    won = lead.transitions.get(to_status="won")
    assert won.reason.endswith("，¥50,000.00") and won.reason_en.endswith(", ¥50,000.00")
    assert "元" not in won.reason and "CNY" not in won.reason_en


def test_won_with_unsuitable_product_is_refused(world, callable_customer, at_noon):
    risky = ProductFactory(risk_level=5)
    lead = _lead(world, callable_customer, owner=world.advisor_a)
    with pytest.raises(ValidationError) as exc:
        _call(world, lead, at_noon, next_action="won", won_product=risky, won_amount=Decimal("50000"))
    assert "won_product" in exc.value.message_dict
    assert not m.CallLog.objects.exists()
    lead.refresh_from_db()
    assert lead.status == "new"


def test_products_discussed_carry_suitability_warnings(world, at_noon):
    customer = CustomerFactory(risk_assessed_at=timezone.now() - dt.timedelta(days=400), risk_level=3)
    ContactPreferenceFactory(customer=customer, consent=True)
    lead = _lead(world, customer, owner=world.advisor_a)
    product = ProductFactory(risk_level=4)
    call, _ = _call(world, lead, at_noon, products=[product])
    check = call.product_checks[0]
    assert check["allowed"] is False and check["reasons"]


def test_lost_needs_reason(world, callable_customer, at_noon):
    lead = _lead(world, callable_customer, owner=world.advisor_a)
    with pytest.raises(ValidationError) as exc:
        _call(world, lead, at_noon, next_action="lost")
    assert "lost_reason" in exc.value.message_dict
    _call(world, lead, at_noon, next_action="lost", lost_reason="no_need")
    lead.refresh_from_db()
    assert lead.status == "lost"


def test_refer_from_call_creates_referral(world, callable_customer, at_noon):
    lead = _lead(world, callable_customer, owner=world.advisor_a)
    _call(world, lead, at_noon, next_action="refer", notes="希望到网点面谈")
    lead.refresh_from_db()
    assert lead.status == "referred"
    assert Referral.objects.filter(lead=lead).count() == 1


def test_marketing_call_blocked_by_policy_writes_nothing(world, at_noon):
    customer = CustomerFactory()  # no consent record at all
    lead = _lead(world, customer, owner=world.advisor_a)
    with pytest.raises(ValidationError) as exc:
        _call(world, lead, at_noon)
    assert "未同意" in " ".join(exc.value.message_dict["purpose"]) or "consent" in str(exc.value)
    assert not m.CallLog.objects.exists() and not Interaction.objects.exists()


def test_service_call_overrides_policy_with_reason_and_is_audited(world, at_noon):
    customer = CustomerFactory()
    lead = _lead(world, customer, owner=world.advisor_a)
    with pytest.raises(ValidationError) as exc:
        _call(world, lead, at_noon, purpose="service")
    assert "service_reason" in exc.value.message_dict
    call, created = _call(world, lead, at_noon, purpose="service", service_reason="理财到期兑付提醒")
    assert created and call.purpose == "service" and call.service_reason == "理财到期兑付提醒"
    override = AuditEvent.objects.get(verb="call.policy_override", target_id=str(call.pk))
    assert override.details["blocks"] == ["no_consent"]
    assert override.actor == world.advisor_a


def test_other_advisor_cannot_log_on_my_lead(world, callable_customer, at_noon):
    lead = _lead(world, callable_customer, owner=world.advisor_a)
    with pytest.raises(PermissionDenied):
        _call(world, lead, at_noon, actor=world.advisor_a2)
    assert not m.CallLog.objects.exists()


def test_cooling_off_blocks_marketing_call(world, callable_customer, at_noon):
    HoldingFactory(
        customer=callable_customer, product=ProductFactory(is_private=True), opened_on=timezone.localdate(at_noon)
    )
    lead = _lead(world, callable_customer, owner=world.advisor_a)
    with pytest.raises(ValidationError) as exc:
        _call(world, lead, at_noon)
    assert "冷静期" in " ".join(exc.value.message_dict["purpose"])
