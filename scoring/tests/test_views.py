"""The model page: roles, query counts, cutoff editor (preview, validation, audit),
retrain and rescore with progress, activation/rollback."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from core.models import AuditEvent, Job
from customers.tests.factories import CustomerFactory
from scoring import training
from scoring.models import CustomerScore, ModelVersion, ScoringSettings
from scoring.scorer import Scorer
from scoring.selectors import grade_preview, score_distribution, settings_get
from scoring.services.scores import score_distribution_store
from scoring.services.versions import model_train

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "status"),
    [("lead_a", 200), ("admin", 200), ("advisor_a", 403), ("manager_x", 403), ("rm_x", 403), ("compliance", 403)],
)
def test_only_team_leads_and_admins_see_the_model_page(world, client_for, who, status):
    response = client_for(getattr(world, who)).get(reverse("scoring:model"))
    assert response.status_code == status


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("scoring:model"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_model_page_cold_start_says_so(world, client_for, django_assert_num_queries):
    settings_get()
    client = client_for(world.lead_a)
    # with the outcomes of each class counted up to the cap, and, before the first full
    # rescoring has stored a distribution, the grades counted over the scores
    with django_assert_num_queries(11):
        response = client.get(reverse("scoring:model"))
    body = response.content.decode()
    assert 'data-testid="rules"' in body and 'data-testid="scoring-mode"' in body
    assert "冷启动" in body  # Chinese first


def _score(customer, score, grade):
    CustomerScore.objects.create(
        customer=customer, score=score, grade=grade, reasons=[], method="rules", scored_at=timezone.now()
    )


def test_cutoff_preview_counts_customers(world, client_for):
    for s in (5, 12, 20, 35, 70):
        _score(CustomerFactory(), s, "low")
    client = client_for(world.lead_a)
    response = client.get(reverse("scoring:cutoffs_preview"), {"high": 30, "mid": 10}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="preview"' in body and "<html" not in body
    rows = {g: body.split(f'data-grade="{g}"')[1].split("</tr>")[0] for g in ("high", "mid", "low")}
    assert ">2<" in rows["high"] and ">2<" in rows["mid"] and ">1<" in rows["low"]


@pytest.mark.parametrize(("high", "mid"), [(30, 10), (30.5, 12), (100, 0.5), (0.5, 0), (70, 35.5)])
def test_grade_counts_from_the_stored_distribution_equal_the_live_counts(world, high, mid):
    for s in (0, 0.04, 5, 9.95, 10, 12, 29.9, 29.95, 30, 30.5, 35, 35.5, 70, 99.99, 100):
        _score(CustomerFactory(), s, "low")
    distribution = score_distribution_store()
    assert distribution.total == 15

    def counts(preview):
        return {row["grade"]: row["customers"] for row in preview}

    stored = counts(grade_preview(high=high, mid=mid, model=None, distribution=distribution))
    live = counts(grade_preview(high=high, mid=mid, model=None, distribution=None))
    assert stored == live and sum(stored.values()) == 15


def test_model_page_counts_grades_from_the_distribution_without_reading_every_score(
    world, client_for, django_assert_num_queries
):
    for s in (5, 12, 20, 35, 70):
        _score(CustomerFactory(), s, "low")
    score_distribution_store()
    _score(CustomerFactory(), 90, "high")  # scored after the last full rescoring: not yet counted
    settings_get()
    client = client_for(world.lead_a)
    # cold start (no model): the capped class counts; the stored distribution, and no
    # count over the scores
    with django_assert_num_queries(10) as page:
        response = client.get(reverse("scoring:model"))
    assert not any("scoring_customerscore" in q["sql"] for q in page.captured_queries)
    body = response.content.decode()
    rows = {g: body.split(f'data-grade="{g}"')[1].split("</tr>")[0] for g in ("high", "mid", "low")}
    assert ">2<" in rows["high"] and ">1<" in rows["mid"] and ">2<" in rows["low"]  # default cutoffs 30 / 15
    when = timezone.localtime(score_distribution().computed_at).strftime("%Y-%m-%d %H:%M")
    assert 'data-testid="preview-as-of"' in body and when in body


def test_bad_cutoffs_are_refused_with_a_message_and_change_nothing(world, client_for):
    before = settings_get()
    client = client_for(world.lead_a)
    response = client.post(reverse("scoring:cutoffs"), {"high": 10, "mid": 40}, follow=True)
    assert "中档分数线必须低于高档分数线" in response.content.decode()
    after = ScoringSettings.objects.get(pk=before.pk)
    assert (after.high_cutoff, after.mid_cutoff) == (before.high_cutoff, before.mid_cutoff)
    assert not AuditEvent.objects.filter(verb="scoring.cutoffs_update").exists()


def test_cutoffs_saved_and_audited(world, client_for):
    client = client_for(world.lead_a)
    client.post(reverse("scoring:cutoffs"), {"high": 45, "mid": 20})
    st = settings_get()
    assert (st.high_cutoff, st.mid_cutoff) == (45, 20)
    event = AuditEvent.objects.get(verb="scoring.cutoffs_update")
    assert event.actor == world.lead_a and event.details["after"] == {"high": 45, "mid": 20}


def test_advisor_cannot_change_cutoffs_or_retrain(world, client_for):
    client = client_for(world.advisor_a)
    assert client.post(reverse("scoring:cutoffs"), {"high": 45, "mid": 20}).status_code == 403
    assert client.post(reverse("scoring:retrain")).status_code == 403
    assert client.post(reverse("scoring:rescore")).status_code == 403
    assert not Job.objects.exists()


def test_rescore_from_the_page_shows_progress(world, client_for, django_capture_on_commit_callbacks):
    CustomerFactory.create_batch(3)
    client = client_for(world.lead_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("scoring:rescore"), HTTP_HX_REQUEST="true")
    assert 'class="wb-job"' in response.content.decode()
    job = Job.objects.get(kind="scoring.rescore_all")
    assert job.status == Job.Status.SUCCEEDED and job.done == 3 and job.created_by == world.lead_a
    assert CustomerScore.objects.count() == 3


def test_retrain_without_enough_outcomes_fails_with_a_clear_message(
    world, client_for, django_capture_on_commit_callbacks
):
    client = client_for(world.lead_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("scoring:retrain"), HTTP_HX_REQUEST="true")
    job = Job.objects.get(kind="scoring.train_model")
    assert job.status == Job.Status.FAILED and "40" in job.message
    assert job.message_en.startswith("Not enough outcomes to train") and "40" in job.message_en
    assert not ModelVersion.objects.exists()


def _trained_versions(n: int, actor):
    rng = np.random.default_rng(0)
    rows = [
        {
            "aum": float(rng.lognormal(12, 1)),
            "maturing_30d_amount": float(rng.choice([0, 1e5])),
            "tier": str(rng.choice(["base", "wealth"])),
        }
        for _ in range(300)
    ]
    y = np.array([int(rng.random() < (0.5 if r["maturing_30d_amount"] else 0.15)) for r in rows])
    model, metrics = training.fit(rows, y)
    for i in range(n):
        ModelVersion.objects.create(
            version=f"gbm-t-{i}",
            artifact=model.dumps(),
            features=["aum"],
            metrics=metrics,
            is_active=(i == n - 1),
            trained_by=actor,
        )


@pytest.mark.parametrize("n", [1, 3])
def test_model_page_queries_do_not_grow_with_versions(world, client_for, django_assert_num_queries, n):
    _trained_versions(n, world.lead_a)
    settings_get()
    client = client_for(world.lead_a)
    # no class counts (the active version's own) and one read of the stored distribution
    # (none yet here: the grades are counted over the scores)
    with django_assert_num_queries(7):
        response = client.get(reverse("scoring:model"))
    body = response.content.decode()
    assert body.count("gbm-t-") >= n and 'id="scoring-charts"' in body
    charts = json.loads(body.split('id="scoring-charts" type="application/json">')[1].split("</script>")[0])
    assert "30 天内到期金额" in [d["feature"] for d in charts["importance"]]  # feature names in Chinese
    if n > 1:
        assert "回滚到此版本" in body


def test_model_reasons_are_chinese_phrases(world):
    _trained_versions(1, world.lead_a)
    scorer = Scorer.current()
    assert scorer.method == "model"
    score, grade, reasons = scorer.score_features(
        {"aum": 900_000.0, "maturing_30d_amount": 100_000.0, "tier": "wealth"}
    )
    assert 0 <= score <= 100 and reasons
    assert any(r["text"] == "30 天内到期 10.0 万元" for r in reasons), reasons


def test_a_version_left_inactive_says_why_in_the_readers_language(world, client_for, monkeypatch):
    """The note was written in the trainer's language and shown so on every page."""
    _trained_versions(1, world.lead_a)
    rng = np.random.default_rng(1)
    rows = [
        {"aum": float(rng.lognormal(12, 1)), "maturing_30d_amount": float(rng.choice([0, 1e5]))} for _ in range(300)
    ]
    y = np.array([int(rng.random() < (0.5 if r["maturing_30d_amount"] else 0.15)) for r in rows])
    monkeypatch.setattr(training, "training_rows", lambda: (rows, y))
    monkeypatch.setattr(training, "evaluate_spec", lambda *args: 0.999)  # the active one does better
    with translation.override("zh-hans"):
        version, _summary = model_train(actor=world.lead_a)
    assert not version.is_active
    assert version.note.startswith("未启用") and version.note_en.startswith("Not activated: AUC")
    client = client_for(world.lead_a)
    client.cookies["django_language"] = "en"
    english = client.get(reverse("scoring:model")).content.decode()
    assert escape(version.note_en) in english and escape(version.note) not in english
