"""Retraining the uplift model on a schedule: the beat queues a job only when the last
training is old enough (twice: one job), a new version replaces the one in use only when
it ranks the held-out customers that version never saw at least as well (else it is kept
with the reason, audited), nothing new to learn from writes no version, and the page
says when it last trained and when it trains next."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from campaigns import tasks
from campaigns import uplift as campaign_uplift
from campaigns.models import Arm, Enrolment
from campaigns.tests.factories import make_campaign
from core.models import AuditEvent, Job
from customers.tests.factories import CustomerFactory
from scoring.models import UpliftModelVersion
from scoring.services import uplift as uplift_services
from scoring.tests.test_uplift import synthetic

pytestmark = pytest.mark.django_db


def _train(actor, *, n: int, seed: int, effect: float = 0.30, offset: int = 0, closed_at=None):
    X, treated, y, groups, _p = synthetic(n, effect=effect, seed=seed, repeat_customers=True)
    if closed_at is not None:
        closed_at = [closed_at] * len(y)
    return uplift_services.uplift_model_train(
        actor=actor, X=X, treated=treated, y=y, groups=groups + offset, closed_at=closed_at
    )


def test_the_beat_queues_one_training_a_period(world, django_capture_on_commit_callbacks):
    now = timezone.now()
    with django_capture_on_commit_callbacks() as sent:
        first = tasks.retrain_uplift()
        assert tasks.retrain_uplift() is None  # run twice: the job it queued is this period's
    assert first is not None and len(sent) == 1
    job = Job.objects.get(pk=first)
    assert (job.kind, job.created_by, job.task, job.params) == (
        campaign_uplift.TRAIN_KIND,
        None,
        "campaigns.train_uplift",
        {"scheduled": True},
    )
    assert AuditEvent.objects.filter(verb="job.create", target_id=str(job.pk), actor=None).exists()
    # finished: nothing due until the period has passed
    Job.objects.filter(pk=job.pk).update(status=Job.Status.SUCCEEDED, finished_at=now)
    days = settings.WORKBENCH_UPLIFT_RETRAIN_DAYS
    assert campaign_uplift.uplift_retrain_scheduled(now=now + dt.timedelta(days=days - 1)) is None
    latest, next_at = campaign_uplift.uplift_next_training(now=now)
    assert latest.pk == job.pk and next_at == job.created_at + dt.timedelta(days=days)
    # a training from the page also counts as the period's
    Job.objects.filter(pk=job.pk).update(created_at=now - dt.timedelta(days=days + 1))
    with django_capture_on_commit_callbacks():
        manual = campaign_uplift.uplift_train_job_create(actor=world.campaigner)
    assert campaign_uplift.uplift_retrain_scheduled(now=now) is None
    Job.objects.filter(pk=manual.pk).update(status=Job.Status.FAILED, created_at=now - dt.timedelta(days=days))
    with django_capture_on_commit_callbacks() as sent:
        again = campaign_uplift.uplift_retrain_scheduled(now=now)
    assert again is not None and len(sent) == 1
    assert Job.objects.filter(kind=campaign_uplift.TRAIN_KIND).count() == 3


def test_a_new_version_replaces_the_one_in_use_only_when_not_worse(world):
    # a weak version in use: it learned noise (put in use by hand, as an old version may be)
    weak = _train(world.campaigner, n=4000, seed=3, effect=0.0)
    UpliftModelVersion.objects.filter(pk=weak.pk).update(is_active=True)
    later = timezone.now() + dt.timedelta(days=7)
    # a version that learned the planted group on customers the weak one never saw
    better = _train(world.campaigner, n=4000, seed=1, offset=10_000, closed_at=later)
    assert better.is_active and not UpliftModelVersion.objects.get(pk=weak.pk).is_active
    compared = better.metrics["compared"]
    assert better.metrics["compared_with"] == weak.version and compared["enough"]
    assert compared["qini_difference"] > 0
    # a version that ranks worse than the one in use, on the same customers: kept, saying why
    strong = _train(world.campaigner, n=8000, seed=7, offset=20_000, closed_at=later)
    UpliftModelVersion.objects.update(is_active=False)
    UpliftModelVersion.objects.filter(pk=strong.pk).update(is_active=True)
    worse = _train(world.campaigner, n=4000, seed=1, offset=30_000, closed_at=later + dt.timedelta(days=7))
    assert worse.metrics["finds_uplift"]  # it finds uplift on its own...
    assert worse.metrics["compared"]["qini_difference"] < 0  # ...but less than the version in use
    assert not worse.is_active
    assert UpliftModelVersion.objects.get(is_active=True).pk == strong.pk
    assert strong.version in worse.note and "低于" in worse.note and "below" in worse.note_en
    event = AuditEvent.objects.get(verb="scoring.uplift_train", target_id=str(worse.pk))
    assert event.details["in_use"] is False and event.details["kept_because"] == "worse_than_current"
    assert event.details["compared_with"] == strong.version
    assert event.details["qini_difference"] == worse.metrics["compared"]["qini_difference"]
    # rows the version in use learned from (no closing times: all seen) cannot judge it
    unseen = _train(world.campaigner, n=4000, seed=1, offset=40_000)
    assert not unseen.is_active and unseen.metrics["compared"] == {"rows": 0, "enough": False}
    assert "too few to compare" in unseen.note_en


def _enrolments(campaign, n: int, entered_at):
    customers = CustomerFactory.create_batch(n)
    Enrolment.objects.bulk_create(
        [
            Enrolment(
                campaign=campaign,
                customer=c,
                bucket=i,
                arm=Arm.CONTROL if i % 2 else Arm.TREATMENT,
                entered_at=entered_at,
                state="completed",
            )
            for i, c in enumerate(customers)
        ]
    )


def test_a_scheduled_training_with_nothing_new_writes_no_version(world, django_capture_on_commit_callbacks):
    campaign = make_campaign(world)
    _enrolments(campaign, 6, timezone.now() - dt.timedelta(days=60))
    in_use = _train(world.campaigner, n=4000, seed=1)
    assert in_use.is_active
    with django_capture_on_commit_callbacks():
        job_id = tasks.retrain_uplift()
    result = campaign_uplift.uplift_train_run(job_id=job_id)
    assert result == {"kept": in_use.version, "reason": "nothing_new", "rows": 6}
    job = Job.objects.get(pk=job_id)
    assert job.status == Job.Status.SUCCEEDED and in_use.version in job.message and "_" not in job.message
    assert UpliftModelVersion.objects.count() == 1
    assert campaign_uplift.uplift_train_run(job_id=job_id) == result  # run again: the same answer
    # windows closed after the version in use learned: this time it trains (too few here)
    UpliftModelVersion.objects.filter(pk=in_use.pk).update(
        metrics={**in_use.metrics, "trained_until": (timezone.now() - dt.timedelta(days=45)).isoformat()}
    )
    second = Job.objects.create(kind=campaign_uplift.TRAIN_KIND, total=4)
    assert campaign_uplift.uplift_train_run(job_id=second.pk)["error"] == "not_enough_enrolments"
    assert UpliftModelVersion.objects.count() == 1


def test_the_page_says_when_it_trained_and_trains_next(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.campaigner)
    url = reverse("campaigns:uplift")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "上次训练：尚无" in page and "下次训练" in page and "每 7 天自动重新训练" in page
    with django_capture_on_commit_callbacks():
        job_id = tasks.retrain_uplift()
    job = Job.objects.get(pk=job_id)
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    expected = timezone.localtime(job.created_at + dt.timedelta(days=7)).strftime("%Y-%m-%d %H:%M")
    assert 'data-testid="schedule-times"' in page and expected in page and "上次训练：" in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(url).content.decode()
    assert "Retrained automatically every 7 days" in page and "Next training:" in page
