import datetime as dt

from django.utils import timezone

from core.models import AuditEvent, Notification
from referrals import services
from referrals.models import Referral, SlaBreach
from referrals.tasks import referral_sla_check

from .factories import high_lead


def _age(referral, **fields):
    Referral.objects.filter(pk=referral.pk).update(**fields)


def test_overdue_review_marked_once_notifies_manager_then_escalates_once(world, referral):
    now = timezone.now()
    _age(referral, review_due_at=now - dt.timedelta(hours=1))
    first = services.referral_sla_check(now=now)
    again = services.referral_sla_check(now=now)
    assert first == {"marked_overdue": 1, "escalated": 0}
    assert again == {"marked_overdue": 0, "escalated": 0}
    breach = SlaBreach.objects.get(referral=referral)
    assert breach.stage == "review" and breach.escalated_at is None
    assert Notification.objects.filter(recipient=world.manager_x, event_key__endswith=":overdue:review").count() == 1
    assert AuditEvent.objects.filter(verb="referral.overdue").count() == 1
    referral.refresh_from_db()
    assert referral.overdue_at is not None

    # A further working day later (a Monday for a Friday breach), the team lead hears of it.
    later = now + dt.timedelta(days=5)
    assert services.referral_sla_check(now=later)["escalated"] == 1
    assert services.referral_sla_check(now=later)["escalated"] == 0
    assert Notification.objects.filter(recipient=world.lead_a, event_key__endswith=":escalated:review").count() == 1
    assert not Notification.objects.filter(recipient=world.advisor_b).exists()
    assert AuditEvent.objects.filter(verb="referral.escalate").count() == 1


def test_no_escalation_before_a_further_working_day(world, referral):
    now = timezone.now()
    _age(referral, review_due_at=now - dt.timedelta(minutes=1))
    services.referral_sla_check(now=now)
    assert services.referral_sla_check(now=now + dt.timedelta(hours=2))["escalated"] == 0
    assert not Notification.objects.filter(recipient=world.lead_a).exists()


def test_accepting_resolves_the_review_breach_and_stops_escalation(world, referral):
    now = timezone.now()
    _age(referral, review_due_at=now - dt.timedelta(hours=1))
    services.referral_sla_check(now=now)
    services.referral_accept(actor=world.manager_x, referral=referral, rm=world.rm_x)
    assert SlaBreach.objects.get(referral=referral).resolved_at is not None
    referral.refresh_from_db()
    assert referral.overdue_at is None
    services.referral_sla_check(now=now + dt.timedelta(days=5))
    assert SlaBreach.objects.get(referral=referral, stage="review").escalated_at is None
    assert not Notification.objects.filter(event_key__endswith=":escalated:review").exists()


def test_first_contact_overdue_notifies_manager_and_rm(world, accepted):
    now = timezone.now()
    _age(accepted, first_contact_due_at=now - dt.timedelta(hours=1))
    referral_sla_check.delay()  # eager in tests: the real task through Celery
    referral_sla_check.delay()
    assert SlaBreach.objects.filter(referral=accepted, stage="first_contact").count() == 1
    assert Notification.objects.filter(event_key=f"referral:{accepted.pk}:overdue:first_contact").count() == 2
    services.referral_follow_up(actor=world.rm_x, referral=accepted, kind="attempt", reached=True)
    assert SlaBreach.objects.get(referral=accepted, stage="first_contact").resolved_at is not None


def test_contacted_or_closed_referrals_are_never_overdue(world, accepted):
    services.referral_follow_up(actor=world.rm_x, referral=accepted, kind="attempt", reached=True)
    _age(accepted, first_contact_due_at=timezone.now() - dt.timedelta(days=3))
    assert services.referral_sla_check()["marked_overdue"] == 0


def test_backlog_is_worked_in_chunks_with_one_effect_each(world, monkeypatch):
    monkeypatch.setattr(services, "SLA_CHUNK", 2)
    refs = [
        services.referral_create(
            actor=world.advisor_a, lead=high_lead(advisor=world.advisor_a, team=world.team_a, branch=world.branch_x)
        )
        for _ in range(5)
    ]
    Referral.objects.filter(pk__in=[r.pk for r in refs]).update(review_due_at=timezone.now() - dt.timedelta(hours=1))
    assert services.referral_sla_check()["marked_overdue"] == 5
    assert services.referral_sla_check()["marked_overdue"] == 0
    assert SlaBreach.objects.count() == 5
    assert Notification.objects.filter(recipient=world.manager_x, event_key__contains=":overdue:").count() == 5
    assert AuditEvent.objects.filter(verb="referral.overdue").count() == 5
    later = timezone.now() + dt.timedelta(days=6)
    assert services.referral_sla_check(now=later)["escalated"] == 5
    assert services.referral_sla_check(now=later)["escalated"] == 0
    assert Notification.objects.filter(recipient=world.lead_a, event_key__contains=":escalated:").count() == 5
