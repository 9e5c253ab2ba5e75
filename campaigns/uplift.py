"""Targeting by uplift: learn from past enrolments who converts *because* of a campaign,
and keep a segment's most persuadable members.

- **Training set.** Every enrolment whose attribution window has closed, with its arm
  (treated or control group, hashed at entry) and whether it converted in the window —
  the results page's own rule (``campaigns.results``: a converted journey event, a won
  call, a new holding of the campaign's product). Features are the scoring features as
  the customer was at the start of the day of entry (``scoring.services.uplift``).
- **Training** is a background job (``campaigns.train_uplift``, ids only): it claims the
  job (one worker at a time), trains and evaluates in scoring (held out by customer), and,
  when the model finds uplift, scores every customer. A job run again — the sweeper sends
  it again when a worker died — finds the version it wrote and scores again (idempotent).
- **The schedule.** The beat (``campaigns.retrain_uplift``) queues the same job by the
  system once the last training is ``WORKBENCH_UPLIFT_RETRAIN_DAYS`` old; a new version
  replaces the one in use only when it ranks held-out customers that version never saw at
  least as well (``scoring.services.uplift``), and a run with nothing new writes none.
- **The cut.** A segment keeps every member, the top N, or the top x % by predicted
  uplift (``Segment.uplift_keep``); members without a prediction come last. The funnel
  names the members dropped: "would convert anyway" when their predicted conversion
  without contact is at least the contacted average, else "would not respond".
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import Job
from core.services import job_claim, job_create, job_enqueue, job_finish, job_set_progress, job_start
from customers.models import Customer
from scoring.access import can_manage_uplift, require_manage_uplift
from scoring.models import UpliftModelVersion
from scoring.services import uplift as uplift_services
from scoring.uplift import MIN_ARM_CLASS_ROWS, NotEnoughEnrolments, uplift_spec

from .models import Arm, Campaign, Enrolment
from .results import _flags, _with_window, attribution_days

TRAIN_KIND = "campaigns.train_uplift"
TRAIN_TASK = "campaigns.train_uplift"
SCORE_CHUNK = 20_000


# --- the training set -------------------------------------------------------------------


def uplift_training_enrolments(
    *, now: dt.datetime | None = None
) -> list[tuple[int, dt.datetime, bool, bool, dt.datetime]]:
    """(customer id, entered at, treated, converted, window closed at) of every enrolment
    whose attribution window (the campaign's own) has closed: one query per campaign with
    such enrolments."""
    now = now or timezone.now()
    out = []
    # Entered before the shortest window any campaign may have closed: a superset, then
    # each campaign's own window (``Campaign.attribution_days``).
    earliest = now - dt.timedelta(days=1)
    campaign_ids = Enrolment.objects.filter(entered_at__lte=earliest).order_by().values("campaign_id").distinct()
    for campaign in Campaign.objects.filter(pk__in=campaign_ids).order_by("pk"):
        days = attribution_days(campaign)
        closed = now - dt.timedelta(days=days)
        _reached, _responded, converted = _flags(campaign)
        rows = (
            _with_window(Enrolment.objects.filter(campaign=campaign, entered_at__lte=closed), days)
            .annotate(_converted=converted)
            .order_by("pk")
            .values_list("customer_id", "entered_at", "arm", "_converted")
        )
        window = dt.timedelta(days=days)
        out.extend(
            (cid, at, arm == Arm.TREATMENT, bool(conv), at + window)
            for cid, at, arm, conv in rows.iterator(chunk_size=5000)
        )
    return out


def uplift_training_matrix(enrolments) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    spec = uplift_spec()
    X = uplift_services.uplift_features(pairs=[(row[0], row[1]) for row in enrolments], spec=spec)
    treated = np.array([row[2] for row in enrolments], dtype=bool)
    y = np.array([1 if row[3] else 0 for row in enrolments], dtype=int)
    groups = np.array([row[0] for row in enrolments], dtype=np.int64)
    return X, treated, y, groups


# --- the training job -------------------------------------------------------------------


def uplift_train_job_create(*, actor) -> Job:
    """Train the uplift model in the background (the uplift page's button)."""
    require_manage_uplift(actor)
    with transaction.atomic():
        job = job_create(actor=actor, kind=TRAIN_KIND, params={}, total=4)
        job_enqueue(job, TRAIN_TASK, job.pk)
    return job


def uplift_next_training(*, now: dt.datetime | None = None) -> tuple[Job | None, dt.datetime]:
    """(the latest training job, when the schedule trains next): the latest job's start +
    ``WORKBENCH_UPLIFT_RETRAIN_DAYS``, or now when there was none or it is overdue (the
    next check of the beat, every ``WORKBENCH_UPLIFT_CHECK_SECONDS``, takes it)."""
    now = now or timezone.now()
    latest = Job.objects.filter(kind=TRAIN_KIND).order_by("-created_at", "-id").first()
    if latest is None:
        return None, now
    return latest, max(now, latest.created_at + dt.timedelta(days=settings.WORKBENCH_UPLIFT_RETRAIN_DAYS))


def uplift_retrain_scheduled(*, now: dt.datetime | None = None) -> Job | None:
    """The beat's entry: queue a training job (by the system, no actor) when the latest
    one, by the schedule or from the page, started ``WORKBENCH_UPLIFT_RETRAIN_DAYS`` ago
    or more and has finished. Safe to run again: the job it creates is then the latest, so
    a second run finds nothing due; two runs at once queue on the latest job's row lock."""
    now = now or timezone.now()
    with transaction.atomic():
        latest = Job.objects.select_for_update().filter(kind=TRAIN_KIND).order_by("-created_at", "-id").first()
        if latest is not None:
            # the lock is held: read again, a concurrent run may have queued one meanwhile
            latest = Job.objects.filter(kind=TRAIN_KIND).order_by("-created_at", "-id").first()
        if latest is not None and not latest.is_finished:
            return None  # queued or running: it is this period's training
        if latest is not None and latest.created_at > now - dt.timedelta(days=settings.WORKBENCH_UPLIFT_RETRAIN_DAYS):
            return None
        job = job_create(actor=None, kind=TRAIN_KIND, params={"scheduled": True}, total=4)
        job_enqueue(job, TRAIN_TASK, job.pk)
    return job


def _nothing_new(enrolments, *, job_id: int) -> dict | None:
    """A result when no attribution window has closed since the version in use learned
    (a new version would learn the same rows, and none could be judged against it)."""
    current = UpliftModelVersion.objects.filter(is_active=True).defer("artifact").first()
    if current is None or current.job_id == job_id:  # this job's own version: a resumed job scores
        return None
    until = uplift_services.uplift_trained_until(current)
    if any(row[4] > until for row in enrolments):
        return None
    result = {"kept": current.version, "reason": "nothing_new", "rows": len(enrolments)}
    job_set_progress(
        job_id=job_id,
        done=4,
        total=4,
        message=lambda: (
            _(
                "Nothing new to learn from: no attribution window has closed since version %(v)s was trained, "
                "so it stays in use and no new version was written."
            )
            % {"v": current.version}
        ),
    )
    job_finish(job_id=job_id, result=result)
    return result


def _score_everyone(*, job_id: int, version: UpliftModelVersion, now: dt.datetime) -> int:
    spec = uplift_spec()
    ids_all = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    total_steps = 3 + max(1, math.ceil(len(ids_all) / SCORE_CHUNK))
    scored = 0
    for n, start in enumerate(range(0, len(ids_all), SCORE_CHUNK)):
        ids = ids_all[start : start + SCORE_CHUNK]
        X = uplift_services.uplift_features(pairs=[(cid, now) for cid in ids], spec=spec)
        scored += uplift_services.uplift_scores_write(version=version, customer_ids=ids, X=X)
        job_set_progress(
            job_id=job_id,
            done=3 + n + 1,
            total=total_steps,
            message=lambda scored=scored: _("Scoring customers: %(n)s done") % {"n": f"{scored:,}"},
        )
    uplift_services.uplift_scoring_finish(version=version, customers=scored)
    return scored


def uplift_train_run(*, job_id: int, now: dt.datetime | None = None) -> dict | None:
    """Gather, train, evaluate and (when it finds uplift) score every customer. Safe to
    run twice and after a killed worker: a finished job is answered from its result, a
    job another worker reports on is left to it, a version is written once per job."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        return None
    if job.is_finished:
        return job.result
    if not job_claim(job_id=job_id):
        return None
    now = now or timezone.now()
    actor = get_user_model().objects.filter(pk=job.created_by_id).first()
    if actor is not None and not can_manage_uplift(actor):
        job_finish(job_id=job_id, result={"error": "permission_denied"}, error=gettext_lazy("Permission denied."))
        return {"error": "permission_denied"}
    job_start(job_id=job_id, total=4, message=gettext_lazy("Gathering past enrolments"))
    enrolments = uplift_training_enrolments(now=now)
    if (kept := _nothing_new(enrolments, job_id=job_id)) is not None:
        return kept
    job_set_progress(job_id=job_id, done=1, message=gettext_lazy("Reading the customers' features at entry"))
    X, treated, y, groups = uplift_training_matrix(enrolments)
    job_set_progress(job_id=job_id, done=2, message=gettext_lazy("Training and evaluating on held-out customers"))
    try:
        version = uplift_services.uplift_model_train(
            actor=actor,
            X=X,
            treated=treated,
            y=y,
            groups=groups,
            job_id=job_id,
            closed_at=[row[4] for row in enrolments],
            as_of=now,
        )
    except NotEnoughEnrolments as exc:
        counts = exc.args[0]
        result = {"error": "not_enough_enrolments", **counts}
        job_finish(
            job_id=job_id,
            result=result,
            error=lambda: (
                _(
                    "Not enough past enrolments to learn from: each group (contacted and control) needs "
                    "%(min)s customers who converted and %(min)s who did not; there are %(tc)s and %(tn)s "
                    "contacted, %(cc)s and %(cn)s in the control group."
                )
                % {
                    "min": MIN_ARM_CLASS_ROWS,
                    "tc": counts["treated_converted"],
                    "tn": counts["treated_not"],
                    "cc": counts["control_converted"],
                    "cn": counts["control_not"],
                }
            ),
        )
        return result
    job_set_progress(job_id=job_id, done=3, message=gettext_lazy("Scoring customers"))
    scored = _score_everyone(job_id=job_id, version=version, now=now) if version.is_active else 0
    result = {
        "version": version.version,
        "in_use": version.is_active,
        "rows": version.metrics.get("rows"),
        "qini": version.metrics.get("qini"),
        "scored": scored,
    }
    job_finish(job_id=job_id, result=result)
    return result
