"""Writes of the referral workflow: every status change goes through here, audited.

State machine (``ReferralStatus``)::

    pending ──accept──▶ accepted ──contact──▶ contacted ──meeting/visit──▶ meeting
       │                   │  │                  │                           │
       └──reject──▶ rejected  └──────────────────┴──── convert / lose / return ┘

Converted, lost, rejected and returned are final. Each transition writes a
``ReferralEvent`` (the timeline) and an ``AuditEvent`` in the same transaction, and
notifies the people concerned once (``event_key``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from core.audit import audit_record
from core.languages import Words, in_both_languages
from core.models import AuditEvent, Notification
from core.services import notification_send, notifications_resolve
from core.templatetags.formatting import cny
from customers.models import Interaction, Product
from customers.services.access import customer_access_referral
from customers.suitability import product_suitability_stored, suitability_require_sale
from leads.models import Lead, LeadStatus
from leads.services import lead_follow_referral, lead_grant_branch
from org.models import StaffProfile
from org.roles import Role
from scoring.services.outcomes import outcome_record

from . import sla
from .access import require_decide, require_work
from .models import FollowUp, FollowUpKind, Referral, ReferralEvent, ReferralStatus, RejectReason, SlaBreach, SlaStage

S = ReferralStatus
WORKING_STATUSES = (S.ACCEPTED, S.CONTACTED, S.MEETING)
FINAL_STATUSES = (S.REJECTED, S.CONVERTED, S.LOST, S.RETURNED)
HIGHLIGHT_SESSIONS = 3
HIGHLIGHT_TURNS = 4
INTEREST_WORDS = ("到期", "理财", "基金", "收益", "配置", "保险", "存款", "面谈", "了解", "想", "养老", "教育", "资金")


# --- helpers --------------------------------------------------------------------------


def _branch_managers(branch_id: int) -> list:
    return [
        p.user
        for p in StaffProfile.objects.filter(branch_id=branch_id, role=Role.BRANCH_MANAGER, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    ]


def _team_leads_of(advisor) -> list:
    profile = getattr(advisor, "staff_profile", None) if advisor is not None else None
    if profile is None or profile.team_id is None:
        return []
    return [
        p.user
        for p in StaffProfile.objects.filter(team_id=profile.team_id, role=Role.TEAM_LEAD, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    ]


def _url(referral: Referral) -> str:
    return reverse("referrals:detail", kwargs={"pk": referral.pk})


def _notify(recipient, *, referral: Referral, key: str, title: Words, body: Words = "") -> None:
    """In-app notification once per event; also an e-mail when WORKBENCH_REFERRAL_EMAIL is on
    (in the bank's working language, as the notification's ``title`` and ``body``)."""
    if recipient is None:
        return
    url = _url(referral)
    sent = notification_send(
        recipient=recipient,
        title=title,
        body=body,
        url=url,
        target=referral,
        event_key=f"referral:{referral.pk}:{key}",
    )
    if sent is not None and settings.WORKBENCH_REFERRAL_EMAIL and recipient.email:
        subject, message = sent.title, f"{sent.body}\n\n{url}".strip()
        transaction.on_commit(lambda: send_mail(subject, message, None, [recipient.email], fail_silently=True))


def _customer_label(referral: Referral) -> str:
    return referral.customer.name_masked


def _lock(referral: Referral | int) -> Referral:
    pk = referral.pk if isinstance(referral, Referral) else referral
    return (
        Referral.objects.select_for_update(of=("self",)).select_related("customer", "branch", "from_advisor").get(pk=pk)
    )


def _transition(*, actor, referral: Referral, to: str, verb: str, note: str = "", details: dict | None = None):
    """Record a status change: timeline event + audit row (the caller saved the referral)."""
    from_status = referral.status
    referral.status = to
    ReferralEvent.objects.create(
        referral=referral, actor=actor, verb=verb, from_status=from_status, to_status=to, note=note
    )
    audit_record(
        actor=actor,
        verb=f"referral.{verb}",
        target=referral,
        details={"from": from_status, "to": to, **(details or {})},
    )


def _require_status(referral: Referral, *allowed: str) -> None:
    if referral.status not in allowed:
        raise ValidationError(
            _("This referral is %(status)s; the action is not possible any more.")
            % {"status": referral.get_status_display()}
        )


# What each SLA stage's notifications ask for: settled when the stage is.
_STAGE_NOTIFICATIONS = {
    SlaStage.REVIEW: ("created", "overdue:review"),
    SlaStage.FIRST_CONTACT: ("assigned:", "overdue:first_contact"),
}


def _resolve_breach(referral: Referral, stage: str, when: dt.datetime) -> None:
    SlaBreach.objects.filter(referral=referral, stage=stage, resolved_at__isnull=True).update(resolved_at=when)
    notifications_resolve(event_keys=[f"referral:{referral.pk}:{key}" for key in _STAGE_NOTIFICATIONS.get(stage, ())])
    referral.overdue_at = None
    referral.escalated_at = None


def _ai_highlights(customer) -> list[dict]:
    """The telling customer turns of the latest AI-bot sessions (text kept verbatim; escaped on display)."""
    sessions = Interaction.objects.filter(customer=customer, channel="ai_bot").order_by("-occurred_at", "-id")[
        :HIGHLIGHT_SESSIONS
    ]
    highlights: list[dict] = []
    for session in sessions:
        turns = [t for t in (session.transcript or []) if isinstance(t, dict) and t.get("speaker") == "customer"]
        telling = [t for t in turns if any(w in str(t.get("text", "")) for w in INTEREST_WORDS)] or turns
        picked = [str(t.get("text", ""))[:300] for t in telling[:HIGHLIGHT_TURNS]]
        if session.summary or picked:
            highlights.append(
                {
                    "interaction_id": session.pk,
                    "occurred_at": session.occurred_at.isoformat(),
                    "summary": session.summary[:500],
                    "turns": picked,
                }
            )
    return highlights


def _products_of_interest(customer, items) -> list[dict]:
    """Normalise [{"product_id"|"code", "amount"?}] into rows with the suitability verdict."""
    items = list(items or ())
    ids = [i.get("product_id") for i in items if i.get("product_id")]
    codes = [i.get("code") for i in items if i.get("code") and not i.get("product_id")]
    products = {p.pk: p for p in Product.objects.filter(pk__in=ids)}
    products.update({p.code: p for p in Product.objects.filter(code__in=codes)})
    rows = []
    for item in items:
        product = products.get(item.get("product_id")) or products.get(item.get("code"))
        if product is None:
            raise ValidationError(_("Unknown product: %(ref)s") % {"ref": item.get("product_id") or item.get("code")})
        amount = item.get("amount")
        amount = Decimal(str(amount)) if amount not in (None, "") else None
        verdict = product_suitability_stored(customer=customer, product=product, amount=amount)
        rows.append(
            {
                "product_id": product.pk,
                "code": product.code,
                "name": product.name,
                "risk_level": product.risk_level,
                "amount": str(amount) if amount is not None else None,
                "allowed": verdict["allowed"],
                "reasons": verdict["reasons"],
                "reasons_en": verdict["reasons_en"],
            }
        )
    return rows


def _record_outcome(referral: Referral, *, converted: bool, when: dt.datetime) -> None:
    """Give scoring its training row (converted referrals are the strongest signal)."""
    contacted = referral.first_contacted_at or referral.accepted_at or when
    outcome_record(
        customer=referral.customer,
        contacted_at=contacted,
        channel="branch_visit",
        converted=converted,
        amount=referral.converted_amount if converted else None,
        product=referral.converted_product if converted else None,
        source="call",
        external_key=f"referral:{referral.pk}",
    )


# --- create ---------------------------------------------------------------------------


@transaction.atomic
def referral_create(
    *,
    actor,
    lead: Lead,
    branch=None,
    branch_reason: str = "",
    needs_summary: str = "",
    products_of_interest: list[dict] = (),
    preferred_contact_time: str = "",
) -> Referral:
    """Hand a high lead to a branch: a pending referral with its SLA deadlines.

    The branch defaults to the customer's home branch; another branch needs a reason.
    Copies score, reasons and AI-bot highlights, audits, and notifies the branch managers.
    """
    customer = lead.customer
    if branch is None:
        branch = customer.home_branch
        if branch is None:
            raise ValidationError(_("The customer has no home branch: choose the branch to refer to."))
    elif customer.home_branch_id and branch.pk != customer.home_branch_id and not branch_reason.strip():
        raise ValidationError(_("Give a reason for referring to a branch other than the customer's home branch."))
    if Referral.objects.filter(lead=lead).exclude(status__in=FINAL_STATUSES).exists():
        raise ValidationError(_("This lead already has an open referral."))
    now = timezone.now()
    products = _products_of_interest(customer, products_of_interest)
    referral = Referral.objects.create(
        lead=lead,
        customer=customer,
        branch=branch,
        branch_reason=branch_reason.strip()[:200],
        from_advisor=actor if getattr(actor, "is_authenticated", False) else lead.owner,
        status=S.PENDING,
        needs_summary=needs_summary.strip(),
        ai_highlights=_ai_highlights(customer),
        score=lead.score,
        reasons=list(lead.reasons or []),
        products_of_interest=products,
        preferred_contact_time=preferred_contact_time.strip()[:100],
        review_due_at=sla.review_due(now),
    )
    ReferralEvent.objects.create(referral=referral, actor=actor, verb="create", to_status=S.PENDING, note=needs_summary)
    # The branch's staff may see the customer and the lead from now on.
    customer_access_referral(customer_id=customer.pk, branch_id=branch.pk)
    lead_grant_branch(lead=lead, branch=branch)
    audit_record(
        actor=actor,
        verb="referral.create",
        target=referral,
        details={"lead": lead.pk, "branch": branch.pk, "products": [p["code"] for p in products]},
    )
    due = f"{timezone.localtime(referral.review_due_at):%Y-%m-%d %H:%M}"
    with override(settings.LANGUAGE_CODE):
        for manager in _branch_managers(branch.pk):
            _notify(
                manager,
                referral=referral,
                key="created",
                title=lambda: _("New referral to review: %(customer)s") % {"customer": _customer_label(referral)},
                body=lambda: _("Review by %(due)s.") % {"due": due},
            )
    return referral


# --- branch manager -------------------------------------------------------------------


def _check_rm(referral: Referral, rm) -> None:
    profile = getattr(rm, "staff_profile", None)
    if profile is None or profile.role != Role.BRANCH_RM or profile.branch_id != referral.branch_id or not rm.is_active:
        raise ValidationError(_("Choose a relationship manager of this branch."))


def _accept_locked(*, actor, referral: Referral, rm, now: dt.datetime, calendar: sla.Calendar) -> Referral:
    require_decide(actor, referral)
    _require_status(referral, S.PENDING)
    _check_rm(referral, rm)
    referral.assigned_rm = rm
    referral.accepted_at = now
    referral.first_contact_due_at = sla.first_contact_due(now, calendar=calendar)
    _resolve_breach(referral, SlaStage.REVIEW, now)
    _transition(actor=actor, referral=referral, to=S.ACCEPTED, verb="accept", details={"rm": rm.pk})
    # Only what accepting changes: rewriting every column (the AI highlights, reasons and
    # products JSON) made the UPDATE the slowest statement of an accept.
    referral.save(
        update_fields=[
            "assigned_rm",
            "accepted_at",
            "first_contact_due_at",
            "overdue_at",
            "escalated_at",
            "status",
            "updated_at",
        ]
    )
    rm_name = rm.staff_profile.display_name
    with override(settings.LANGUAGE_CODE):
        _notify(
            referral.from_advisor,
            referral=referral,
            key="accepted",
            title=lambda: _("Referral accepted: %(customer)s") % {"customer": _customer_label(referral)},
            body=lambda: (
                _("%(branch)s accepted it; relationship manager: %(rm)s.")
                % {"branch": referral.branch.name, "rm": rm_name}
            ),
        )
        _notify(
            rm,
            referral=referral,
            key=f"assigned:{rm.pk}",
            title=lambda: _("Referral assigned to you: %(customer)s") % {"customer": _customer_label(referral)},
            body=lambda: (
                _("First contact by %(due)s.")
                % {"due": f"{timezone.localtime(referral.first_contact_due_at):%Y-%m-%d %H:%M}"}
            ),
        )
    return referral


@transaction.atomic
def referral_accept(*, actor, referral: Referral, rm) -> Referral:
    """The branch manager accepts a pending referral and assigns it to an RM of the branch."""
    locked = _lock(referral)
    return _accept_locked(actor=actor, referral=locked, rm=rm, now=timezone.now(), calendar=sla.Calendar.load())


@transaction.atomic
def referral_bulk_accept(*, actor, referral_ids: list[int], rm) -> dict:
    """Accept several pending referrals for one RM; referrals no longer pending are skipped."""
    now = timezone.now()
    calendar = sla.Calendar.load()
    accepted, skipped = [], []
    referrals = (
        Referral.objects.select_for_update(of=("self",))
        .select_related("customer", "branch", "from_advisor")
        .filter(pk__in=referral_ids)
        .order_by("pk")
    )
    found = {r.pk: r for r in referrals}
    for pk in sorted(set(referral_ids)):
        referral = found.get(pk)
        if referral is None:
            skipped.append(pk)
            continue
        require_decide(actor, referral)
        if referral.status != S.PENDING:
            skipped.append(pk)
            continue
        _accept_locked(actor=actor, referral=referral, rm=rm, now=now, calendar=calendar)
        accepted.append(pk)
    audit_record(
        actor=actor,
        verb="referral.bulk_accept",
        target_type="referrals.referral",
        target_id=",".join(map(str, accepted))[:64],
        details={"accepted": accepted, "skipped": skipped, "rm": rm.pk},
    )
    return {"accepted": accepted, "skipped": skipped}


@transaction.atomic
def referral_reassign(*, actor, referral: Referral, rm) -> Referral:
    """Hand an accepted referral to another RM of the branch (no status change)."""
    referral = _lock(referral)
    require_decide(actor, referral)
    _require_status(referral, *WORKING_STATUSES)
    _check_rm(referral, rm)
    old = referral.assigned_rm_id
    if old == rm.pk:
        return referral
    referral.assigned_rm = rm
    referral.save(update_fields=["assigned_rm", "updated_at"])
    ReferralEvent.objects.create(
        referral=referral, actor=actor, verb="reassign", from_status=referral.status, to_status=referral.status
    )
    audit_record(actor=actor, verb="referral.reassign", target=referral, details={"from_rm": old, "to_rm": rm.pk})
    with override(settings.LANGUAGE_CODE):
        _notify(
            rm,
            referral=referral,
            key=f"assigned:{rm.pk}",
            title=lambda: _("Referral assigned to you: %(customer)s") % {"customer": _customer_label(referral)},
        )
    return referral


@transaction.atomic
def referral_reject(*, actor, referral: Referral, reason: str, note: str = "") -> Referral:
    """Reject a pending referral with a reason code (and text; required for "other")."""
    referral = _lock(referral)
    require_decide(actor, referral)
    _require_status(referral, S.PENDING)
    if reason not in RejectReason.values:
        raise ValidationError(_("Choose a reason for rejecting."))
    note = note.strip()
    if reason == RejectReason.OTHER and not note:
        raise ValidationError(_("Explain the reason when you choose “Other”."))
    now = timezone.now()
    referral.reject_reason = reason
    referral.reject_note = note
    referral.rejected_at = now
    referral.closed_at = now
    _resolve_breach(referral, SlaStage.REVIEW, now)
    _transition(actor=actor, referral=referral, to=S.REJECTED, verb="reject", note=note, details={"reason": reason})
    referral.save()
    lead_follow_referral(  # the lead's history says it in words, in each reader's language
        actor=actor,
        lead=referral.lead,
        to=LeadStatus.NURTURING,
        reason=lambda: _("Branch rejected the referral: %(reason)s") % {"reason": RejectReason(reason).label},
    )
    with override(settings.LANGUAGE_CODE):
        _notify(
            referral.from_advisor,
            referral=referral,
            key="rejected",
            title=lambda: _("Referral rejected: %(customer)s") % {"customer": _customer_label(referral)},
            body=lambda: (
                _("%(reason)s: %(note)s") % {"reason": RejectReason(reason).label, "note": note}
                if note
                else str(RejectReason(reason).label)
            ),
        )
    return referral


# --- relationship manager -------------------------------------------------------------


def _first_contact(referral: Referral, when: dt.datetime) -> None:
    if referral.first_contacted_at is None:
        referral.first_contacted_at = when
        _resolve_breach(referral, SlaStage.FIRST_CONTACT, when)


@transaction.atomic
def referral_follow_up(
    *,
    actor,
    referral: Referral,
    kind: str,
    occurred_at: dt.datetime | None = None,
    reached: bool | None = None,
    meeting_at: dt.datetime | None = None,
    note: str = "",
) -> FollowUp:
    """Log what the RM did: an attempt (reached or not), a meeting booked, a visit, a note.

    A reached attempt moves an accepted referral to contacted; a booked meeting or a
    visit moves it to meeting booked/visited. The first reached contact stops the SLA clock.
    """
    referral = _lock(referral)
    require_work(actor, referral)
    _require_status(referral, *WORKING_STATUSES)
    now = timezone.now()
    occurred_at = occurred_at or now
    if occurred_at > now + dt.timedelta(minutes=5):
        raise ValidationError(_("A follow-up cannot be in the future."))
    if referral.accepted_at and occurred_at < referral.accepted_at - dt.timedelta(minutes=5):
        raise ValidationError(_("A follow-up cannot be before the referral was accepted."))
    note = note.strip()
    if kind == FollowUpKind.ATTEMPT:
        if reached is None:
            raise ValidationError(_("Say whether the customer was reached."))
    elif kind == FollowUpKind.MEETING:
        if meeting_at is None:
            raise ValidationError(_("Give the date and time of the meeting."))
        reached = True
    elif kind == FollowUpKind.VISIT:
        reached = True
    elif kind == FollowUpKind.NOTE:
        if not note:
            raise ValidationError(_("Write the note."))
    else:
        raise ValidationError(_("Unknown follow-up type."))
    follow_up = FollowUp.objects.create(
        referral=referral,
        kind=kind,
        actor=actor,
        occurred_at=occurred_at,
        reached=reached,
        meeting_at=meeting_at,
        note=note,
    )
    audit_record(
        actor=actor,
        verb="referral.follow_up",
        target=referral,
        details={"follow_up": follow_up.pk, "kind": kind, "reached": reached},
    )
    if reached:
        _first_contact(referral, occurred_at)
    target = referral.status
    if kind == FollowUpKind.ATTEMPT and reached and referral.status == S.ACCEPTED:
        target = S.CONTACTED
    elif kind in (FollowUpKind.MEETING, FollowUpKind.VISIT) and referral.status in (S.ACCEPTED, S.CONTACTED):
        target = S.MEETING
    if target != referral.status:
        _transition(
            actor=actor, referral=referral, to=target, verb=kind, note=note, details={"follow_up": follow_up.pk}
        )
    referral.save()
    return follow_up


@transaction.atomic
def referral_record_outcome(
    *,
    actor,
    referral: Referral,
    outcome: str,
    product: Product | None = None,
    amount=None,
    note: str = "",
    second_review: bool = False,
) -> Referral:
    """Close a referral the RM worked: converted (product and amount) or lost (reason).

    A conversion is a sale: it passes the same suitability rule as a sale on a call
    (``customers.suitability.suitability_require_sale``), ``second_review`` included."""
    referral = _lock(referral)
    require_work(actor, referral)
    _require_status(referral, *WORKING_STATUSES)
    now = timezone.now()
    note = note.strip()
    if outcome == S.CONVERTED:
        if product is None:
            raise ValidationError(_("Choose the product the customer bought."))
        try:
            amount = Decimal(str(amount)).quantize(Decimal("0.01"))
        except (InvalidOperation, TypeError, ValueError):
            raise ValidationError(_("Enter the amount in CNY.")) from None
        if amount <= 0:
            raise ValidationError(_("The amount must be greater than zero."))
        verdict = suitability_require_sale(
            customer=referral.customer, product=product, amount=amount, second_review=second_review
        )
        referral.converted_product = product
        referral.converted_amount = amount
        lead_status = LeadStatus.WON
    elif outcome == S.LOST:
        if not note:
            raise ValidationError(_("Say why the referral was lost."))
        lead_status = LeadStatus.LOST
    else:
        raise ValidationError(_("Unknown outcome."))
    _first_contact(referral, now)
    referral.outcome_note = note
    referral.closed_at = now
    FollowUp.objects.create(referral=referral, kind=FollowUpKind.OUTCOME, actor=actor, occurred_at=now, note=note)
    details = {"product": product.pk if product else None, "amount": str(referral.converted_amount or "")}
    if outcome == S.CONVERTED and verdict.needs_second_review:
        details["second_review"] = True
    _transition(actor=actor, referral=referral, to=outcome, verb=outcome, note=note, details=details)
    referral.save()
    lead_follow_referral(
        actor=actor,
        lead=referral.lead,
        to=lead_status,
        reason=lambda: _("Branch recorded the referral's outcome: %(outcome)s") % {"outcome": S(outcome).label},
    )
    _record_outcome(referral, converted=outcome == S.CONVERTED, when=now)
    if outcome == S.CONVERTED:
        with override(settings.LANGUAGE_CODE):
            _notify(
                referral.from_advisor,
                referral=referral,
                key="converted",
                title=lambda: _("Referral converted: %(customer)s") % {"customer": _customer_label(referral)},
                body=lambda: _("%(product)s, %(amount)s") % {"product": product.name, "amount": cny(amount)},
            )
    return referral


@transaction.atomic
def referral_return(*, actor, referral: Referral, reason: str) -> Referral:
    """Give the referral back to the remote advisor; the lead returns to their nurture list."""
    referral = _lock(referral)
    require_work(actor, referral)
    _require_status(referral, *WORKING_STATUSES)
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the referral goes back to the advisor."))
    now = timezone.now()
    referral.outcome_note = reason
    referral.closed_at = now
    _resolve_breach(referral, SlaStage.FIRST_CONTACT, now)
    _transition(actor=actor, referral=referral, to=S.RETURNED, verb="return", note=reason)
    referral.save()
    lead_follow_referral(
        actor=actor,
        lead=referral.lead,
        to=LeadStatus.NURTURING,
        reason=lambda: _("Returned by the branch: %(reason)s") % {"reason": reason},
    )
    with override(settings.LANGUAGE_CODE):
        _notify(
            referral.from_advisor,
            referral=referral,
            key="returned",
            title=lambda: _("Referral returned to you: %(customer)s") % {"customer": _customer_label(referral)},
            body=reason,
        )
    return referral


# --- SLAs -----------------------------------------------------------------------------


SLA_CHUNK = 500


def referral_sla_check(*, now: dt.datetime | None = None) -> dict:
    """Mark overdue referrals, notify the branch, escalate a day later. Safe to run twice.

    Works in chunks (one transaction and a handful of set-based queries per chunk, so a
    backlog of thousands is seconds, not minutes). Idempotent and safe with two workers:
    rows are locked with SKIP LOCKED, a breach exists once per referral and stage
    (unique), an escalation once per breach (``escalated_at IS NULL``), a notification
    once per recipient and event (unique ``event_key``).
    """
    now = now or timezone.now()
    calendar = sla.Calendar.load()
    managers: dict[int, list] = {}  # branch id → its managers, loaded once per run
    leads_of_team: dict = {}
    marked = escalated = 0
    stages = (
        (SlaStage.REVIEW, Q(status=S.PENDING, review_due_at__lt=now), "review_due_at"),
        (
            SlaStage.FIRST_CONTACT,
            Q(status=S.ACCEPTED, first_contacted_at__isnull=True, first_contact_due_at__lt=now),
            "first_contact_due_at",
        ),
    )
    for stage, condition, due_field in stages:
        ids = list(
            Referral.objects.filter(condition)
            .exclude(sla_breaches__stage=stage)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for i in range(0, len(ids), SLA_CHUNK):
            marked += _mark_overdue_chunk(
                ids=ids[i : i + SLA_CHUNK],
                condition=condition,
                stage=stage,
                due_field=due_field,
                now=now,
                managers=managers,
            )
    # N working days are never shorter than N calendar days: a cheap pre-filter in SQL.
    after = dt.timedelta(days=settings.WORKBENCH_REFERRAL_ESCALATE_AFTER_DAYS)
    due_ids = [
        pk
        for pk, breached_at in SlaBreach.objects.filter(
            escalated_at__isnull=True, resolved_at__isnull=True, breached_at__lte=now - after
        )
        .order_by("pk")
        .values_list("pk", "breached_at")
        if calendar.add_working_days(breached_at, settings.WORKBENCH_REFERRAL_ESCALATE_AFTER_DAYS) <= now
    ]
    for i in range(0, len(due_ids), SLA_CHUNK):
        escalated += _escalate_chunk(ids=due_ids[i : i + SLA_CHUNK], now=now, leads_of_team=leads_of_team)
    return {"marked_overdue": marked, "escalated": escalated}


def _notify_many(rows: list[tuple]) -> None:
    """Notifications for a batch: (recipient, referral, key, (title, title_en)). The unique
    (recipient, event_key) constraint keeps them once-only, as notification_send does
    one by one; the batch form keeps the beat task fast on a backlog."""
    url_of = {}
    notes = []
    for recipient, referral, key, (title, title_en) in rows:
        if recipient is None:
            continue
        if referral.pk not in url_of:
            url_of[referral.pk] = _url(referral)
        notes.append(
            Notification(
                recipient=recipient,
                title=title[:200],
                title_en=title_en[:200],
                url=url_of[referral.pk],
                target_type=referral._meta.label_lower,
                target_id=str(referral.pk),
                event_key=f"referral:{referral.pk}:{key}",
            )
        )
    Notification.objects.bulk_create(notes, ignore_conflicts=True, batch_size=SLA_CHUNK)


def _audit_many(referrals: list[Referral], verb: str, details_of) -> None:
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                actor=None,
                verb=verb,
                target_type=r._meta.label_lower,
                target_id=str(r.pk),
                details=details_of(r),
            )
            for r in referrals
        ],
        batch_size=SLA_CHUNK,
    )


@transaction.atomic
def _mark_overdue_chunk(*, ids: list[int], condition: Q, stage: str, due_field: str, now, managers: dict) -> int:
    locked = list(
        Referral.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(condition, pk__in=ids)
        .exclude(sla_breaches__stage=stage)
        .select_related("customer", "branch", "assigned_rm")
        .order_by("pk")
    )
    if not locked:
        return 0
    SlaBreach.objects.bulk_create(
        [SlaBreach(referral=r, stage=stage, due_at=getattr(r, due_field), breached_at=now) for r in locked],
        ignore_conflicts=True,
    )
    Referral.objects.filter(pk__in=[r.pk for r in locked]).update(overdue_at=now, updated_at=now)
    ReferralEvent.objects.bulk_create(
        [ReferralEvent(referral=r, actor=None, verb=f"overdue_{stage}", to_status=r.status) for r in locked]
    )
    _audit_many(locked, "referral.overdue", lambda r: {"stage": stage, "due": getattr(r, due_field).isoformat()})
    rows = []
    with override(settings.LANGUAGE_CODE):
        for r in locked:
            if r.branch_id not in managers:
                managers[r.branch_id] = _branch_managers(r.branch_id)
            recipients = list(managers[r.branch_id])
            if stage == SlaStage.FIRST_CONTACT and r.assigned_rm_id:
                recipients.append(r.assigned_rm)
            title = in_both_languages(
                lambda r=r: (
                    (
                        _("Referral overdue for review: %(customer)s")
                        if stage == SlaStage.REVIEW
                        else _("Referral overdue for first contact: %(customer)s")
                    )
                    % {"customer": _customer_label(r)}
                )
            )
            rows.extend((user, r, f"overdue:{stage}", title) for user in recipients)
    _notify_many(rows)
    return len(locked)


@transaction.atomic
def _escalate_chunk(*, ids: list[int], now, leads_of_team: dict) -> int:
    breaches = list(
        SlaBreach.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=ids, escalated_at__isnull=True, resolved_at__isnull=True)
        .select_related("referral__customer", "referral__branch", "referral__from_advisor__staff_profile")
        .order_by("pk")
    )
    if not breaches:
        return 0
    SlaBreach.objects.filter(pk__in=[b.pk for b in breaches]).update(escalated_at=now)
    referrals = [b.referral for b in breaches]
    Referral.objects.filter(pk__in=[r.pk for r in referrals]).update(escalated_at=now, updated_at=now)
    ReferralEvent.objects.bulk_create(
        [
            ReferralEvent(referral=b.referral, actor=None, verb=f"escalated_{b.stage}", to_status=b.referral.status)
            for b in breaches
        ]
    )
    team_leads = {}
    for r in referrals:
        advisor = r.from_advisor
        team_id = getattr(getattr(advisor, "staff_profile", None), "team_id", None)
        if team_id not in leads_of_team:
            leads_of_team[team_id] = _team_leads_of(advisor)
        team_leads[r.pk] = leads_of_team[team_id]
    stage_of = {b.referral_id: b.stage for b in breaches}
    _audit_many(
        referrals,
        "referral.escalate",
        lambda r: {"stage": stage_of[r.pk], "team_leads": [u.pk for u in team_leads[r.pk]]},
    )
    rows = []
    with override(settings.LANGUAGE_CODE):
        for b in breaches:
            r = b.referral
            title = in_both_languages(
                lambda r=r: (
                    _("Escalation: referral still overdue at %(branch)s (%(customer)s)")
                    % {"branch": r.branch.name, "customer": _customer_label(r)}
                )
            )
            rows.extend((user, r, f"escalated:{b.stage}", title) for user in team_leads[r.pk])
    _notify_many(rows)
    return len(breaches)


@transaction.atomic
def referral_export_record(*, actor, fmt: str, rows: int, filters: dict) -> None:
    """Audit an export of referral data (personal data leaves the system): who took how
    many rows, in which format, with which filters."""
    audit_record(
        actor=actor,
        verb="referral.export",
        target_type="referrals.referral",
        target_id="*",
        details={"format": fmt, "rows": rows, "filters": filters},
    )
