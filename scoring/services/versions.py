"""Writes of model versions: training (in the background or not), activation and rollback."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.audit import audit_record
from core.languages import in_both_languages
from core.models import Job
from core.services import job_create, job_finish, job_set_progress, job_start
from core.tasks import enqueue

from .. import training
from ..access import require_manage_scoring
from ..models import MIN_CLASS_ROWS, ModelVersion
from ..selectors import class_counts
from .scores import rescore_start


def _next_version() -> str:
    today = timezone.localdate().strftime("%Y%m%d")
    n = ModelVersion.objects.filter(version__startswith=f"gbm-{today}-").count() + 1
    while ModelVersion.objects.filter(version=f"gbm-{today}-{n}").exists():
        n += 1
    return f"gbm-{today}-{n}"


def model_train(*, actor=None, activate: str = "auto", progress=None) -> tuple[ModelVersion, dict]:
    """Train a new model version on all outcomes and (``activate="auto"``) activate it
    only if its cross-validated AUC is not worse than the active model's recipe on the
    same outcomes and folds. Returns the version and a summary."""
    require_manage_scoring(actor)

    def step(msg, done: int) -> None:  # msg: lazy, worded in each language by the job
        if progress:
            progress(msg, done)

    step(gettext_lazy("Loading outcomes"), 1)
    rows, y = training.training_rows()
    step(gettext_lazy("Cross-validating and training"), 2)
    model, metrics = training.fit(rows, y)
    active = ModelVersion.objects.filter(is_active=True).first()
    comparison = None
    if active is not None:
        step(gettext_lazy("Evaluating the active model on the same folds"), 3)
        old = training.TrainedModel.loads(active.artifact)
        comparison = round(training.evaluate_spec(rows, y, old.spec, old.params), 4)
        metrics["active_auc_same_folds"] = comparison
    step(gettext_lazy("Saving the model version"), 4)
    with transaction.atomic():
        mv = ModelVersion.objects.create(
            version=_next_version(),
            artifact=model.dumps(),
            features=[name for name, _k, _v in model.spec],
            metrics=metrics,
            params=model.params,
            trained_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor,
            verb="scoring.model_train",
            target=mv,
            details={k: metrics[k] for k in ("rows", "positives", "auc", "lift_top10", "brier")},
        )
        better = comparison is None or metrics["auc"] >= comparison - 0.001
        activated = False
        if activate == "always" or (activate == "auto" and better):
            _activate(mv, actor=actor, verb="scoring.model_activate", reason="auto" if activate == "auto" else "manual")
            activated = True
        elif activate == "auto":
            mv.note, mv.note_en = in_both_languages(
                lambda: (
                    _("Not activated: AUC %(new).3f is below the active model's %(old).3f on the same folds.")
                    % {"new": metrics["auc"], "old": comparison}
                )
            )
            mv.save(update_fields=["note", "note_en"])
    summary = {
        "model_version": mv.version,
        "rows": metrics["rows"],
        "positives": metrics["positives"],
        "auc": metrics["auc"],
        "lift_top10": metrics["lift_top10"],
        "brier": metrics["brier"],
        "activated": activated,
        "active_auc_same_folds": comparison,
        "features": mv.features,
    }
    return mv, summary


def _activate(mv: ModelVersion, *, actor, verb: str, reason: str = "") -> None:
    previous = ModelVersion.objects.select_for_update().filter(is_active=True).exclude(pk=mv.pk).first()
    ModelVersion.objects.filter(is_active=True).exclude(pk=mv.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=mv.pk).update(is_active=True, activated_at=timezone.now())
    mv.refresh_from_db()
    audit_record(
        actor=actor,
        verb=verb,
        target=mv,
        details={"previous": previous.version if previous else None, "reason": reason},
    )


@transaction.atomic
def model_activate(*, actor, version_id: int) -> ModelVersion:
    """Make a version the active one (a rollback when it is an older version)."""
    require_manage_scoring(actor)
    mv = ModelVersion.objects.select_for_update().get(pk=version_id)
    if mv.is_active:
        return mv
    newest = ModelVersion.objects.order_by("-trained_at", "-id").first()
    verb = "scoring.model_activate" if mv.pk == newest.pk else "scoring.model_rollback"
    _activate(mv, actor=actor, verb=verb, reason="manual")
    return mv


TRAIN_KIND = "scoring.train_model"


def train_job_create(*, actor=None) -> Job:
    """Train a new model version in the background (the model page's button)."""
    require_manage_scoring(actor)
    with transaction.atomic():
        job = job_create(actor=actor, kind=TRAIN_KIND, params={}, total=5)
        enqueue("scoring.train_model", job.pk)
    return job


def train_run(*, job_id: int | None = None, rescore: bool = True) -> dict | None:
    """Train a new version (auto-activated only if not worse), then rescore everyone
    when the active model changed. Weekly from beat (no job), or for a job."""
    actor = None
    if job_id is not None:
        job = Job.objects.get(pk=job_id)
        if job.is_finished:
            return job.result
        actor = get_user_model().objects.filter(pk=job.created_by_id).first()
        job_start(job_id=job_id, total=5)

    def progress(message, done: int) -> None:
        if job_id is not None:
            job_set_progress(job_id=job_id, done=done, message=message)

    try:
        _mv, summary = model_train(actor=actor, progress=progress)
    except PermissionDenied as exc:
        # the job's creator lost the team-lead role between the click and the run
        if job_id is not None:
            job_finish(job_id=job_id, result={"error": "permission_denied"}, error=str(exc))
        return {"error": "permission_denied"}
    except training.NotEnoughOutcomes:
        positives, negatives = class_counts()
        summary = {"error": "not_enough_outcomes", "positives": positives, "negatives": negatives}
        if job_id is not None:
            job_finish(
                job_id=job_id,
                result=summary,
                error=lambda: (
                    _("Not enough outcomes to train: %(p)s positive and %(n)s negative (%(min)s of each needed).")
                    % {"p": positives, "n": negatives, "min": MIN_CLASS_ROWS}
                ),
            )
        return summary
    summary.pop("features", None)
    if job_id is not None:
        job_finish(job_id=job_id, result=summary)
    if rescore and summary.get("activated"):
        rescore_start(actor=actor)
    return summary
