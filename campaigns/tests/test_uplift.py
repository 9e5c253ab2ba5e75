"""Targeting by uplift, from past enrolments to a segment's cut: the demo history's planted
group found on held-out customers, the training job (twice, after a killed worker, too
little data), the cut and the funnel's words, the refusals, the page by role."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from campaigns import uplift as campaign_uplift
from campaigns import uplift_cut
from campaigns.demo_uplift import CODE, ENTRY_DAYS_AGO, seed_uplift_history, truth
from campaigns.models import Campaign, CampaignStatus, Segment, UpliftKeep
from campaigns.services.segments import segment_members, segment_save
from campaigns.targeting import exclusion_funnel
from campaigns.tests.factories import approved_script
from core.models import AuditEvent, Job
from customers.models import AssetSnapshot, Customer, Holding
from customers.tests.factories import CustomerFactory, ProductFactory
from scoring.models import CustomerUplift, UpliftModelVersion
from scoring.services import uplift as uplift_services
from scoring.tests.test_uplift import synthetic

pytestmark = pytest.mark.django_db

TIER_AUM = {"long_tail": 30_000, "base": 200_000, "wealth": 1_500_000, "private": 8_000_000}


def customers_with_history(n: int, *, seed: int = 5) -> list[int]:
    """``n`` customers with a snapshot before the demo campaign's entry (their tier then)
    and, for most, a holding maturing within 0–60 days of entry."""
    rng = np.random.default_rng(seed)
    today = timezone.localdate()
    entry = today - dt.timedelta(days=ENTRY_DAYS_AGO)
    product = ProductFactory()
    customers = CustomerFactory.create_batch(n)
    tiers = rng.choice(list(TIER_AUM), n, p=[0.3, 0.45, 0.2, 0.05])
    snapshots, holdings = [], []
    for c, tier in zip(customers, tiers, strict=True):
        aum = Decimal(TIER_AUM[tier])
        snapshots.append(AssetSnapshot(customer=c, date=entry - dt.timedelta(days=10), aum=aum, deposits=aum))
        if rng.random() < 0.8:
            holdings.append(
                Holding(
                    customer=c,
                    product=product,
                    amount=Decimal("50000"),
                    opened_on=entry - dt.timedelta(days=200),
                    maturity_date=entry + dt.timedelta(days=int(rng.integers(0, 60))),
                )
            )
            # and one maturing within 0–60 days of today, for the scores of today
            holdings.append(
                Holding(
                    customer=c,
                    product=product,
                    amount=Decimal("50000"),
                    opened_on=today - dt.timedelta(days=100),
                    maturity_date=today + dt.timedelta(days=int(rng.integers(0, 60))),
                )
            )
    AssetSnapshot.objects.bulk_create(snapshots)
    Holding.objects.bulk_create(holdings)
    return [c.pk for c in customers]


def train(world, django_capture_on_commit_callbacks, actor=None) -> Job:
    with django_capture_on_commit_callbacks(execute=True):
        job = campaign_uplift.uplift_train_job_create(actor=actor or world.campaigner)
    job.refresh_from_db()
    return job


def test_demo_history_teaches_the_model_its_planted_group(world, django_capture_on_commit_callbacks):
    n = 2400 if connection.vendor == "postgresql" else 1500  # SQLite reads features one customer at a time
    ids = customers_with_history(n)
    script = approved_script(world)
    written = seed_uplift_history(
        author=world.campaigner, approver=world.campaigner2, today=timezone.localdate(), entrants=n, script=script
    )
    assert written > 0.9 * n  # the global holdout stays out
    assert Campaign.objects.get(code=CODE).status == CampaignStatus.ENDED
    # a second seeding adds nothing
    assert seed_uplift_history(author=world.campaigner, approver=world.campaigner2, today=timezone.localdate()) == 0

    enrolments = campaign_uplift.uplift_training_enrolments()
    assert len(enrolments) == written
    entered_at = enrolments[0][1]
    persuadable, _anyway = truth(customer_ids=ids, entered_at=entered_at)
    assert 0.15 < len(persuadable) / n < 0.5  # the planted group is there to find
    treated = np.array([row[2] for row in enrolments])
    assert 0.4 < treated.mean() < 0.6  # half the entrants in the control group

    job = train(world, django_capture_on_commit_callbacks)
    assert job.status == Job.Status.SUCCEEDED, job.message
    version = UpliftModelVersion.objects.get()
    m = version.metrics
    # beats random targeting on held-out customers by a clear margin
    assert m["qini_interval"][0] > 0
    assert m["qini"] > m["random_qini"] + 0.01
    assert m["top_decile_uplift"] > m["overall_uplift"] + 0.10
    assert version.is_active
    assert AuditEvent.objects.filter(verb="scoring.uplift_train", target_id=str(version.pk)).exists()
    # every customer scored, the persuadable (as they are now) ranked higher
    assert CustomerUplift.objects.count() == Customer.objects.count()
    assert version.scored_customers == Customer.objects.count()
    # customers with a maturity within 30 days now, in the base or wealth tier, rank higher
    by_id = dict(CustomerUplift.objects.values_list("customer_id", "uplift"))
    now_persuadable, _a = truth(customer_ids=ids, entered_at=timezone.now())
    assert now_persuadable
    if now_persuadable:
        inside = np.mean([by_id[c] for c in now_persuadable])
        outside = np.mean([by_id[c] for c in ids if c not in now_persuadable])
        assert inside > outside

    # the task run again for the same job: the same answer, no second version
    assert campaign_uplift.uplift_train_run(job_id=job.pk) == job.result
    assert UpliftModelVersion.objects.count() == 1


def fast_version(actor) -> UpliftModelVersion:
    """A version trained on synthetic rows with a planted group (no enrolments needed)."""
    X, treated, y, groups, _p = synthetic(4000, effect=0.30, repeat_customers=True)
    return uplift_services.uplift_model_train(actor=actor, X=X, treated=treated, y=y, groups=groups)


def test_a_job_whose_worker_died_after_training_resumes_without_training_again(world):
    customers = CustomerFactory.create_batch(5)
    job = Job.objects.create(kind=campaign_uplift.TRAIN_KIND, created_by=world.campaigner, total=4)
    # the dead worker trained and stored its version, then died before scoring anybody
    X, treated, y, groups, _p = synthetic(4000, effect=0.30, repeat_customers=True)
    version = uplift_services.uplift_model_train(
        actor=world.campaigner, X=X, treated=treated, y=y, groups=groups, job_id=job.pk
    )
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, heartbeat_at=timezone.now())
    # a duplicate message while the worker still reports is refused
    assert campaign_uplift.uplift_train_run(job_id=job.pk) is None
    # after the lease the sweeper's message resumes it
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    result = campaign_uplift.uplift_train_run(job_id=job.pk)
    assert result["version"] == version.version
    assert UpliftModelVersion.objects.count() == 1
    assert CustomerUplift.objects.filter(customer__in=customers).count() == 5
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED


def test_too_few_enrolments_fail_the_job_in_words(world, django_capture_on_commit_callbacks):
    job = train(world, django_capture_on_commit_callbacks)
    assert job.status == Job.Status.FAILED
    assert "40" in job.message and "_" not in job.message
    assert job.result["error"] == "not_enough_enrolments"
    assert not UpliftModelVersion.objects.exists()


def test_training_refused_to_other_roles(world):
    for user in (world.advisor_a, world.lead_a, world.compliance):
        with pytest.raises(PermissionDenied):
            campaign_uplift.uplift_train_job_create(actor=user)


# --- the segment's cut and the funnel -----------------------------------------------------


def scored_world(world, n: int = 30):
    """``n`` customers with a known predicted uplift: customer i has uplift i / 100; the
    even ones would convert without contact (p_control 0.5), the odd ones would not."""
    version = fast_version(world.campaigner)
    customers = CustomerFactory.create_batch(n)
    now = timezone.now()
    CustomerUplift.objects.bulk_create(
        [
            CustomerUplift(
                customer=c,
                uplift=i / 100,
                p_treated=0.5 + i / 100 if i % 2 == 0 else 0.01 + i / 100,
                p_control=0.5 if i % 2 == 0 else 0.01,
                version=version,
                scored_at=now,
            )
            for i, c in enumerate(customers)
        ]
    )
    return version, customers


def test_segment_keeps_the_top_n_and_the_funnel_names_who_was_left_out(world):
    version, customers = scored_world(world)
    unscored = CustomerFactory()  # no prediction: ranked last
    segment = segment_save(actor=world.campaigner, name="全部", definition={"groups": [{}]})
    uplift_cut.segment_set_uplift(actor=world.campaigner, segment=segment, keep=UpliftKeep.TOP_N, value=10)
    segment.refresh_from_db()
    kept = set(segment_members(segment=segment).values_list("pk", flat=True))
    assert kept == {c.pk for c in customers[-10:]}
    assert unscored.pk not in kept
    assert segment_members(segment=segment, uplift=False).count() == Customer.objects.count()

    campaign = Campaign.objects.create(code="UP1", name="t", audience=segment, created_by=world.campaigner)
    funnel = exclusion_funnel(campaign=campaign)
    rows = {r["code"]: r for r in funnel.rows}
    dropped = Customer.objects.count() - 10
    threshold = version.metrics["anyway_threshold"]
    anyway = sum(1 for i in range(20) if (0.5 if i % 2 == 0 else 0.01) >= threshold)
    assert rows["would_convert_anyway"]["dropped"] == anyway
    assert rows["would_not_respond"]["dropped"] == dropped - anyway
    assert rows["would_not_respond"]["left"] == 10
    assert funnel.members == Customer.objects.count()

    uplift_cut.segment_set_uplift(actor=world.campaigner, segment=segment, keep=UpliftKeep.TOP_PERCENT, value=50)
    segment.refresh_from_db()
    assert segment_members(segment=segment).count() == -(-Customer.objects.count() // 2)
    events = AuditEvent.objects.filter(verb="segment.uplift", target_id=str(segment.pk))
    assert events.count() == 2
    assert events.first().details["uplift_keep"] == "keep_top_percent"


def test_segment_uplift_refusals_change_nothing(world):
    segment = segment_save(actor=world.campaigner, name="全部", definition={"groups": [{}]})
    with pytest.raises(ValidationError) as no_model:
        uplift_cut.segment_set_uplift(actor=world.campaigner, segment=segment, keep=UpliftKeep.TOP_N, value=5)
    assert "uplift_keep" in no_model.value.message_dict
    fast_version(world.campaigner)
    for keep, value in ((UpliftKeep.TOP_N, 0), (UpliftKeep.TOP_N, None), (UpliftKeep.TOP_PERCENT, 101), ("all-ish", 5)):
        with pytest.raises(ValidationError):
            uplift_cut.segment_set_uplift(actor=world.campaigner, segment=segment, keep=keep, value=value)
    with pytest.raises(PermissionDenied):
        uplift_cut.segment_set_uplift(actor=world.advisor_a, segment=segment, keep=UpliftKeep.TOP_N, value=5)
    segment.refresh_from_db()
    assert (segment.uplift_keep, segment.uplift_value) == (UpliftKeep.ALL, None)
    assert not AuditEvent.objects.filter(verb="segment.uplift").exists()


# --- pages ----------------------------------------------------------------------------------


def test_uplift_page_by_role(client, world):
    url = reverse("campaigns:uplift")
    for user, status in (
        (world.campaigner, 200),
        (world.admin, 200),
        (world.advisor_a, 403),
        (world.lead_a, 403),
        (world.compliance, 403),
    ):
        client.force_login(user)
        assert client.get(url).status_code == status, user
        assert client.post(reverse("campaigns:uplift_train")).status_code in ((302, 200) if status == 200 else (403,))


def test_uplift_page_without_a_model_says_so(client, world):
    client.force_login(world.campaigner)
    page = client.get(reverse("campaigns:uplift"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'data-testid="no-model"' in page
    assert "<script>" not in page and "style=" not in page


def test_uplift_page_shows_the_evaluation_with_constant_queries(client, world, django_assert_max_num_queries):
    client.force_login(world.campaigner)
    fast_version(world.campaigner)
    url = reverse("campaigns:uplift")
    with django_assert_max_num_queries(12) as small:
        page = client.get(url).content.decode()
    assert 'data-testid="qini-chart"' in page and 'data-testid="evaluation"' in page
    assert 'id="uplift-chart-data"' in page
    # both learners on the same held-out customers, and which one is used, in words
    latest = UpliftModelVersion.objects.latest("pk")
    used = "采用 X 学习器" if latest.metrics["learner"] == "x" else "保留 T 学习器"
    assert 'data-testid="learners"' in page and used in page
    assert AuditEvent.objects.filter(
        verb="scoring.uplift_train", details__learner=f"{latest.metrics['learner']}_learner"
    ).exists()
    for _ in range(3):
        fast_version(world.campaigner)
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(url)


def test_segment_uplift_form_bad_input_is_answered_in_words(client, world):
    client.force_login(world.campaigner)
    segment = segment_save(actor=world.campaigner, name="全部", definition={"groups": [{}]})
    fast_version(world.campaigner)
    url = reverse("campaigns:segment_uplift", args=[segment.pk])
    for value in ("abc", "0", "²", "9" * 30):
        response = client.post(url, {"uplift_keep": "top_n", "uplift_value": value}, follow=True)
        assert response.status_code == 200
        assert list(response.context["messages"])
    segment.refresh_from_db()
    assert segment.uplift_keep == UpliftKeep.ALL
    client.post(url, {"uplift_keep": "top_n", "uplift_value": "5"})
    assert Segment.objects.get(pk=segment.pk).uplift_value == 5
    client.force_login(world.advisor_a)
    assert client.post(url, {"uplift_keep": "all"}).status_code in (403, 404)
