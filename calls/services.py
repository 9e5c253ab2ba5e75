"""Writes of the advisor's working day: confirming and routing a lead, logging a call
and acting on its outcome.

These services compose the apps below: the lead's lifecycle (``leads.services``), the
referral to a branch (``referrals.services``), the customer's timeline and contact
preferences (``customers.services``), the outcome scoring learns from
(``scoring.services``) and the compliance scan of what the advisor wrote
(``compliance.surveillance``). Everything happens in the caller's transaction; work
for the workers is queued on commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from compliance.surveillance import request_scan
from core.audit import audit_record, records_refusals, refusal
from core.templatetags.formatting import cny
from customers.models import Channel, Customer, Direction, Product, TouchKind, ViewPlace
from customers.services.contact import contact_opt_out
from customers.services.interactions import interaction_record
from customers.services.ledger import ledger_record_manual_call
from customers.services.privacy import customer_view_record
from customers.suitability import product_suitability_stored, suitability_require_sale
from leads import services as lead_services
from leads.access import can_call_lead
from leads.models import Grade, Lead, LeadStatus
from org.calendar import Calendar
from referrals.services import referral_create
from scoring.models import OutcomeSource
from scoring.services.outcomes import outcome_record

from .models import CallLog, CallPurpose, Disposition, LostReason, NextAction
from .policy import contact_policy_verdict

S = LeadStatus


# --- opening the call screen --------------------------------------------------------------


def lead_view_record(*, actor, lead: Lead, page: str = ViewPlace.CALL_SCREEN, user_agent: str = "") -> None:
    """Opening a lead's call screen (or its product check) shows the customer's personal
    data: the PIPL access record, as for every page about one customer."""
    customer_view_record(
        actor=actor, customer=lead.customer_id, page=page, details={"lead": lead.pk}, user_agent=user_agent
    )


# --- confirming the grade and routing ---------------------------------------------------


@transaction.atomic
def lead_confirm_grade(
    *,
    actor,
    lead: Lead,
    grade: str,
    reason_code: str = "",
    note: str = "",
    branch=None,
    branch_reason: str = "",
    needs_summary: str = "",
    products_of_interest: Iterable[dict] = (),
    preferred_contact_time: str = "",
    now: dt.datetime | None = None,
) -> Lead:
    """Confirm the grade of a new lead and route it: high → referral to a branch,
    mid → nurture cadence, low → incubation pool. An override needs a reason code."""
    lead = lead_services.lead_confirm(actor=actor, lead=lead, grade=grade, reason_code=reason_code, note=note, now=now)
    if grade != Grade.HIGH:
        return lead
    return lead_refer(
        actor=actor,
        lead=lead,
        branch=branch,
        branch_reason=branch_reason,
        needs_summary=needs_summary or note,
        products_of_interest=products_of_interest,
        preferred_contact_time=preferred_contact_time,
    )


def lead_refer(
    *,
    actor,
    lead: Lead,
    branch=None,
    branch_reason: str = "",
    needs_summary: str = "",
    products_of_interest: Iterable[dict] = (),
    preferred_contact_time: str = "",
) -> Lead:
    """Hand ``lead`` to a branch: the referral (with its checks and notifications) and
    the lead's move to referred, in the caller's transaction."""
    referral = referral_create(
        actor=actor,
        lead=lead,
        branch=branch,
        branch_reason=branch_reason,
        needs_summary=needs_summary,
        products_of_interest=list(products_of_interest),
        preferred_contact_time=preferred_contact_time,
    )
    return lead_services.lead_mark_referred(actor=actor, lead=lead, branch=referral.branch)


# --- logging a call -----------------------------------------------------------------------


def product_checks(*, customer: Customer, products: Iterable[Product], today: dt.date) -> list[dict]:
    """The suitability verdict of each product for the customer, as stored on the call."""
    checks = []
    for product in products:
        verdict = product_suitability_stored(customer=customer, product=product, today=today)
        checks.append({"product_id": product.pk, "code": product.code, "name": product.name, **verdict})
    return checks


@dataclass(frozen=True)
class CallEntry:
    """What an advisor logs about one call: the call form's fields, or an API client's."""

    idempotency_key: str
    disposition: Disposition
    started_at: dt.datetime
    ended_at: dt.datetime | None = None
    duration_seconds: int | None = None
    purpose: str = CallPurpose.MARKETING
    service_reason: str = ""
    interest: str = "none"
    products: Sequence[Product] = ()
    needs: Sequence = ()
    notes: str = ""
    next_action: str = NextAction.NONE
    callback_at: dt.datetime | None = None
    won_product: Product | None = None
    won_amount: Decimal | None = None
    lost_reason: str = ""
    script_version_id: int | None = None
    touch_kind: str = TouchKind.NONE  # what the call was for the 12-4-2-1 cadence
    # The seller confirms the second-level review and the extra risk explanation (a sale
    # of an R4/R5 product to a customer of 65 or over needs it: customers.suitability).
    second_review: bool = False
    branch: object | None = None  # the branch for a referral (default: the customer's home branch)

    @property
    def key(self) -> str:
        return (self.idempotency_key or "").strip()[:64]

    @property
    def all_products(self) -> list[Product]:
        """The products discussed, with the product sold among them."""
        products = list(self.products)
        if self.won_product is not None and self.won_product not in products:
            products.append(self.won_product)
        return products

    def errors(self, *, now: dt.datetime) -> dict[str, str]:
        """What is wrong with the entry on its own (before the lead and policy checks)."""
        errors: dict[str, str] = {}
        if not self.disposition.active:
            errors["disposition"] = _("This disposition is no longer in use.")
        if self.started_at > now + dt.timedelta(minutes=5):
            errors["started_at"] = _("The call cannot start in the future.")
        if self.ended_at is not None and self.ended_at < self.started_at:
            errors["ended_at"] = _("The call cannot end before it started.")
        if self.next_action not in NextAction.values:
            errors["next_action"] = _("Choose a next action.")
        if self.next_action == NextAction.CALLBACK and (
            self.callback_at is None or self.callback_at <= now or not Calendar.load().in_call_slot(self.callback_at)
        ):
            # Callbacks are planned inside call hours on a working day, never in the past.
            errors["callback_at"] = lead_services.callback_time_error(self.callback_at)
        if self.next_action == NextAction.WON:
            if self.won_product is None:
                errors["won_product"] = _("Choose the product the customer bought.")
            if self.won_amount is None or self.won_amount <= 0:
                errors["won_amount"] = _("Enter the amount bought (more than 0).")
        if self.next_action == NextAction.LOST and not self.lost_reason:
            errors["lost_reason"] = _("Choose why the lead was lost.")
        if (
            self.next_action in (NextAction.WON, NextAction.REFER, NextAction.NURTURE)
            and not self.disposition.effective
        ):
            errors["next_action"] = _("This next action needs an effective conversation with the customer.")
        if self.touch_kind not in TouchKind.values or self.touch_kind == TouchKind.REPORT:
            errors["touch_kind"] = _("Choose a themed interaction, an allocation review or none.")
        elif self.touch_kind and not self.disposition.effective:
            errors["touch_kind"] = _("A call counts as a cadence touch only after an effective conversation.")
        if self.purpose == CallPurpose.SERVICE and not self.service_reason.strip():
            errors["service_reason"] = _("A service call needs a reason.")
        return errors


@records_refusals
@transaction.atomic
def call_log_create(*, actor, lead: Lead, entry: CallEntry, now: dt.datetime | None = None) -> tuple[CallLog, bool]:
    """Log a call on ``lead`` and act on its outcome. Returns (call, created).

    The same ``idempotency_key`` returns the first call unchanged: a double click or a
    retry after a network error logs one call. Nothing is written when the contact
    policy forbids a marketing call or the input is invalid (ValidationError).
    """
    now = now or timezone.now()
    existing = _call_for_key(actor=actor, entry=entry)
    if existing is not None:
        return existing, False

    lead = lead_services.lead_lock(lead)
    lead_services.lead_require_work(actor=actor, lead=lead)
    if not can_call_lead(actor, lead):
        raise ValidationError(_("This lead is closed; calls can no longer be logged on it."), code="closed")
    errors = entry.errors(now=now)
    if errors:
        raise ValidationError(errors)
    checks = _checked_products(customer=lead.customer, entry=entry, now=now)
    verdict = contact_policy_verdict(customer=lead.customer, now=entry.started_at)
    if entry.purpose == CallPurpose.MARKETING and not verdict.allowed:
        raise refusal(
            ValidationError({"purpose": verdict.messages}),
            actor=actor,
            verb="call.refused_by_policy",
            target=lead,
            details={"customer": lead.customer_id, "blocks": verdict.codes},
        )

    try:
        with transaction.atomic():
            call = _call_write(actor=actor, lead=lead, entry=entry, checks=checks)
    except IntegrityError:
        # A concurrent submit with the same key won the race: return its call.
        return CallLog.objects.get(idempotency_key=entry.key), False
    _call_audit(actor=actor, lead=lead, call=call, entry=entry, verdict=verdict)
    if entry.purpose == CallPurpose.MARKETING:
        ledger_record_manual_call(customer_id=lead.customer_id, call_log_id=call.pk, at=call.started_at)
    _call_record_on_timeline(actor=actor, call=call)
    lead_services.planned_calls_complete(lead=lead, call_log_id=call.pk, now=now)
    _apply_next_action(actor=actor, lead=lead, call=call, branch=entry.branch, now=now)
    _call_request_scan(actor=actor, call=call)
    # No rescoring here: outcome_record queues the customer's rescore after commit.
    return call, True


def _call_for_key(*, actor, entry: CallEntry) -> CallLog | None:
    """The call already logged with this submission key (a double submit), if any."""
    if not entry.key:
        raise ValidationError(_("The form is missing its submission key; reload the page."), code="key")
    existing = CallLog.objects.filter(idempotency_key=entry.key).first()
    if existing is not None and existing.advisor_id != actor.pk:
        raise ValidationError(_("This submission key belongs to another call."), code="key")
    return existing


def _checked_products(*, customer: Customer, entry: CallEntry, now: dt.datetime) -> list[dict]:
    """Suitability of every product discussed; the sale itself must pass the sale rule
    (``suitability_require_sale``: the same as a referral's conversion)."""
    today = timezone.localdate(now)
    checks = product_checks(customer=customer, products=entry.all_products, today=today)
    if entry.next_action == NextAction.WON:
        try:
            verdict = suitability_require_sale(
                customer=customer,
                product=entry.won_product,
                amount=entry.won_amount,
                second_review=entry.second_review,
                today=today,
            )
        except ValidationError as exc:
            field = "second_review" if exc.code == "second_review" else "won_product"
            raise ValidationError({field: exc.messages}) from None
        check = next(c for c in checks if c["product_id"] == entry.won_product.pk)
        check["second_review_confirmed"] = bool(verdict.needs_second_review)
    return checks


def _call_write(*, actor, lead: Lead, entry: CallEntry, checks: list[dict]) -> CallLog:
    duration = entry.duration_seconds
    if duration is None:
        duration = int((entry.ended_at - entry.started_at).total_seconds()) if entry.ended_at else 0
    action = entry.next_action
    call = CallLog.objects.create(
        lead=lead,
        customer=lead.customer,
        advisor=actor,
        idempotency_key=entry.key,
        purpose=entry.purpose,
        service_reason=entry.service_reason.strip()[:300] if entry.purpose == CallPurpose.SERVICE else "",
        started_at=entry.started_at,
        ended_at=entry.ended_at,
        duration_seconds=max(duration, 0),
        disposition=entry.disposition,
        interest=entry.interest,
        product_checks=checks,
        notes=entry.notes,
        next_action=action,
        callback_at=entry.callback_at if action == NextAction.CALLBACK else None,
        won_product=entry.won_product if action == NextAction.WON else None,
        won_amount=entry.won_amount if action == NextAction.WON else None,
        lost_reason=entry.lost_reason if action == NextAction.LOST else "",
        script_version_id=entry.script_version_id,
        touch_kind=entry.touch_kind,
    )
    products = entry.all_products
    if products:
        call.products.set(products)
    if entry.needs:
        call.needs.set(list(entry.needs))
    return call


def _call_audit(*, actor, lead: Lead, call: CallLog, entry: CallEntry, verdict) -> None:
    audit_record(
        actor=actor,
        verb="call.log",
        target=call,
        details={
            "lead": lead.pk,
            "disposition": entry.disposition.code,
            "next_action": entry.next_action,
            "purpose": entry.purpose,
            "script_version_id": entry.script_version_id,
        },
    )
    if entry.purpose == CallPurpose.SERVICE and not verdict.allowed:
        audit_record(
            actor=actor,
            verb="call.policy_override",
            target=call,
            details={"blocks": verdict.codes, "reason": call.service_reason},
        )


def _call_record_on_timeline(*, actor, call: CallLog) -> None:
    """The phone interaction on the customer's timeline and the outcome scoring learns
    from, both keyed by the call so a retry adds neither twice."""
    if call.purpose == CallPurpose.SERVICE:
        summary = _("Service call (%(reason)s): %(disposition)s; next: %(action)s") % {
            "reason": call.service_reason,
            "disposition": call.disposition.label,
            "action": NextAction(call.next_action).label,
        }
    else:
        summary = _("Outbound call: %(disposition)s; next: %(action)s") % {
            "disposition": call.disposition.label,
            "action": NextAction(call.next_action).label,
        }
    # The notes are scanned once, as the call's own communication (below).
    interaction, _created = interaction_record(
        actor=actor,
        customer=call.customer,
        channel=Channel.PHONE,
        direction=Direction.OUTBOUND,
        occurred_at=call.started_at,
        summary=summary,
        external_id=f"call:{call.idempotency_key}",
        touch_kind=call.touch_kind,
    )
    outcome = outcome_record(
        customer=call.customer,
        contacted_at=call.started_at,
        channel=Channel.PHONE,
        converted=call.next_action == NextAction.WON,
        amount=call.won_amount,
        product=call.won_product,
        source=OutcomeSource.CALL,
        external_key=f"call:{call.idempotency_key}",
    )
    call.interaction = interaction
    call.outcome = outcome
    call.save(update_fields=["interaction", "outcome"])


def _apply_next_action(*, actor, lead: Lead, call: CallLog, branch, now: dt.datetime) -> None:
    action = call.next_action
    if lead.status in (S.NEW, S.CONFIRMED):
        lead = lead_services.lead_transition(
            actor=actor, lead=lead, to=S.CONTACTING, reason=gettext_lazy("Call logged")
        )
    if action == NextAction.CALLBACK:
        lead_services.callback_plan(actor=actor, lead=lead, due_at=call.callback_at, note=call.disposition.label)
    elif action == NextAction.NURTURE:
        lead_services.lead_nurture(actor=actor, lead=lead, now=now)
    elif action == NextAction.REFER:
        if lead.status != S.REFERRED:
            lead_refer(
                actor=actor,
                lead=lead,
                branch=branch,
                needs_summary=call.notes,
                products_of_interest=[c for c in call.product_checks if c["allowed"]],
            )
    elif action == NextAction.WON:
        lead_services.lead_transition(
            actor=actor,
            lead=lead,
            to=S.WON,
            reason=lambda: (
                _("Won: %(product)s, %(amount)s") % {"product": call.won_product.name, "amount": cny(call.won_amount)}
            ),
        )
        lead_services.lead_plans_cancel(lead=lead)
    elif action == NextAction.LOST:
        lead_services.lead_transition(actor=actor, lead=lead, to=S.LOST, reason=LostReason(call.lost_reason).label)
        lead_services.lead_plans_cancel(lead=lead)
    elif action == NextAction.OPT_OUT:
        contact_opt_out(
            actor=actor, customer=lead.customer, channel=Channel.PHONE, reason=_("Opted out on a call"), now=now
        )
        lead_services.lead_transition(
            actor=actor, lead=lead, to=S.CLOSED, reason=gettext_lazy("Customer opted out of calls")
        )
        lead_services.lead_plans_cancel(lead=lead)


def _call_request_scan(*, actor, call: CallLog) -> None:
    """What the advisor wrote about the call goes to compliance surveillance."""
    text = call.notes.strip()
    if not text:
        return
    request_scan(
        source="call_note",
        object_id=call.pk,
        text=text,
        advisor_id=actor.pk,
        customer_id=call.customer_id,
        occurred_at=call.started_at,
        source_url=reverse("calls:call", args=[call.lead_id]) if call.lead_id else "",
    )
