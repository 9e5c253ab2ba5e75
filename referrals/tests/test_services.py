from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from core.models import AuditEvent, Notification
from leads.models import LeadStatus
from referrals import services
from referrals.apps import ReferralsConfig
from referrals.models import FollowUp, Referral, ReferralEvent, ReferralStatus, RejectReason
from referrals.selectors import EVENT_LABELS
from scoring.models import Outcome

from .factories import high_lead

S = ReferralStatus


def audits(referral, verb):
    return AuditEvent.objects.filter(verb=verb, target_type="referrals.referral", target_id=str(referral.pk))


def test_accept_assigns_rm_sets_first_contact_deadline_audits_and_notifies(world, referral):
    r = services.referral_accept(actor=world.manager_x, referral=referral, rm=world.rm_x)
    assert r.status == S.ACCEPTED and r.assigned_rm == world.rm_x and r.accepted_at
    assert r.first_contact_due_at > r.accepted_at
    assert audits(r, "referral.accept").get().details == {"from": "pending", "to": "accepted", "rm": world.rm_x.pk}
    assert ReferralEvent.objects.filter(referral=r, verb="accept", from_status="pending", to_status="accepted").exists()
    assert Notification.objects.filter(recipient=world.advisor_a, event_key=f"referral:{r.pk}:accepted").count() == 1
    assert Notification.objects.filter(recipient=world.rm_x).count() == 1


def test_accept_twice_is_refused_and_notifies_once(world, accepted):
    with pytest.raises(ValidationError):
        services.referral_accept(actor=world.manager_x, referral=accepted, rm=world.rm_x)
    assert Notification.objects.filter(recipient=world.advisor_a, title__contains="").count() == 1
    assert audits(accepted, "referral.accept").count() == 1


def test_only_the_branch_manager_of_the_referral_reviews(world, referral, rm_y):
    for actor in (world.manager_y, world.rm_x, world.advisor_a, world.compliance, world.lead_a):
        with pytest.raises(PermissionDenied):
            services.referral_accept(actor=actor, referral=referral, rm=world.rm_x)
        with pytest.raises(PermissionDenied):
            services.referral_reject(actor=actor, referral=referral, reason=RejectReason.NOT_A_FIT)
    with pytest.raises(ValidationError):  # an RM of another branch cannot be assigned
        services.referral_accept(actor=world.manager_x, referral=referral, rm=rm_y)
    referral.refresh_from_db()
    assert referral.status == S.PENDING and referral.assigned_rm is None
    assert not audits(referral, "referral.accept").exists()


def test_reject_needs_text_for_other_then_records_reason_and_returns_lead(world, referral):
    with pytest.raises(ValidationError):
        services.referral_reject(actor=world.manager_x, referral=referral, reason=RejectReason.OTHER, note=" ")
    with pytest.raises(ValidationError):
        services.referral_reject(actor=world.manager_x, referral=referral, reason="bogus")
    r = services.referral_reject(
        actor=world.manager_x, referral=referral, reason=RejectReason.ALREADY_SERVED, note="客户已在我行网点签约"
    )
    assert r.status == S.REJECTED and r.reject_reason == "already_served" and r.rejected_at and r.closed_at
    assert audits(r, "referral.reject").get().details["reason"] == "already_served"
    r.lead.refresh_from_db()
    assert r.lead.status == LeadStatus.NURTURING
    assert Notification.objects.filter(recipient=world.advisor_a, event_key=f"referral:{r.pk}:rejected").count() == 1


def test_follow_ups_move_accepted_to_contacted_to_meeting(world, accepted):
    fu = services.referral_follow_up(actor=world.rm_x, referral=accepted, kind="attempt", reached=False, note="未接")
    r = Referral.objects.get(pk=accepted.pk)
    assert r.status == S.ACCEPTED and r.first_contacted_at is None and fu.reached is False
    services.referral_follow_up(actor=world.rm_x, referral=r, kind="attempt", reached=True, note="客户同意面谈")
    r.refresh_from_db()
    assert r.status == S.CONTACTED and r.first_contacted_at
    assert audits(r, "referral.attempt").count() == 1
    services.referral_follow_up(
        actor=world.rm_x, referral=r, kind="meeting", meeting_at=timezone.now() + timezone.timedelta(days=2)
    )
    r.refresh_from_db()
    assert r.status == S.MEETING
    assert audits(r, "referral.meeting").count() == 1
    services.referral_follow_up(actor=world.rm_x, referral=r, kind="visit", note="客户到店")
    r.refresh_from_db()
    assert r.status == S.MEETING
    assert FollowUp.objects.filter(referral=r).count() == 4
    assert audits(r, "referral.follow_up").count() == 4


def test_follow_up_validation(world, accepted, rm_x2):
    with pytest.raises(ValidationError):
        services.referral_follow_up(actor=world.rm_x, referral=accepted, kind="attempt")  # reached unknown
    with pytest.raises(ValidationError):
        services.referral_follow_up(actor=world.rm_x, referral=accepted, kind="meeting")
    with pytest.raises(ValidationError):
        services.referral_follow_up(
            actor=world.rm_x,
            referral=accepted,
            kind="attempt",
            reached=True,
            occurred_at=timezone.now() + timezone.timedelta(days=1),
        )
    with pytest.raises(PermissionDenied):  # another RM of the branch: not theirs
        services.referral_follow_up(actor=rm_x2, referral=accepted, kind="attempt", reached=True)
    with pytest.raises(PermissionDenied):
        services.referral_follow_up(actor=world.advisor_a, referral=accepted, kind="attempt", reached=True)
    assert not FollowUp.objects.filter(referral=accepted).exists()


def test_convert_records_product_amount_lead_won_and_notifies_advisor(world, accepted, product):
    with pytest.raises(ValidationError):
        services.referral_record_outcome(
            actor=world.rm_x, referral=accepted, outcome=S.CONVERTED, product=product, amount="0"
        )
    with pytest.raises(ValidationError):
        services.referral_record_outcome(actor=world.rm_x, referral=accepted, outcome=S.CONVERTED, amount="100")
    r = services.referral_record_outcome(
        actor=world.rm_x, referral=accepted, outcome=S.CONVERTED, product=product, amount="200000", note="已购买"
    )
    assert r.status == S.CONVERTED and r.converted_amount == Decimal("200000.00") and r.converted_product == product
    assert r.closed_at and r.first_contacted_at
    assert audits(r, "referral.converted").get().details["amount"] == "200000.00"
    r.lead.refresh_from_db()
    assert r.lead.status == LeadStatus.WON
    assert Notification.objects.filter(recipient=world.advisor_a, event_key=f"referral:{r.pk}:converted").count() == 1
    outcome = Outcome.objects.get(external_key=f"referral:{r.pk}")  # scoring learns from it
    assert outcome.converted and outcome.amount == Decimal("200000.00") and outcome.product == product
    with pytest.raises(ValidationError):  # final
        services.referral_return(actor=world.rm_x, referral=r, reason="x")


def test_lost_needs_reason(world, accepted):
    with pytest.raises(ValidationError):
        services.referral_record_outcome(actor=world.rm_x, referral=accepted, outcome=S.LOST)
    r = services.referral_record_outcome(actor=world.rm_x, referral=accepted, outcome=S.LOST, note="客户资金已转他行")
    assert r.status == S.LOST and r.outcome_note == "客户资金已转他行"
    assert audits(r, "referral.lost").count() == 1
    r.lead.refresh_from_db()
    assert r.lead.status == LeadStatus.LOST


def test_return_sends_lead_back_to_nurture_audited_and_notified(world, accepted):
    with pytest.raises(ValidationError):
        services.referral_return(actor=world.rm_x, referral=accepted, reason="")
    r = services.referral_return(actor=world.rm_x, referral=accepted, reason="客户希望线上沟通")
    assert r.status == S.RETURNED and r.outcome_note == "客户希望线上沟通"
    assert audits(r, "referral.return").count() == 1
    r.lead.refresh_from_db()
    assert r.lead.status == LeadStatus.NURTURING
    lead_audit = AuditEvent.objects.filter(verb="lead.transition", target_id=str(r.lead_id)).latest("id")
    assert lead_audit.details["to"] == "nurturing" and lead_audit.actor == world.rm_x
    # it is back on the advisor's nurture cadence (the queues feature's plan), a touch due now
    assert r.lead.nurture_plan.active and r.lead.nurture_plan.advisor == world.advisor_a
    assert Notification.objects.filter(recipient=world.advisor_a, event_key=f"referral:{r.pk}:returned").count() == 1


def test_reassign_within_branch(world, accepted, rm_x2):
    r = services.referral_reassign(actor=world.manager_x, referral=accepted, rm=rm_x2)
    assert r.assigned_rm == rm_x2
    assert audits(r, "referral.reassign").get().details == {"from_rm": world.rm_x.pk, "to_rm": rm_x2.pk}
    with pytest.raises(PermissionDenied):  # the previous RM no longer works it
        services.referral_follow_up(actor=world.rm_x, referral=r, kind="attempt", reached=True)


def test_bulk_accept_assigns_pending_and_skips_the_rest(world, referral, rm_x2):
    second = services.referral_create(
        actor=world.advisor_a2, lead=high_lead(advisor=world.advisor_a2, team=world.team_a, branch=world.branch_x)
    )
    third = services.referral_create(
        actor=world.advisor_a, lead=high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)
    )
    services.referral_reject(actor=world.manager_x, referral=third, reason=RejectReason.UNREACHABLE)
    result = services.referral_bulk_accept(
        actor=world.manager_x, referral_ids=[referral.pk, second.pk, third.pk], rm=rm_x2
    )
    assert result == {"accepted": sorted([referral.pk, second.pk]), "skipped": [third.pk]}
    assert set(Referral.objects.filter(assigned_rm=rm_x2).values_list("pk", flat=True)) == {referral.pk, second.pk}
    assert AuditEvent.objects.filter(verb="referral.accept").count() == 2
    assert AuditEvent.objects.filter(verb="referral.bulk_accept").count() == 1
    assert Notification.objects.filter(recipient=rm_x2).count() == 2
    assert Notification.objects.filter(recipient=world.advisor_a2, event_key__endswith=":accepted").count() == 1


def test_bulk_accept_refuses_another_branchs_referral(world, referral):
    other = services.referral_create(
        actor=world.advisor_b,
        lead=high_lead(advisor=world.advisor_b, team=world.team_b, branch=world.branch_y),
    )
    with pytest.raises(PermissionDenied):
        services.referral_bulk_accept(actor=world.manager_x, referral_ids=[referral.pk, other.pk], rm=world.rm_x)
    assert Referral.objects.filter(status=S.ACCEPTED).count() == 0  # all or nothing


def test_notifications_also_go_by_email_when_enabled(
    world, referral, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.WORKBENCH_REFERRAL_EMAIL = True
    world.advisor_a.email = "wang@example.com"
    world.advisor_a.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        services.referral_accept(actor=world.manager_x, referral=referral, rm=world.rm_x)
    assert [m.to for m in mailoutbox] == [["wang@example.com"]]
    assert f"/referrals/{referral.pk}/" in mailoutbox[0].body


def test_every_audit_verb_and_event_verb_of_the_workflow_is_declared(world, referral, rm_x2, product):
    """What the services record is labelled: audit verbs in ReferralsConfig.audit_verbs
    (the audit log shows them), timeline verbs in selectors.EVENT_LABELS."""
    services.referral_reassign(
        actor=world.manager_x,
        referral=services.referral_accept(actor=world.manager_x, referral=referral, rm=world.rm_x),
        rm=rm_x2,
    )
    services.referral_follow_up(actor=rm_x2, referral=referral, kind="attempt", reached=True)
    services.referral_follow_up(actor=rm_x2, referral=referral, kind="visit")
    services.referral_record_outcome(actor=rm_x2, referral=referral, outcome=S.CONVERTED, product=product, amount=50000)
    others = [
        services.referral_create(
            actor=world.advisor_a, lead=high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)
        )
        for _ in range(5)  # the fifth stays pending and goes overdue
    ]
    services.referral_reject(actor=world.manager_x, referral=others[0], reason=RejectReason.NOT_A_FIT)
    services.referral_bulk_accept(actor=world.manager_x, referral_ids=[o.pk for o in others[1:4]], rm=world.rm_x)
    services.referral_follow_up(
        actor=world.rm_x, referral=others[1], kind="meeting", meeting_at=timezone.now() + timezone.timedelta(days=1)
    )
    services.referral_record_outcome(actor=world.rm_x, referral=others[2], outcome=S.LOST, note="已转他行")
    services.referral_return(actor=world.rm_x, referral=others[3], reason="客户希望线上沟通")
    services.referral_sla_check(now=timezone.now() + timezone.timedelta(days=30))
    services.referral_sla_check(now=timezone.now() + timezone.timedelta(days=35))
    services.referral_export_record(actor=world.compliance, fmt="csv", rows=1, filters={})

    declared = ReferralsConfig.audit_verbs
    recorded = set(AuditEvent.objects.filter(verb__startswith="referral.").values_list("verb", flat=True))
    assert recorded == set(declared)  # each declared verb is recorded by this walk, and none undeclared
    assert all(str(label) for label in declared.values())
    events = set(ReferralEvent.objects.values_list("verb", flat=True))
    assert events <= set(EVENT_LABELS), events - set(EVENT_LABELS)
