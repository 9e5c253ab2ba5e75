"""Writes of the lead lifecycle: transitions, claiming, grade decisions, nurture plans,
planned calls, pool resurfacing and the leads that scoring proposes.

Every change of a lead's status goes through :func:`lead_transition`, which enforces the
lifecycle below and writes a LeadTransition row and an AuditEvent in the caller's
transaction. It also keeps the customer's open-lead access grant (customers) in step, so
the customer row rule never has to read this app's tables.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.languages import Words, in_both_languages
from customers.models import Customer
from customers.services.access import customer_access_close_lead, customer_access_open_leads
from org.calendar import Calendar, call_hours
from org.models import StaffProfile, Team

from .access import can_claim_lead, can_claim_next, can_confirm_lead, can_work_lead
from .models import (
    OPEN_LEAD_STATUSES,
    Grade,
    GradeDecision,
    GradeOverrideReason,
    Lead,
    LeadBranchAccess,
    LeadSource,
    LeadStatus,
    LeadTransition,
    NurturePlan,
    PlannedCall,
    PlannedCallKind,
    PlannedCallStatus,
)

S = LeadStatus
# The lead lifecycle: new → confirmed → contacting → nurturing / referred / pooled →
# won / lost / closed. Confirmation routes at once (high → referred, mid → nurturing,
# low → pooled); a pooled lead goes back to new when rescoring lifts its grade.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.CONFIRMED, S.CONTACTING, S.CLOSED}),
    S.CONFIRMED: frozenset({S.CONTACTING, S.NURTURING, S.REFERRED, S.POOLED, S.CLOSED}),
    # contacting → confirmed: a lead called before its grade was confirmed (can_confirm_lead)
    S.CONTACTING: frozenset({S.CONFIRMED, S.NURTURING, S.REFERRED, S.POOLED, S.WON, S.LOST, S.CLOSED}),
    S.NURTURING: frozenset({S.CONTACTING, S.REFERRED, S.POOLED, S.WON, S.LOST, S.CLOSED}),
    S.REFERRED: frozenset({S.NURTURING, S.WON, S.LOST, S.CLOSED}),
    S.POOLED: frozenset({S.NEW, S.CLOSED}),
    S.WON: frozenset(),
    S.LOST: frozenset(),
    S.CLOSED: frozenset(),
}
GRADE_RANK = {Grade.LOW: 0, Grade.MID: 1, Grade.HIGH: 2}


def lead_require_work(*, actor, lead: Lead) -> None:
    """The service guard of ``can_work_lead`` (the same predicate pages ask)."""
    if not can_work_lead(actor, lead):
        raise PermissionDenied(_("You cannot work on this lead."))


def lead_lock(lead: Lead | int) -> Lead:
    return Lead.objects.select_for_update().get(pk=getattr(lead, "pk", lead))


# --- transitions -------------------------------------------------------------------


def lead_transition(*, actor, lead: Lead, to: str, reason: Words = "", **updates: Any) -> Lead:
    """Move ``lead`` (locked by the caller) to ``to``, with history and audit. The
    product's own ``reason`` (a lazy translation or a callable) is kept in both
    languages for the history; a person's words (a plain string) as written."""
    if to not in ALLOWED_TRANSITIONS[lead.status]:
        raise ValidationError(
            _("A lead cannot go from “%(from)s” to “%(to)s”.") % {"from": S(lead.status).label, "to": S(to).label},
            code="invalid_transition",
        )
    previous = lead.status
    reason, reason_en = in_both_languages(reason)
    lead.status = to
    for name, value in updates.items():
        setattr(lead, name, value)
    lead.save(update_fields=["status", "updated_at", *updates])
    LeadTransition.objects.create(
        lead=lead, from_status=previous, to_status=to, actor=actor, reason=reason[:300], reason_en=reason_en[:300]
    )
    if to not in OPEN_LEAD_STATUSES:
        customer_access_close_lead(customer_id=lead.customer_id)
    audit_record(
        actor=actor,
        verb="lead.transition",
        target=lead,
        details={"from": previous, "to": to, "reason": reason, **{k: str(v) for k, v in updates.items()}},
    )
    return lead


@transaction.atomic
def lead_follow_referral(*, actor, lead: Lead, to: str, reason: Words) -> Lead | None:
    """Move a referred lead after the branch's decision: back to nurturing (rejected or
    returned: the advisor's nurture cadence starts again), won or lost.

    A lead the advisor has already moved on (closed, ...) is left alone: returns None.
    The branch staff acting here are not the lead's team, so no work check applies.
    """
    lead = lead_lock(lead)
    if lead.status != S.REFERRED:
        return None
    now = timezone.now()
    lead = lead_transition(actor=actor, lead=lead, to=to, reason=reason)
    if to == S.NURTURING:
        nurture_plan_start(actor=actor, lead=lead, now=now)
    return lead


def lead_grant_branch(*, lead: Lead, branch) -> None:
    """Let ``branch``'s staff see ``lead`` (it is being referred there). Idempotent."""
    LeadBranchAccess.objects.get_or_create(lead=lead, branch=branch)


def lead_grant_branches(*, pairs: list[tuple[int, int]]) -> int:
    """Bulk form of :func:`lead_grant_branch` (lead id, branch id), for bulk loads such
    as the demo seeder. Grants already there are left alone."""
    LeadBranchAccess.objects.bulk_create(
        [LeadBranchAccess(lead_id=lid, branch_id=bid) for lid, bid in pairs], ignore_conflicts=True, batch_size=5000
    )
    return len(pairs)


@transaction.atomic
def lead_mark_referred(*, actor, lead: Lead, branch) -> Lead:
    """The lead has been handed to ``branch`` (``referrals`` has created the referral):
    move it to referred and drop the advisor's plans."""
    lead = lead_lock(lead)
    lead = lead_transition(
        actor=actor, lead=lead, to=S.REFERRED, reason=lambda: _("Referred to %(branch)s") % {"branch": branch}
    )
    lead_plans_cancel(lead=lead)
    return lead


# --- claiming ----------------------------------------------------------------------


@transaction.atomic
def lead_claim_next(*, actor) -> Lead | None:
    """Give ``actor`` the highest-score lead they may claim (an unclaimed new lead of
    their team), atomically.

    ``SKIP LOCKED`` lets concurrent advisors each take a different row instead of
    waiting on (and then double-taking) the same one.
    """
    if not can_claim_next(actor):
        raise PermissionDenied(_("Only remote advisors claim leads."))
    lead = (
        Lead.objects.select_for_update(skip_locked=True, of=("self",))
        .restrict(actor, "claim")
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
    """Claim one given lead (from a queue row): only when still unowned. Claiming a lead
    that is already the actor's changes nothing."""
    lead = lead_lock(lead)
    lead_require_work(actor=actor, lead=lead)
    if lead.owner_id == actor.pk:
        return lead
    if not can_claim_lead(actor, lead):
        raise PermissionDenied(_("Only remote advisors claim leads."))
    lead.owner = actor
    lead.save(update_fields=["owner", "updated_at"])
    audit_record(actor=actor, verb="lead.claim", target=lead, details={"score": lead.score})
    return lead


# --- confirmation and routing ------------------------------------------------------


@transaction.atomic
def lead_confirm(
    *, actor, lead: Lead, grade: str, reason_code: str = "", note: str = "", now: dt.datetime | None = None
) -> Lead:
    """Record the advisor's grade for a new lead and route mid and low ones: mid → the
    nurture cadence, low → the team's incubation pool. A high lead is left confirmed
    for its referral (``calls.services.lead_confirm_grade`` refers it in the same
    transaction). An override of the proposed grade needs a reason code."""
    now = now or timezone.now()
    if grade not in Grade.values:
        raise ValidationError(_("Choose a grade: high, mid or low."), code="grade")
    lead = lead_lock(lead)
    lead_require_work(actor=actor, lead=lead)
    if not can_confirm_lead(actor, lead):
        raise ValidationError(_("This lead has already been confirmed."), code="not_new")
    overridden = grade != lead.proposed_grade
    if overridden and reason_code not in GradeOverrideReason.values:
        raise ValidationError(
            _("You changed the proposed grade: choose a reason code for the override."), code="reason_required"
        )
    if overridden and reason_code == GradeOverrideReason.OTHER and not note.strip():
        raise ValidationError(_("Describe the reason for the override."), code="note_required")
    if lead.owner_id is None and can_claim_next(actor):
        lead.owner = actor  # an advisor confirming an unowned team lead takes it
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

    def reason() -> str:
        text = _("Grade confirmed as %(grade)s") % {"grade": Grade(grade).label}
        if overridden:
            text += " · " + _("override: %(reason)s") % {"reason": GradeOverrideReason(reason_code).label}
        return text

    lead = lead_transition(actor=actor, lead=lead, to=S.CONFIRMED, reason=reason, confirmed_grade=grade)
    audit_record(
        actor=actor,
        verb="lead.confirm_grade",
        target=lead,
        details={"proposed": lead.proposed_grade, "confirmed": grade, "overridden": overridden, "reason": reason_code},
    )
    if grade == Grade.MID:
        lead = lead_transition(
            actor=actor, lead=lead, to=S.NURTURING, reason=gettext_lazy("Mid grade: nurture cadence")
        )
        nurture_plan_start(actor=actor, lead=lead, now=now)
        return lead
    if grade == Grade.LOW:
        return lead_transition(
            actor=actor, lead=lead, to=S.POOLED, reason=gettext_lazy("Low grade: to the incubation pool"), owner=None
        )
    return lead


# --- nurture cadence and planned calls ------------------------------------------------


def _touch_interval(touches: int, period_days: int) -> dt.timedelta:
    return dt.timedelta(days=period_days) / max(touches, 1)


def nurture_interval() -> dt.timedelta:
    """The gap between two nurture touches with the configured cadence."""
    return _touch_interval(settings.WORKBENCH_NURTURE_TOUCHES, settings.WORKBENCH_NURTURE_PERIOD_DAYS)


def nurture_plan_start(*, actor, lead: Lead, now: dt.datetime) -> NurturePlan:
    """Start (or restart) the nurture cadence of ``lead``: the first touch is due ``now``,
    or at the opening of the next call slot when ``now`` is outside the call hours of a
    working day (``org.calendar``)."""
    now = Calendar.load().next_call_slot(now)
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


def lead_nurture(*, actor, lead: Lead, now: dt.datetime) -> Lead:
    """After a call: keep nurturing the lead, starting a cadence (first touch one interval
    from now) unless one is running."""
    if lead.status != S.NURTURING:
        lead = lead_transition(actor=actor, lead=lead, to=S.NURTURING, reason=gettext_lazy("Nurture after the call"))
    if not NurturePlan.objects.filter(lead=lead, active=True).exists():
        nurture_plan_start(actor=actor, lead=lead, now=now + nurture_interval())
    return lead


def _nurture_touch_done(*, lead: Lead, now: dt.datetime) -> None:
    plan = NurturePlan.objects.select_for_update().filter(lead=lead, active=True).first()
    if plan is None:
        return
    plan.touches_done += 1
    if plan.touches_done >= plan.touches_planned:
        plan.active = False
        plan.next_touch_at = None
    else:
        interval = _touch_interval(plan.touches_planned, plan.period_days)
        # The cadence's date, or now if that has passed, moved into a call slot.
        plan.next_touch_at = Calendar.load().next_call_slot(max(plan.started_at + interval * plan.touches_done, now))
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


def planned_calls_complete(*, lead: Lead, call_log_id: int, now: dt.datetime) -> int:
    """A call on a lead makes its planned calls due by the end of today done (and moves
    the nurture cadence on). Returns how many were done."""
    end_of_today = timezone.localtime(now).replace(hour=23, minute=59, second=59)
    due = list(
        PlannedCall.objects.select_for_update().filter(
            lead=lead, status=PlannedCallStatus.PLANNED, due_at__lte=end_of_today
        )
    )
    for planned in due:
        planned.status = PlannedCallStatus.DONE
        planned.call_log_id = call_log_id
        planned.done_at = now
        planned.save(update_fields=["status", "call_log_id", "done_at"])
        if planned.kind == PlannedCallKind.NURTURE:
            _nurture_touch_done(lead=lead, now=now)
    return len(due)


def callback_plan(*, actor, lead: Lead, due_at: dt.datetime, note: str = "") -> PlannedCall:
    """The customer asked to be called back at ``due_at``, which must fall in a call
    slot (call hours on a working day, ``org.calendar``)."""
    if not Calendar.load().in_call_slot(due_at):
        raise ValidationError({"callback_at": callback_time_error(due_at)})
    planned = PlannedCall.objects.create(
        lead=lead, customer_id=lead.customer_id, advisor=actor, kind=PlannedCallKind.CALLBACK, due_at=due_at, note=note
    )
    audit_record(actor=actor, verb="call.callback_planned", target=lead, details={"at": due_at.isoformat()})
    return planned


def callback_time_error(due_at: dt.datetime | None) -> str:
    """Why ``due_at`` cannot be a callback time, with the next time that can."""
    start, end, _tz = call_hours()
    now = timezone.now()
    suggestion = Calendar.load().next_call_slot(max(due_at or now, now))
    if suggestion == (due_at or now) and due_at is not None and due_at > now:
        suggestion = due_at
    return _(
        "Plan the callback in the future, between %(start)s and %(end)s on a working day; "
        "the next such time is %(next)s."
    ) % {
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
        "next": timezone.localtime(suggestion).strftime("%Y-%m-%d %H:%M"),
    }


def lead_plans_cancel(*, lead: Lead) -> None:
    """Nothing more is planned on the lead: its planned calls and nurture cadence stop."""
    PlannedCall.objects.filter(lead=lead, status=PlannedCallStatus.PLANNED).update(status=PlannedCallStatus.CANCELLED)
    NurturePlan.objects.filter(lead=lead, active=True).update(active=False, next_touch_at=None)
    Lead.objects.filter(pk=lead.pk).update(next_touch_at=None)


# --- the incubation pool -------------------------------------------------------------


@transaction.atomic
def lead_resurface(*, actor, lead: Lead, grade: str, score: float | None, reasons=None) -> Lead | None:
    """Bring a pooled lead back to the team's To-confirm queue when its grade rose."""
    lead = lead_lock(lead)
    if lead.status != S.POOLED:
        return None
    if GRADE_RANK[grade] <= GRADE_RANK.get(lead.confirmed_grade or lead.proposed_grade, 0):
        return None
    updates: dict[str, Any] = {
        "proposed_grade": grade,
        "confirmed_grade": "",
        "score": score,
        "owner": None,
        "proposed_at": timezone.now(),
    }
    if reasons is not None:
        updates["reasons"] = reasons
    return lead_transition(
        actor=actor,
        lead=lead,
        to=S.NEW,
        reason=lambda: _("Rescoring lifted the grade to %(grade)s") % {"grade": Grade(grade).label},
        **updates,
    )


# --- leads proposed by scoring -----------------------------------------------------------

# A customer whose grade just rose into high or mid, or who told a campaign's AI bot of
# an intent its rule looks for: (customer id, score, grade, reasons, model version,
# method "model" | "rules" | "campaign").
LeadCandidate = tuple[int, float | None, str, list, str, str]
_SOURCE_OF_METHOD = {"rules": LeadSource.RULES, "campaign": LeadSource.CAMPAIGN}

_PROPOSE_SQL = """
INSERT INTO {lead} (customer_id, team_id, owner_id, source, score, proposed_grade, confirmed_grade,
                    status, reasons, model_version, proposed_at, created_at, updated_at)
SELECT s.customer_id,
       coalesce(sp.team_id, (%(teams)s::bigint[])[(s.customer_id %% %(n_teams)s) + 1]),
       c.owner_id,
       CASE WHEN s.method = 'rules' THEN 'rules' ELSE 'model' END,
       s.score, s.grade, '', 'new', s.reasons, s.model_version, %(now)s, %(now)s, %(now)s
FROM ({candidates}) s
JOIN {customer} c ON c.id = s.customer_id
LEFT JOIN {staff} sp ON sp.user_id = c.owner_id
WHERE NOT EXISTS (SELECT 1 FROM {lead} l WHERE l.customer_id = s.customer_id AND l.status = ANY(%(open)s))
ON CONFLICT DO NOTHING
RETURNING customer_id, team_id
"""


def _team_ids() -> list[int]:
    return list(Team.objects.order_by("id").values_list("id", flat=True))


def leads_propose_sql(*, cursor, candidates_sql: str, params: dict | None = None, now: dt.datetime) -> int:
    """Open a new lead for every candidate without an open lead, in one statement
    (PostgreSQL; rescoring). ``candidates_sql`` is a SELECT with the columns of
    :data:`LeadCandidate` (``reasons`` as jsonb). The partial unique index on open leads
    makes a duplicate impossible even against a concurrent writer.

    Team: the owner advisor's team; an unowned customer goes to the team at position
    ``customer_id mod number of teams`` in team-id order (deterministic, and it spreads
    the unowned book evenly). Returns the number of leads opened.
    """
    sql = _PROPOSE_SQL.format(
        lead=Lead._meta.db_table,
        customer=Customer._meta.db_table,
        staff=StaffProfile._meta.db_table,
        candidates=candidates_sql,
    )
    teams = _team_ids() or [None]
    cursor.execute(
        sql,
        {
            **(params or {}),
            "teams": teams,
            "n_teams": len(teams),
            "now": now,
            "open": [str(s) for s in OPEN_LEAD_STATUSES],
        },
    )
    opened = cursor.fetchall()
    customer_access_open_leads(pairs=opened)
    return len(opened)


def _lead_homes(customer_ids: list[int]) -> dict[int, tuple[int | None, int | None]]:
    """{customer id: (owner, team)} of a new lead: the owner advisor's team; an unowned
    customer's goes to the team at ``customer_id mod number of teams`` (as the SQL path)."""
    teams = _team_ids()
    homes = {}
    for cid, owner, team in Customer.objects.filter(pk__in=customer_ids).values_list(
        "id", "owner_id", "owner__staff_profile__team_id"
    ):
        homes[cid] = (owner, team if team is not None or not teams else teams[cid % len(teams)])
    return homes


def leads_propose(*, candidates: list[LeadCandidate], now: dt.datetime) -> int:
    """The same as :func:`leads_propose_sql` for a handful of customers, in plain ORM
    statements (incremental rescoring, SQLite). Returns the number of leads opened."""
    ids = [c[0] for c in candidates]
    open_ids = set(Lead.objects.open().filter(customer_id__in=ids).values_list("customer_id", flat=True))
    owners = _lead_homes(ids)
    leads = []
    for cid, score, grade, reasons, version, method in candidates:
        if cid in open_ids or cid not in owners:
            continue
        owner, team = owners[cid]
        leads.append(
            Lead(
                customer_id=cid,
                team_id=team,
                owner_id=owner,
                source=_SOURCE_OF_METHOD.get(method, LeadSource.MODEL),
                score=score,
                proposed_grade=grade,
                status=S.NEW,
                reasons=reasons,
                model_version=version,
                proposed_at=now,
            )
        )
    Lead.objects.bulk_create(leads, ignore_conflicts=True)
    # bulk_create(ignore_conflicts) does not say which rows it skipped: read what exists.
    opened = list(
        Lead.objects.filter(
            customer_id__in=[lead.customer_id for lead in leads], status=S.NEW, created_at__gte=now
        ).values_list("customer_id", "team_id")
    )
    customer_access_open_leads(pairs=opened)
    return len(opened)


def leads_open_for_campaign(*, customer_ids: list[int], now: dt.datetime) -> dict[int, Lead]:
    """The open lead of each customer a campaign gives a call task, opening one (source
    campaign, grade mid, new) for a customer without one: the call task is planned on
    it and the advisor confirms its grade after the call. Team: the owner's, as for the
    leads scoring proposes. Returns {customer id: open lead}."""
    ids = list(dict.fromkeys(customer_ids))
    found = {lead.customer_id: lead for lead in Lead.objects.open().filter(customer_id__in=ids)}
    missing = [cid for cid in ids if cid not in found]
    if missing:
        owners = _lead_homes(missing)
        fresh = []
        for cid in missing:
            if cid not in owners:
                continue
            owner, team = owners[cid]
            fresh.append(
                Lead(
                    customer_id=cid,
                    team_id=team,
                    owner_id=owner,
                    source=LeadSource.CAMPAIGN,
                    proposed_grade=Grade.MID,
                    status=S.NEW,
                    proposed_at=now,
                )
            )
        Lead.objects.bulk_create(fresh, ignore_conflicts=True)
        opened = {lead.customer_id: lead for lead in Lead.objects.open().filter(customer_id__in=missing)}
        customer_access_open_leads(
            pairs=[(lead.customer_id, lead.team_id) for lead in opened.values() if lead.source == LeadSource.CAMPAIGN]
        )
        found.update(opened)
    return found


def planned_calls_cancel_for_campaign(*, campaign_id: int) -> int:
    """An ended campaign's call tasks not made yet leave the advisors' queues."""
    return PlannedCall.objects.filter(
        campaign_id=campaign_id, kind=PlannedCallKind.CAMPAIGN, status=PlannedCallStatus.PLANNED
    ).update(status=PlannedCallStatus.CANCELLED)
