"""Writes of lead scoring: outcomes, scores (and the leads they propose), full rescoring
jobs, model versions, grading cutoffs, and pool resurfacing.

The Celery tasks in ``scoring.tasks`` only load ids and call the ``*_run`` services here;
the services that start background work queue it by task name after commit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.models import Job
from core.services import job_advance, job_create, job_finish, job_set_progress, job_start
from core.tasks import enqueue, send
from customers.models import Customer
from leads.models import Grade, Lead, LeadStatus
from leads.services import lead_resurface

from . import rescoring, training
from .access import require_manage_scoring
from .features import features_for_customer
from .models import MIN_CLASS_ROWS, CustomerScore, ModelVersion, Outcome, OutcomeSource, RescoreChunk, ScoringSettings
from .reasons import reasons_json
from .rules import RULES
from .scorer import Scorer
from .selectors import class_counts, settings_get

# --- outcomes -------------------------------------------------------------------------------


@transaction.atomic
def outcome_record(
    *,
    customer,
    contacted_at: dt.datetime,
    channel: str,
    converted: bool,
    amount: Decimal | None = None,
    product=None,
    source: str = OutcomeSource.CALL,
    external_key: str | None = None,
) -> Outcome:
    """Record one contact's outcome with the customer's features as of ``contacted_at``.

    Idempotent by ``external_key``: a second call with the same key returns the first
    row unchanged. The customer is rescored after commit (a new outcome changes the
    contact-history features).
    """
    if external_key:
        existing = Outcome.objects.filter(external_key=external_key).first()
        if existing is not None:
            return existing
    features = features_for_customer(customer_id=customer.pk, as_of=contacted_at)
    try:
        with transaction.atomic():
            outcome = Outcome.objects.create(
                customer=customer,
                contacted_at=contacted_at,
                channel=channel,
                converted=bool(converted),
                amount=amount,
                product=product,
                source=source,
                external_key=external_key or None,
                features=features,
            )
    except IntegrityError:
        # a concurrent call with the same key won the race
        return Outcome.objects.get(external_key=external_key)
    audit_record(
        actor=None,
        verb="scoring.outcome_record",
        target=outcome,
        details={"customer_id": customer.pk, "converted": bool(converted), "source": source},
    )
    enqueue("scoring.rescore_customer", customer.pk)
    return outcome


# --- scores ------------------------------------------------------------------------------


def customer_rescore(*, customer_id: int, scorer: Scorer | None = None, as_of: dt.datetime | None = None) -> dict:
    """Recompute one customer's score (incremental rescoring on events)."""
    scorer = scorer or Scorer.current()
    as_of = as_of or timezone.now()
    features = features_for_customer(customer_id=customer_id, as_of=as_of)
    score, grade, reasons = scorer.score_features(features)
    with transaction.atomic():
        result = rescoring.scores_write(
            [(customer_id, score, grade, reasons_json(reasons), scorer.version, scorer.method)]
        )
    return {"score": score, "grade": grade, "reasons": reasons, **result}


LARGE_ASSET_CHANGE = 0.10


def asset_change_rescore(*, customer_id: int, before: Decimal | float, after: Decimal | float) -> bool:
    """Queue an incremental rescoring (after commit) when a customer's AUM moved by 10%
    or more; for asset imports and balance feeds. Returns whether it was queued."""
    before, after = float(before or 0), float(after or 0)
    if before == after or (before and abs(after - before) / abs(before) < LARGE_ASSET_CHANGE):
        return False
    enqueue("scoring.rescore_customer", customer_id)
    return True


# --- model versions ------------------------------------------------------------------------


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

    def step(msg: str, done: int) -> None:
        if progress:
            progress(msg, done)

    step(_("Loading outcomes"), 1)
    rows, y = training.training_rows()
    step(_("Cross-validating and training"), 2)
    model, metrics = training.fit(rows, y)
    active = ModelVersion.objects.filter(is_active=True).first()
    comparison = None
    if active is not None:
        step(_("Evaluating the active model on the same folds"), 3)
        old = training.TrainedModel.loads(active.artifact)
        comparison = round(training.evaluate_spec(rows, y, old.spec, old.params), 4)
        metrics["active_auc_same_folds"] = comparison
    step(_("Saving the model version"), 4)
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
            mv.note = _("Not activated: AUC %(new).3f is below the active model's %(old).3f on the same folds.") % {
                "new": metrics["auc"],
                "old": comparison,
            }
            mv.save(update_fields=["note"])
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


# --- settings ------------------------------------------------------------------------------


@transaction.atomic
def cutoffs_update(*, actor, high: float, mid: float) -> ScoringSettings:
    """Set the grade cutoffs (absolute scores 0-100, high above mid)."""
    require_manage_scoring(actor)
    if not (0 <= mid < high <= 100):
        raise ValidationError(_("Cutoffs must satisfy 0 ≤ mid < high ≤ 100."))
    st = settings_get()
    before = {"high": st.high_cutoff, "mid": st.mid_cutoff}
    ScoringSettings.objects.filter(pk=st.pk).update(
        high_cutoff=high, mid_cutoff=mid, updated_by=actor, updated_at=timezone.now()
    )
    st.refresh_from_db()
    audit_record(
        actor=actor,
        verb="scoring.cutoffs_update",
        target=st,
        details={"before": before, "after": {"high": high, "mid": mid}},
    )
    return st


@transaction.atomic
def rules_update(*, actor, rules: dict) -> ScoringSettings:
    """Set the cold-start rules (an intercept and a log-odds weight per rule code), which
    an administrator edits in the admin; validated, audited."""
    require_manage_scoring(actor)
    rules_validate(rules)
    st = settings_get()
    before = st.rules
    ScoringSettings.objects.filter(pk=st.pk).update(rules=rules, updated_by=actor, updated_at=timezone.now())
    st.refresh_from_db()
    audit_record(actor=actor, verb="scoring.rules_update", target=st, details={"before": before, "after": rules})
    return st


def rules_validate(rules) -> None:
    """``{"intercept": number, "weights": {rule code: number}}`` with known codes only."""

    def number(value) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    weights = rules.get("weights") if isinstance(rules, dict) else None
    if not isinstance(weights, dict) or not number(rules.get("intercept", 0)):
        raise ValidationError(_("The rules need a numeric intercept and a table of weights."))
    unknown = sorted(set(weights) - set(RULES))
    if unknown:
        raise ValidationError(_("Unknown rule codes: %(codes)s.") % {"codes": ", ".join(unknown)})
    if not all(number(w) for w in weights.values()):
        raise ValidationError(_("Every rule weight must be a number."))


# --- full rescoring jobs ------------------------------------------------------------------

RESCORE_KIND = "scoring.rescore_all"
TRAIN_KIND = "scoring.train_model"


def rescore_job_create(*, actor=None, chunk_ids: int | None = None) -> Job:
    """A full-rescoring job, pinned to the scorer in force now (not yet queued)."""
    require_manage_scoring(actor)
    active = ModelVersion.objects.filter(is_active=True).values_list("pk", flat=True).first()
    with transaction.atomic():
        return job_create(
            actor=actor,
            kind=RESCORE_KIND,
            params={
                "model_version_id": active,
                "chunk_ids": chunk_ids or settings.WORKBENCH_SCORING_CHUNK_IDS,
                "as_of": timezone.now().isoformat(),
            },
        )


def rescore_start(*, actor=None, chunk_ids: int | None = None) -> Job:
    """Start a full rescoring of every customer: the job, queued after commit."""
    with transaction.atomic():
        job = rescore_job_create(actor=actor, chunk_ids=chunk_ids)
        enqueue("scoring.rescore_all", job.pk)
    return job


def rescore_dispatch(*, job_id: int) -> int:
    """Plan (once) and queue the chunks of a rescoring job that are not done yet.

    Calling it again for the same job only re-sends the unfinished chunks: that is how
    a run resumes. Returns the number of chunks queued.
    """
    job = Job.objects.get(pk=job_id)
    if job.status == Job.Status.SUCCEEDED:
        return 0
    chunk_ids = int(job.params.get("chunk_ids") or settings.WORKBENCH_SCORING_CHUNK_IDS)
    if not RescoreChunk.objects.filter(job_id=job_id).exists():
        bounds = Customer.objects.aggregate(lo=Min("id"), hi=Max("id"))
        total = Customer.objects.count()
        if bounds["lo"] is None:
            job_start(job_id=job_id, total=0)
            job_finish(job_id=job_id, result={"customers": 0, "leads": 0})
            return 0
        chunks = [
            RescoreChunk(job_id=job_id, lo=lo, hi=min(lo + chunk_ids, bounds["hi"] + 1))
            for lo in range(bounds["lo"], bounds["hi"] + 1, chunk_ids)
        ]
        RescoreChunk.objects.bulk_create(chunks, ignore_conflicts=True)
        job_start(job_id=job_id, total=total, message="")
    else:
        job_start(job_id=job_id)
    pending = list(RescoreChunk.objects.filter(job_id=job_id, done_at__isnull=True).values_list("lo", flat=True))
    for lo in pending:
        send("scoring.rescore_chunk", job_id, lo)
    _rescore_finish_if_complete(job_id)
    return len(pending)


def rescore_chunk_run(*, job_id: int, lo: int) -> dict | None:
    """Score one chunk of a job. The chunk is marked done in the transaction that writes
    its scores, so a redelivered chunk is skipped and a resumed job never redoes it."""
    job = Job.objects.get(pk=job_id)
    as_of = dt.datetime.fromisoformat(job.params["as_of"]) if job.params.get("as_of") else timezone.now()
    scorer = Scorer.current(version_id=job.params.get("model_version_id"))
    with transaction.atomic():
        chunk = RescoreChunk.objects.select_for_update(skip_locked=True).filter(job_id=job_id, lo=lo).first()
        if chunk is None or chunk.done_at is not None:
            return None  # done already, or another worker holds it
        result = rescoring.rescore_range(lo=chunk.lo, hi=chunk.hi, scorer=scorer, as_of=as_of, now=timezone.now())
        RescoreChunk.objects.filter(pk=chunk.pk).update(
            done_at=timezone.now(), customers=result["customers"], leads_created=result["leads"]
        )
        job_advance(job_id=job_id, by=result["customers"])
    _rescore_finish_if_complete(job_id)
    return result


def _rescore_finish_if_complete(job_id: int) -> None:
    if RescoreChunk.objects.filter(job_id=job_id, done_at__isnull=True).exists():
        return
    chunks = RescoreChunk.objects.filter(job_id=job_id)
    customers = sum(c.customers for c in chunks)
    leads = sum(c.leads_created for c in chunks)
    Job.objects.filter(pk=job_id).exclude(status=Job.Status.SUCCEEDED).update(done=customers)
    if Job.objects.filter(pk=job_id).exclude(status=Job.Status.SUCCEEDED).exists():
        job_finish(job_id=job_id, result={"customers": customers, "leads": leads})


# --- training jobs ------------------------------------------------------------------------


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

    def progress(message: str, done: int) -> None:
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
                error=_("Not enough outcomes to train: %(p)s positive and %(n)s negative (%(min)s of each needed).")
                % {"p": positives, "n": negatives, "min": MIN_CLASS_ROWS},
            )
        return summary
    summary.pop("features", None)
    if job_id is not None:
        job_finish(job_id=job_id, result=summary)
    if rescore and summary.get("activated"):
        rescore_start(actor=actor)
    return summary


# --- the incubation pool --------------------------------------------------------------------

RESURFACE_BATCH = 1000


def pool_resurface(*, team_id: int | None = None, limit: int = 50_000) -> int:
    """Bring back pooled leads whose customer's current score grade rose above low.

    Runs on a beat schedule after rescoring; a lead already back in the queue is skipped
    by the lead service's status guard, so a second run does nothing.
    """
    current = CustomerScore.objects.filter(customer_id=OuterRef("customer_id"))
    qs = (
        Lead.objects.filter(status=LeadStatus.POOLED)
        .annotate(
            new_grade=Subquery(current.values("grade")[:1]),
            new_score=Subquery(current.values("score")[:1]),
            new_reasons=Subquery(current.values("reasons")[:1]),
        )
        .filter(new_grade__in=[Grade.MID, Grade.HIGH])
    )
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    done = 0
    for lead in qs.order_by("id")[:limit].iterator(chunk_size=RESURFACE_BATCH):
        if lead_resurface(actor=None, lead=lead, grade=lead.new_grade, score=lead.new_score, reasons=lead.new_reasons):
            done += 1
    return done
