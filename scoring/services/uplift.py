"""Writes of the uplift model: a trained version (with its held-out figures) and the
customers' predicted uplift. The enrolments it learns from are gathered by campaigns
(``campaigns.uplift``), which sits above scoring and calls these services."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import audit_record
from core.languages import in_both_languages

from .. import uplift as learner
from ..access import require_manage_uplift
from ..features import features_for_customer
from ..models import CustomerUplift, UpliftModelVersion
from ..rescoring import copy_features_pg
from ..training import encode

SCORE_BATCH = 5000


def _start_of_day(moment: dt.datetime) -> dt.datetime:
    local = timezone.localtime(moment)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def uplift_features(*, pairs: list[tuple[int, dt.datetime]], spec) -> np.ndarray:
    """The feature matrix (columns of ``spec``) of (customer id, moment) pairs, each as
    the customer was at the start of that moment's day (nothing of the day itself can
    leak in). PostgreSQL: one set-based SELECT per distinct day; otherwise one customer
    at a time (SQLite, the zero-setup path)."""
    X = np.full((len(pairs), len(spec)), np.nan)
    by_day: dict[dt.datetime, list[int]] = defaultdict(list)
    for i, (_cid, moment) in enumerate(pairs):
        by_day[_start_of_day(moment)].append(i)
    for as_of, rows in by_day.items():
        ids = [pairs[i][0] for i in rows]
        if connection.vendor == "postgresql":
            found, matrix = copy_features_pg(spec=spec, lo=min(ids), hi=max(ids) + 1, as_of=as_of)
            where = {int(c): j for j, c in enumerate(found.tolist())}
            for i, cid in zip(rows, ids, strict=True):
                if cid in where:
                    X[i] = matrix[where[cid]]
        else:
            X[rows] = encode([features_for_customer(customer_id=cid, as_of=as_of) for cid in ids], spec)
    return X


def _next_version() -> str:
    today = timezone.localdate().strftime("%Y%m%d")
    n = UpliftModelVersion.objects.filter(version__startswith=f"uplift-{today}-").count() + 1
    while UpliftModelVersion.objects.filter(version=f"uplift-{today}-{n}").exists():
        n += 1
    return f"uplift-{today}-{n}"


def _percent(value: float) -> str:
    return f"{100 * value:.2f}%"


def _kept_note(metrics: dict, current: UpliftModelVersion | None):
    """Why a new version is not put in use, as words for ``in_both_languages`` (None: it
    is put in use). It must find uplift on held-out customers (its Qini interval above 0)
    and, when a version is in use, rank those same customers at least as well (Qini
    difference new − current ≥ 0, the interval shown beside it)."""
    if not metrics["finds_uplift"]:
        return lambda: _(
            "Not put in use: its Qini coefficient is not above 0 with 95% confidence on held-out enrolments."
        )
    compared = metrics.get("compared")
    if current is None or not compared:
        return None
    if not compared["enough"]:
        values = {"n": compared["rows"], "version": current.version, "min": learner.MIN_COMPARE_CLASS_ROWS}
        return lambda: (
            _(
                "Not put in use: only %(n)s held-out enrolments are of customers version %(version)s in use has "
                "not seen, too few to compare the two (each group needs %(min)s who converted and %(min)s who "
                "did not); the version in use stays."
            )
            % values
        )
    if compared["qini_difference"] >= 0:
        return None
    low, high = compared["qini_difference_interval"] or (compared["qini_difference"],) * 2
    values = {
        "new": _percent(metrics["qini"]),
        "current": _percent(compared["current_qini"]),
        "version": current.version,
        "d": _percent(compared["qini_difference"]),
        "lo": _percent(low),
        "hi": _percent(high),
    }
    return lambda: (
        _(
            "Not put in use: on the same held-out enrolments its Qini coefficient %(new)s is below the "
            "%(current)s of version %(version)s in use (difference %(d)s, 95%% interval %(lo)s to %(hi)s)."
        )
        % values
    )


def uplift_trained_until(version: UpliftModelVersion) -> dt.datetime:
    """The moment whose closed attribution windows ``version`` learned from (older
    versions did not record it: they trained on what had closed when they were written)."""
    stored = (version.metrics or {}).get("trained_until")
    return dt.datetime.fromisoformat(stored) if stored else version.trained_at


def uplift_model_train(
    *,
    actor,
    X: np.ndarray,
    treated: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    job_id: int | None = None,
    closed_at: list[dt.datetime] | None = None,
    as_of: dt.datetime | None = None,
) -> UpliftModelVersion:
    """Fit, evaluate on held-out customers and store a version. It is put in use when its
    Qini interval lies above 0 (it finds uplift) and, with a version in use, when on the
    held-out customers that version never saw its Qini is at least the current one's (a
    paired bootstrap gives the difference its interval); otherwise it is kept with a note
    saying why, and the current version stays. ``closed_at``: when each row's attribution
    window closed (the rows of windows closed by the current version's training are the
    ones it saw; without it every row counts as seen, so a version in use is never
    replaced); ``as_of``: the moment of this training's data. One version per job: a job
    run again returns the version it wrote."""
    require_manage_uplift(actor)
    if job_id is not None:
        done = UpliftModelVersion.objects.filter(job_id=job_id).first()
        if done is not None:
            return done
    as_of = as_of or timezone.now()
    current = UpliftModelVersion.objects.filter(is_active=True).first()
    current_model, seen = None, None
    if current is not None:
        current_model = learner.UpliftModel.loads(current.artifact)
        until = uplift_trained_until(current)
        seen = np.ones(len(y), dtype=bool) if closed_at is None else np.array([c <= until for c in closed_at])
    model, metrics = learner.uplift_fit(X, treated, y, groups, current=current_model, seen=seen)
    metrics["trained_until"] = as_of.isoformat()
    metrics["compared_with"] = current.version if current is not None and metrics.get("compared") else None
    note = _kept_note(metrics, current if metrics.get("compared") else None)
    with transaction.atomic():
        mv = UpliftModelVersion.objects.create(
            version=_next_version(),
            artifact=model.dumps(),
            features=[model.spec[j][0] for j in model.cols],
            metrics=metrics,
            params=learner.HGB_PARAMS,
            trained_by=actor if getattr(actor, "is_authenticated", False) else None,
            job_id=job_id,
        )
        if note is None:
            UpliftModelVersion.objects.filter(is_active=True).update(is_active=False)
            UpliftModelVersion.objects.filter(pk=mv.pk).update(is_active=True)
            mv.is_active = True
        else:
            mv.note, mv.note_en = in_both_languages(note)
            mv.save(update_fields=["note", "note_en"])
        compared = metrics.get("compared") or {}
        audit_record(
            actor=actor,
            verb="scoring.uplift_train",
            target=mv,
            details={
                "rows": metrics["rows"],
                "qini": metrics["qini"],
                "top_decile_uplift": metrics["top_decile_uplift"],
                "in_use": mv.is_active,
                "compared_with": metrics.get("compared_with"),
                "qini_difference": compared.get("qini_difference"),
                "learner": f"{metrics['learner']}_learner",
                "learner_difference": metrics["learners"]["difference"],
                "kept_because": ""
                if mv.is_active
                else ("worse_than_current" if metrics["finds_uplift"] else "no_uplift"),
            },
        )
    return mv


def uplift_scores_write(*, version: UpliftModelVersion, customer_ids: list[int], X: np.ndarray) -> int:
    """Predict and store the uplift of these customers under ``version`` (replacing what
    they had: running it twice writes the same rows)."""
    if not customer_ids:
        return 0
    model = learner.UpliftModel.loads(version.artifact)
    uplift, p_t, p_c = model.predict(X)
    now = timezone.now()
    rows = [
        CustomerUplift(
            customer_id=cid, uplift=float(u), p_treated=float(t), p_control=float(c), version=version, scored_at=now
        )
        for cid, u, t, c in zip(customer_ids, uplift.tolist(), p_t.tolist(), p_c.tolist(), strict=True)
    ]
    with transaction.atomic():
        CustomerUplift.objects.bulk_create(
            rows,
            batch_size=SCORE_BATCH,
            update_conflicts=True,
            unique_fields=["customer"],
            update_fields=["uplift", "p_treated", "p_control", "version", "scored_at"],
        )
    return len(rows)


def uplift_scoring_finish(*, version: UpliftModelVersion, customers: int) -> None:
    """Record that every customer was scored (and forget the scores of older versions)."""
    with transaction.atomic():
        CustomerUplift.objects.exclude(version=version).delete()
        UpliftModelVersion.objects.filter(pk=version.pk).update(scored_at=timezone.now(), scored_customers=customers)
