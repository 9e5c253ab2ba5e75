"""Writes of the lead queues and the call workflow (issue 5).

Every change of a lead's status goes through ``_lead_transition``, which enforces the
lifecycle below and writes a LeadTransition row and an AuditEvent in the caller's
transaction. Other features are reached through the functions named in CONTRACTS.md,
imported when first used (``_contract``) so that this module loads while they are built.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from workbench.audit import audit_record
from workbench.roles import Role, role_of

from .models import (
    CallLog,
    CallPurpose,
    Disposition,
    Grade,
    GradeDecision,
    Lead,
    LeadStatus,
    LeadTransition,
    NextAction,
    NurturePlan,
    PlannedCall,
    PlannedCallKind,
    PlannedCallStatus,
)
from .policy import contact_policy_verdict

S = LeadStatus
# The lead lifecycle: new → confirmed → contacting → nurturing / referred / pooled →
# won / lost / closed. Confirmation routes at once (high → referred, mid → nurturing,
# low → pooled); a pooled lead goes back to new when rescoring lifts its grade.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.CONFIRMED, S.CONTACTING, S.CLOSED}),
    S.CONFIRMED: frozenset({S.CONTACTING, S.NURTURING, S.REFERRED, S.POOLED, S.CLOSED}),
    S.CONTACTING: frozenset({S.NURTURING, S.REFERRED, S.POOLED, S.WON, S.LOST, S.CLOSED}),
    S.NURTURING: frozenset({S.CONTACTING, S.REFERRED, S.POOLED, S.WON, S.LOST, S.CLOSED}),
    S.REFERRED: frozenset({S.NURTURING, S.WON, S.LOST, S.CLOSED}),
    S.POOLED: frozenset({S.NEW, S.CLOSED}),
    S.WON: frozenset(),
    S.LOST: frozenset(),
    S.CLOSED: frozenset(),
}
GRADE_RANK = {Grade.LOW: 0, Grade.MID: 1, Grade.HIGH: 2}


def _contract(module: str, name: str):
    """A function another feature provides (see CONTRACTS.md), looked up at call time."""
    return getattr(importlib.import_module(module), name)


# --- access ------------------------------------------------------------------------


def _profile_team_id(user) -> int | None:
    profile = getattr(user, "staff_profile", None)
    return profile.team_id if profile else None


def _check_can_work(*, actor, lead: Lead) -> None:
    """Advisors work their own leads and their team's unowned ones; team leads their team's."""
    role = role_of(actor)
    team_id = _profile_team_id(actor)
    if role == Role.ADMIN:
        return
    if role == Role.ADVISOR and (
        lead.owner_id == actor.pk or (lead.owner_id is None and lead.team_id == team_id and team_id is not None)
    ):
        return
    if role == Role.TEAM_LEAD and lead.team_id == team_id and team_id is not None:
        return
    raise PermissionDenied(_("You cannot work on this lead."))


def _lock(lead: Lead) -> Lead:
    return Lead.objects.select_for_update().get(pk=lead.pk)


# --- transitions -------------------------------------------------------------------


def _lead_transition(*, actor, lead: Lead, to: str, reason: str = "", **updates: Any) -> Lead:
    """Move ``lead`` (locked by the caller) to ``to``, with history and audit."""
    if to not in ALLOWED_TRANSITIONS[lead.status]:
        raise ValidationError(
            _("A lead cannot go from “%(from)s” to “%(to)s”.") % {"from": S(lead.status).label, "to": S(to).label},
            code="invalid_transition",
        )
    previous = lead.status
    reason = str(reason)
    lead.status = to
    for name, value in updates.items():
        setattr(lead, name, value)
    lead.save(update_fields=["status", "updated_at", *updates])
    LeadTransition.objects.create(lead=lead, from_status=previous, to_status=to, actor=actor, reason=reason[:300])
    audit_record(
        actor=actor,
        verb="lead.transition",
        target=lead,
        details={"from": previous, "to": to, "reason": reason, **{k: str(v) for k, v in updates.items()}},
    )
    return lead


@transaction.atomic
def lead_follow_referral(*, actor, lead: Lead, to: str, reason: str) -> Lead | None:
    """Move a referred lead after the branch's decision: back to nurturing (rejected or
    returned: the advisor's nurture cadence starts again), won or lost.

    A lead the advisor has already moved on (closed, ...) is left alone: returns None.
    The branch staff acting here are not the lead's team, so no work check applies.
    """
    lead = _lock(lead)
    if lead.status != S.REFERRED:
        return None
    now = timezone.now()
    lead = _lead_transition(actor=actor, lead=lead, to=to, reason=reason)
    if to == S.NURTURING:
        nurture_plan_start(actor=actor, lead=lead, now=now)
    return lead


@transaction.atomic
def lead_close(*, actor, lead: Lead, reason: str) -> Lead:
    if not reason.strip():
        raise ValidationError(_("Give a reason for closing the lead."), code="reason_required")
    lead = _lock(lead)
    _check_can_work(actor=actor, lead=lead)
    lead = _lead_transition(actor=actor, lead=lead, to=S.CLOSED, reason=reason.strip())
    _cancel_planned(lead=lead)
    return lead


# --- claiming ----------------------------------------------------------------------


@transaction.atomic
def lead_claim_next(*, actor) -> Lead | None:
    """Give ``actor`` the highest-score unclaimed new lead of their team, atomically.

    ``SKIP LOCKED`` lets concurrent advisors each take a different row instead of
    waiting on (and then double-taking) the same one.
    """
    if role_of(actor) != Role.ADVISOR:
        raise PermissionDenied(_("Only remote advisors claim leads."))
    team_id = _profile_team_id(actor)
    lead = (
        Lead.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(team_id=team_id, status=S.NEW, owner__isnull=True)
        .order_by("-score", "id")
        .first()
    )
    if lead is None:
        return None
    lead.owner = actor
    lead.save(update_fields=["owner", "updated_at"])
    audit_record(actor=actor, verb="lead.claim", target=lead, details={"score": lead.score})
    return lead


@transaction.atomic
def lead_claim(*, actor, lead: Lead) -> Lead:
    """Claim one given lead (from a queue row): only when still unowned."""
    lead = _lock(lead)
    _check_can_work(actor=actor, lead=lead)
    if lead.owner_id == actor.pk:
        return lead
    if role_of(actor) != Role.ADVISOR:
        raise PermissionDenied(_("Only remote advisors claim leads."))
    lead.owner = actor
    lead.save(update_fields=["owner", "updated_at"])
    audit_record(actor=actor, verb="lead.claim", target=lead, details={"score": lead.score})
    return lead


# --- confirmation and routing ------------------------------------------------------


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
    from .models import GradeOverrideReason

    now = now or timezone.now()
    if grade not in Grade.values:
        raise ValidationError(_("Choose a grade: high, mid or low."), code="grade")
    lead = _lock(lead)
    _check_can_work(actor=actor, lead=lead)
    if lead.status != S.NEW:
        raise ValidationError(_("This lead has already been confirmed."), code="not_new")
    overridden = grade != lead.proposed_grade
    if overridden and reason_code not in GradeOverrideReason.values:
        raise ValidationError(
            _("You changed the proposed grade: choose a reason code for the override."), code="reason_required"
        )
    if overridden and reason_code == GradeOverrideReason.OTHER and not note.strip():
        raise ValidationError(_("Describe the reason for the override."), code="note_required")
    if lead.owner_id is None and role_of(actor) == Role.ADVISOR:
        lead.owner = actor  # confirming an unowned team lead takes it
        lead.save(update_fields=["owner", "updated_at"])
    GradeDecision.objects.create(
        lead=lead,
        advisor=actor,
        proposed_grade=lead.proposed_grade,
        confirmed_grade=grade,
        overridden=overridden,
        reason_code=reason_code if overridden else "",
        note=note[:300],
        score=lead.score,
        model_version=lead.model_version,
    )
    reason = _("Grade confirmed as %(grade)s") % {"grade": Grade(grade).label}
    if overridden:
        reason += " · " + _("override: %(reason)s") % {"reason": GradeOverrideReason(reason_code).label}
    lead = _lead_transition(actor=actor, lead=lead, to=S.CONFIRMED, reason=reason, confirmed_grade=grade)
    audit_record(
        actor=actor,
        verb="lead.confirm_grade",
        target=lead,
        details={"proposed": lead.proposed_grade, "confirmed": grade, "overridden": overridden, "reason": reason_code},
    )
    if grade == Grade.HIGH:
        return _route_refer(
            actor=actor,
            lead=lead,
            branch=branch,
            branch_reason=branch_reason,
            needs_summary=needs_summary or note,
            products_of_interest=products_of_interest,
            preferred_contact_time=preferred_contact_time,
        )
    if grade == Grade.MID:
        return _route_nurture(actor=actor, lead=lead, now=now)
    return _lead_transition(
        actor=actor, lead=lead, to=S.POOLED, reason=_("Low grade: to the incubation pool"), owner=None
    )


def _route_refer(
    *, actor, lead: Lead, branch, branch_reason, needs_summary, products_of_interest, preferred_contact_time
) -> Lead:
    referral_create = _contract("leads.referrals.services", "referral_create")
    referral = referral_create(
        actor=actor,
        lead=lead,
        branch=branch,
        branch_reason=branch_reason,
        needs_summary=needs_summary,
        products_of_interest=list(products_of_interest),
        preferred_contact_time=preferred_contact_time,
    )
    # referral_create records the referral only; the lead's move is this service's.
    lead = _lead_transition(
        actor=actor, lead=lead, to=S.REFERRED, reason=_("Referred to %(branch)s") % {"branch": referral.branch}
    )
    _cancel_planned(lead=lead)
    return lead


def _route_nurture(*, actor, lead: Lead, now: dt.datetime) -> Lead:
    lead = _lead_transition(actor=actor, lead=lead, to=S.NURTURING, reason=_("Mid grade: nurture cadence"))
    nurture_plan_start(actor=actor, lead=lead, now=now)
    return lead


def _touch_interval(plan: NurturePlan) -> dt.timedelta:
    return dt.timedelta(days=plan.period_days) / max(plan.touches_planned, 1)


def nurture_plan_start(*, actor, lead: Lead, now: dt.datetime) -> NurturePlan:
    """Start (or restart) the nurture cadence of ``lead``: the first touch is due now."""
    advisor = lead.owner or actor
    plan, _created = NurturePlan.objects.update_or_create(
        lead=lead,
        defaults={
            "advisor": advisor,
            "touches_planned": settings.WORKBENCH_NURTURE_TOUCHES,
            "period_days": settings.WORKBENCH_NURTURE_PERIOD_DAYS,
            "started_at": now,
            "touches_done": 0,
            "next_touch_at": now,
            "active": True,
        },
    )
    PlannedCall.objects.filter(lead=lead, kind=PlannedCallKind.NURTURE, status=PlannedCallStatus.PLANNED).update(
        status=PlannedCallStatus.CANCELLED
    )
    PlannedCall.objects.create(
        lead=lead, customer_id=lead.customer_id, advisor=advisor, kind=PlannedCallKind.NURTURE, due_at=now, touch_no=1
    )
    Lead.objects.filter(pk=lead.pk).update(next_touch_at=now)
    audit_record(
        actor=actor,
        verb="nurture.start",
        target=lead,
        details={"touches": plan.touches_planned, "days": plan.period_days},
    )
    return plan


def _nurture_touch_done(*, lead: Lead, now: dt.datetime) -> None:
    plan = NurturePlan.objects.select_for_update().filter(lead=lead, active=True).first()
    if plan is None:
        return
    plan.touches_done += 1
    if plan.touches_done >= plan.touches_planned:
        plan.active = False
        plan.next_touch_at = None
    else:
        plan.next_touch_at = max(plan.started_at + _touch_interval(plan) * plan.touches_done, now)
        PlannedCall.objects.create(
            lead=lead,
            customer_id=lead.customer_id,
            advisor=plan.advisor,
            kind=PlannedCallKind.NURTURE,
            due_at=plan.next_touch_at,
            touch_no=plan.touches_done + 1,
        )
    plan.save(update_fields=["touches_done", "next_touch_at", "active"])
    Lead.objects.filter(pk=lead.pk).update(next_touch_at=plan.next_touch_at)


def _cancel_planned(*, lead: Lead) -> None:
    PlannedCall.objects.filter(lead=lead, status=PlannedCallStatus.PLANNED).update(status=PlannedCallStatus.CANCELLED)
    NurturePlan.objects.filter(lead=lead, active=True).update(active=False, next_touch_at=None)
    Lead.objects.filter(pk=lead.pk).update(next_touch_at=None)


# --- the incubation pool -------------------------------------------------------------


@transaction.atomic
def lead_resurface(*, actor, lead: Lead, grade: str, score: float | None, reasons=None) -> Lead | None:
    """Bring a pooled lead back to the team's To-confirm queue when its grade rose."""
    lead = _lock(lead)
    if lead.status != S.POOLED:
        return None
    if GRADE_RANK[grade] <= GRADE_RANK.get(lead.confirmed_grade or lead.proposed_grade, 0):
        return None
    updates: dict[str, Any] = {"proposed_grade": grade, "confirmed_grade": "", "score": score, "owner": None}
    if reasons is not None:
        updates["reasons"] = reasons
    return _lead_transition(
        actor=actor,
        lead=lead,
        to=S.NEW,
        reason=_("Rescoring lifted the grade to %(grade)s") % {"grade": Grade(grade).label},
        **updates,
    )


# --- calls ---------------------------------------------------------------------------


def _product_checks(*, customer, products, today) -> list[dict]:
    product_suitability = _contract("customers.suitability", "product_suitability")
    checks = []
    for product in products:
        verdict = product_suitability(customer=customer, product=product, today=today)
        checks.append(
            {
                "product_id": product.pk,
                "code": product.code,
                "name": product.name,
                "allowed": bool(verdict.allowed),
                "reasons": [str(r) for r in verdict.reasons],
                "needs_second_review": bool(getattr(verdict, "needs_second_review", False)),
            }
        )
    return checks


def _validate_call(
    *,
    disposition: Disposition,
    next_action: str,
    callback_at,
    won_product,
    won_amount,
    lost_reason,
    purpose,
    service_reason,
    started_at,
    ended_at,
    now,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not disposition.active:
        errors["disposition"] = _("This disposition is no longer in use.")
    if started_at > now + dt.timedelta(minutes=5):
        errors["started_at"] = _("The call cannot start in the future.")
    if ended_at is not None and ended_at < started_at:
        errors["ended_at"] = _("The call cannot end before it started.")
    if next_action not in NextAction.values:
        errors["next_action"] = _("Choose a next action.")
    if next_action == NextAction.CALLBACK and (callback_at is None or callback_at <= now):
        errors["callback_at"] = _("Give a future time for the callback.")
    if next_action == NextAction.WON:
        if won_product is None:
            errors["won_product"] = _("Choose the product the customer bought.")
        if won_amount is None or won_amount <= 0:
            errors["won_amount"] = _("Enter the amount bought (more than 0).")
    if next_action == NextAction.LOST and not lost_reason:
        errors["lost_reason"] = _("Choose why the lead was lost.")
    if next_action in (NextAction.WON, NextAction.REFER, NextAction.NURTURE) and not disposition.effective:
        errors["next_action"] = _("This next action needs an effective conversation with the customer.")
    if purpose == CallPurpose.SERVICE and not service_reason.strip():
        errors["service_reason"] = _("A service call needs a reason.")
    return errors


@transaction.atomic
def call_log_create(
    *,
    actor,
    lead: Lead,
    idempotency_key: str,
    disposition: Disposition,
    started_at: dt.datetime,
    ended_at: dt.datetime | None = None,
    duration_seconds: int | None = None,
    purpose: str = CallPurpose.MARKETING,
    service_reason: str = "",
    interest: str = "none",
    products=(),
    needs=(),
    notes: str = "",
    next_action: str = NextAction.NONE,
    callback_at: dt.datetime | None = None,
    won_product=None,
    won_amount: Decimal | None = None,
    lost_reason: str = "",
    script_version_id: int | None = None,
    branch=None,
    now: dt.datetime | None = None,
) -> tuple[CallLog, bool]:
    """Log a call on ``lead`` and act on its outcome. Returns (call, created).

    The same ``idempotency_key`` returns the first call unchanged: a double click or a
    retry after a network error logs one call. Nothing is written when the contact
    policy forbids a marketing call or the input is invalid (ValidationError).
    """
    now = now or timezone.now()
    key = (idempotency_key or "").strip()[:64]
    if not key:
        raise ValidationError(_("The form is missing its submission key; reload the page."), code="key")
    existing = CallLog.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.advisor_id != actor.pk:
            raise ValidationError(_("This submission key belongs to another call."), code="key")
        return existing, False

    lead = _lock(lead)
    _check_can_work(actor=actor, lead=lead)
    if not lead.is_open:
        raise ValidationError(_("This lead is closed; calls can no longer be logged on it."), code="closed")
    customer = lead.customer
    products = list(products)
    errors = _validate_call(
        disposition=disposition,
        next_action=next_action,
        callback_at=callback_at,
        won_product=won_product,
        won_amount=won_amount,
        lost_reason=lost_reason,
        purpose=purpose,
        service_reason=service_reason,
        started_at=started_at,
        ended_at=ended_at,
        now=now,
    )
    if errors:
        raise ValidationError(errors)
    if won_product is not None and won_product not in products:
        products.append(won_product)
    checks = _product_checks(customer=customer, products=products, today=timezone.localdate(now))
    if next_action == NextAction.WON:
        check = next(c for c in checks if c["product_id"] == won_product.pk)
        if not check["allowed"]:
            raise ValidationError(
                {
                    "won_product": _("This sale cannot be pursued: %(reasons)s")
                    % {"reasons": "；".join(check["reasons"])}
                }
            )

    verdict = contact_policy_verdict(customer=customer, now=started_at)
    if purpose == CallPurpose.MARKETING and not verdict.allowed:
        raise ValidationError({"purpose": verdict.messages})

    if duration_seconds is None:
        duration_seconds = int((ended_at - started_at).total_seconds()) if ended_at else 0
    try:
        with transaction.atomic():
            call = CallLog.objects.create(
                lead=lead,
                customer=customer,
                advisor=actor,
                idempotency_key=key,
                purpose=purpose,
                service_reason=service_reason.strip()[:300] if purpose == CallPurpose.SERVICE else "",
                started_at=started_at,
                ended_at=ended_at,
                duration_seconds=max(duration_seconds, 0),
                disposition=disposition,
                interest=interest,
                product_checks=checks,
                notes=notes,
                next_action=next_action,
                callback_at=callback_at if next_action == NextAction.CALLBACK else None,
                won_product=won_product if next_action == NextAction.WON else None,
                won_amount=won_amount if next_action == NextAction.WON else None,
                lost_reason=lost_reason if next_action == NextAction.LOST else "",
                script_version_id=script_version_id,
            )
    except IntegrityError:
        # A concurrent submit with the same key won the race: return its call.
        existing = CallLog.objects.get(idempotency_key=key)
        return existing, False
    if products:
        call.products.set(products)
    if needs:
        call.needs.set(list(needs))
    audit_record(
        actor=actor,
        verb="call.log",
        target=call,
        details={
            "lead": lead.pk,
            "disposition": disposition.code,
            "next_action": next_action,
            "purpose": purpose,
            "script_version_id": script_version_id,
        },
    )
    if purpose == CallPurpose.SERVICE and not verdict.allowed:
        audit_record(
            actor=actor,
            verb="call.policy_override",
            target=call,
            details={"blocks": verdict.codes, "reason": call.service_reason},
        )

    # The phone interaction on the customer's timeline (notes are scanned once, below).
    interaction_record = _contract("customers.services", "interaction_record")
    summary = _("Outbound call: %(disposition)s; next: %(action)s") % {
        "disposition": disposition.label,
        "action": NextAction(next_action).label,
    }
    interaction, _created = interaction_record(
        actor=actor,
        customer=customer,
        channel="phone",
        direction="out",
        occurred_at=started_at,
        summary=summary,
        external_id=f"call:{key}",
    )
    outcome_record = _contract("leads.scoring.services", "outcome_record")
    outcome = outcome_record(
        customer=customer,
        contacted_at=started_at,
        channel="phone",
        converted=next_action == NextAction.WON,
        amount=call.won_amount,
        product=call.won_product,
        source="call",
        external_key=f"call:{key}",
    )
    call.interaction = interaction
    call.outcome = outcome
    call.save(update_fields=["interaction", "outcome"])

    _complete_planned(lead=lead, call=call, now=now)
    _apply_next_action(actor=actor, lead=lead, call=call, branch=branch, now=now)

    call_id, customer_id, text = call.pk, customer.pk, notes.strip()
    if text:
        request_scan = _contract("campaigns.surveillance", "request_scan")
        # request_scan defers its task with transaction.on_commit itself.
        request_scan(
            source="call_note",
            object_id=call_id,
            text=text,
            advisor_id=actor.pk,
            customer_id=customer_id,
            occurred_at=started_at,
        )
    # No rescoring here: outcome_record queues the customer's rescore after commit.
    return call, True


def _complete_planned(*, lead: Lead, call: CallLog, now: dt.datetime) -> None:
    """A call on a lead makes its planned calls due by the end of today."""
    end_of_today = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    due = list(
        PlannedCall.objects.select_for_update().filter(
            lead=lead, status=PlannedCallStatus.PLANNED, due_at__lte=end_of_today
        )
    )
    for planned in due:
        planned.status = PlannedCallStatus.DONE
        planned.call_log = call
        planned.done_at = now
        planned.save(update_fields=["status", "call_log", "done_at"])
        if planned.kind == PlannedCallKind.NURTURE:
            _nurture_touch_done(lead=lead, now=now)


def _apply_next_action(*, actor, lead: Lead, call: CallLog, branch, now: dt.datetime) -> None:
    action = call.next_action
    if lead.status in (S.NEW, S.CONFIRMED):
        lead = _lead_transition(actor=actor, lead=lead, to=S.CONTACTING, reason=_("Call logged"))
    if action == NextAction.CALLBACK:
        PlannedCall.objects.create(
            lead=lead,
            customer_id=lead.customer_id,
            advisor=actor,
            kind=PlannedCallKind.CALLBACK,
            due_at=call.callback_at,
            note=call.disposition.label,
        )
        audit_record(
            actor=actor, verb="call.callback_planned", target=lead, details={"at": call.callback_at.isoformat()}
        )
    elif action == NextAction.NURTURE:
        if lead.status != S.NURTURING:
            lead = _lead_transition(actor=actor, lead=lead, to=S.NURTURING, reason=_("Nurture after the call"))
        if not NurturePlan.objects.filter(lead=lead, active=True).exists():
            nurture_plan_start(actor=actor, lead=lead, now=now + _touch_interval_default())
    elif action == NextAction.REFER:
        if lead.status != S.REFERRED:
            _route_refer(
                actor=actor,
                lead=lead,
                branch=branch,
                branch_reason="",
                needs_summary=call.notes,
                products_of_interest=[c for c in call.product_checks if c["allowed"]],
                preferred_contact_time="",
            )
    elif action == NextAction.WON:
        _lead_transition(
            actor=actor,
            lead=lead,
            to=S.WON,
            reason=_("Won: %(product)s, %(amount)s CNY")
            % {"product": call.won_product.name, "amount": call.won_amount},
        )
        _cancel_planned(lead=lead)
    elif action == NextAction.LOST:
        from .models import LostReason

        _lead_transition(actor=actor, lead=lead, to=S.LOST, reason=LostReason(call.lost_reason).label)
        _cancel_planned(lead=lead)
    elif action == NextAction.OPT_OUT:
        contact_opt_out(actor=actor, customer=lead.customer, reason=_("Opted out on a call"), now=now)
        _lead_transition(actor=actor, lead=lead, to=S.CLOSED, reason=_("Customer opted out of calls"))
        _cancel_planned(lead=lead)


def _touch_interval_default() -> dt.timedelta:
    return dt.timedelta(days=settings.WORKBENCH_NURTURE_PERIOD_DAYS) / max(settings.WORKBENCH_NURTURE_TOUCHES, 1)


def contact_opt_out(*, actor, customer, reason: str, now: dt.datetime | None = None):
    """Put the customer on phone do-not-disturb for at least the configured days."""
    from customers.models import Channel, ContactPreference

    now = now or timezone.now()
    until = now + dt.timedelta(days=settings.WORKBENCH_OPT_OUT_DND_DAYS)
    pref, _created = ContactPreference.objects.select_for_update().get_or_create(
        customer=customer, channel=Channel.PHONE, defaults={"consent": False}
    )
    pref.opted_out_at = now
    pref.dnd_until = max(until, pref.dnd_until) if pref.dnd_until else until
    pref.reason = reason[:200]
    pref.save(update_fields=["opted_out_at", "dnd_until", "reason", "updated_at"])
    audit_record(
        actor=actor,
        verb="contact.opt_out",
        target=customer,
        details={"channel": "phone", "dnd_until": pref.dnd_until.isoformat()},
    )
    return pref
