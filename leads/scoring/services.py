"""Writes of the scoring app: outcomes, scores (+ leads), model versions and settings."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leads.models import OPEN_LEAD_STATUSES, CustomerScore, Lead, LeadSource, LeadStatus, Outcome, OutcomeSource
from workbench.audit import audit_record

from .features import features_for_customer
from .models import ModelVersion, ScoringSettings
from .scorer import Scorer, settings_get

GRADE_RANK = {"low": 0, "mid": 1, "high": 2}

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
    campaign=None,
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
                campaign=campaign,
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
    from .tasks import rescore_customer

    customer_id = customer.pk
    transaction.on_commit(lambda: rescore_customer.delay(customer_id))
    return outcome


# --- scores and leads -----------------------------------------------------------------------

ScoreRow = tuple[int, float, str, str, str, str]  # customer id, score, grade, reasons JSON, version, method


def _team_ids() -> list[int]:
    from customers.models import Team

    return list(Team.objects.order_by("id").values_list("id", flat=True))


def scores_write(rows: Sequence[ScoreRow], *, now: dt.datetime | None = None) -> dict:
    """Write current scores and create leads for customers whose grade crossed into
    high or mid with no open lead. Call inside a transaction.

    PostgreSQL and more than a handful of rows: COPY into a temporary staging table, one
    INSERT of leads (... ON CONFLICT DO NOTHING: the partial unique index on open leads
    makes a duplicate impossible even against a concurrent writer) and one INSERT ... ON
    CONFLICT DO UPDATE of the scores. Elsewhere: the same in plain batched statements.

    Lead team: the owner advisor's team; an unowned customer goes to the team at
    position ``customer_id mod number of teams`` in team-id order (deterministic, and it
    spreads the unowned book evenly).
    """
    now = now or timezone.now()
    if not rows:
        return {"scores": 0, "leads": 0}
    if connection.vendor == "postgresql" and len(rows) > 50:
        return _scores_write_pg(rows, now)
    return _scores_write_plain(rows, now)


def _scores_write_pg(rows: Sequence[ScoreRow], now: dt.datetime) -> dict:
    with connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE IF NOT EXISTS scoring_stage (customer_id bigint, score float8, grade varchar(8), "
            "reasons jsonb, model_version varchar(64), method varchar(8)) ON COMMIT DELETE ROWS"
        )
        cur.execute("TRUNCATE scoring_stage")
        buf = io.StringIO()
        for cid, score, grade, reasons, version, method in rows:
            buf.write(f"{cid}\t{score}\t{grade}\t{_copy_escape(reasons)}\t{version}\t{method}\n")
        copy_stage(cur, buf.getvalue())
        leads = leads_from_stage(cur, now)
        cur.execute(UPSERT_FROM_STAGE_SQL, {"now": now})
        written = cur.rowcount
    return {"scores": written, "leads": leads}


def _copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_stage(cur, data: str) -> None:
    with cur.cursor.copy(
        "COPY scoring_stage (customer_id, score, grade, reasons, model_version, method) FROM STDIN"
    ) as copy:
        copy.write(data)


LEADS_FROM_STAGE_SQL = """
INSERT INTO leads_lead (customer_id, team_id, owner_id, source, score, proposed_grade, confirmed_grade,
                        status, reasons, model_version, created_at, updated_at)
SELECT s.customer_id,
       coalesce(sp.team_id, (%(teams)s::bigint[])[(s.customer_id %% %(n_teams)s) + 1]),
       c.owner_id,
       CASE WHEN s.method = 'rules' THEN 'rules' ELSE 'model' END,
       s.score, s.grade, '', 'new', s.reasons, s.model_version, %(now)s, %(now)s
FROM scoring_stage s
JOIN customers_customer c ON c.id = s.customer_id
LEFT JOIN customers_staffprofile sp ON sp.user_id = c.owner_id
LEFT JOIN leads_customerscore old ON old.customer_id = s.customer_id
WHERE s.grade IN ('high', 'mid')
  AND (old.grade IS NULL OR old.grade = 'low' OR (old.grade = 'mid' AND s.grade = 'high'))
  AND NOT EXISTS (SELECT 1 FROM leads_lead l WHERE l.customer_id = s.customer_id AND l.status = ANY(%(open)s))
ON CONFLICT DO NOTHING
"""

UPSERT_FROM_STAGE_SQL = """
INSERT INTO leads_customerscore (customer_id, score, grade, reasons, model_version, method, scored_at)
SELECT customer_id, score, grade, reasons, model_version, method, %(now)s FROM scoring_stage
ON CONFLICT (customer_id) DO UPDATE SET score = EXCLUDED.score, grade = EXCLUDED.grade,
    reasons = EXCLUDED.reasons, model_version = EXCLUDED.model_version, method = EXCLUDED.method,
    scored_at = EXCLUDED.scored_at
"""


def leads_from_stage(cur, now) -> int:
    teams = _team_ids()
    if not teams:
        teams = [None]
    cur.execute(
        LEADS_FROM_STAGE_SQL,
        {"teams": teams, "n_teams": len(teams), "now": now, "open": [str(s) for s in OPEN_LEAD_STATUSES]},
    )
    return cur.rowcount


def _scores_write_plain(rows: Sequence[ScoreRow], now: dt.datetime) -> dict:
    from customers.models import Customer

    ids = [r[0] for r in rows]
    old = dict(CustomerScore.objects.filter(customer_id__in=ids).values_list("customer_id", "grade"))
    open_ids = set(Lead.objects.open().filter(customer_id__in=ids).values_list("customer_id", flat=True))
    owners = {
        cid: (owner, team)
        for cid, owner, team in Customer.objects.filter(pk__in=ids).values_list(
            "id", "owner_id", "owner__staff_profile__team_id"
        )
    }
    teams = _team_ids()
    leads = []
    for cid, score, grade, reasons, version, method in rows:
        before = old.get(cid)
        crossed = grade in ("high", "mid") and (before is None or GRADE_RANK[grade] > GRADE_RANK.get(before, 0))
        if crossed and cid not in open_ids and cid in owners:
            owner, team = owners[cid]
            if team is None and teams:
                team = teams[cid % len(teams)]
            leads.append(
                Lead(
                    customer_id=cid,
                    team_id=team,
                    owner_id=owner,
                    source=LeadSource.RULES if method == "rules" else LeadSource.MODEL,
                    score=score,
                    proposed_grade=grade,
                    status=LeadStatus.NEW,
                    reasons=json.loads(reasons),
                    model_version=version,
                )
            )
    created = Lead.objects.bulk_create(leads, ignore_conflicts=True)
    CustomerScore.objects.bulk_create(
        [
            CustomerScore(
                customer_id=cid,
                score=score,
                grade=grade,
                reasons=json.loads(reasons),
                model_version=version,
                method=method,
                scored_at=now,
            )
            for cid, score, grade, reasons, version, method in rows
        ],
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=["score", "grade", "reasons", "model_version", "method", "scored_at"],
    )
    # bulk_create(ignore_conflicts) does not say which rows it skipped: count what exists
    n_leads = Lead.objects.filter(customer_id__in=[lead.customer_id for lead in created], created_at__gte=now).count()
    return {"scores": len(rows), "leads": n_leads}


def customer_rescore(*, customer_id: int, scorer: Scorer | None = None, as_of: dt.datetime | None = None) -> dict:
    """Recompute one customer's score (incremental rescoring on events)."""
    from .reasons import reasons_json

    scorer = scorer or Scorer.current()
    as_of = as_of or timezone.now()
    features = features_for_customer(customer_id=customer_id, as_of=as_of)
    score, grade, reasons = scorer.score_features(features)
    with transaction.atomic():
        result = scores_write([(customer_id, score, grade, reasons_json(reasons), scorer.version, scorer.method)])
    return {"score": score, "grade": grade, "reasons": reasons, **result}


LARGE_ASSET_CHANGE = 0.10


def asset_change_rescore(*, customer_id: int, before: Decimal | float, after: Decimal | float) -> bool:
    """Queue an incremental rescoring (after commit) when a customer's AUM moved by 10%
    or more; for asset imports and balance feeds. Returns whether it was queued."""
    before, after = float(before or 0), float(after or 0)
    if before == after or (before and abs(after - before) / abs(before) < LARGE_ASSET_CHANGE):
        return False
    from .tasks import rescore_customer

    transaction.on_commit(lambda: rescore_customer.delay(customer_id))
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
    from . import training

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
    mv = ModelVersion.objects.select_for_update().get(pk=version_id)
    if mv.is_active:
        return mv
    newest = ModelVersion.objects.order_by("-trained_at", "-id").first()
    verb = "scoring.model_activate" if mv.pk == newest.pk else "scoring.model_rollback"
    _activate(mv, actor=actor, verb=verb, reason="manual")
    return mv


@transaction.atomic
def model_deactivate_all(*, actor) -> None:
    """Back to the cold-start rules."""
    for mv in ModelVersion.objects.select_for_update().filter(is_active=True):
        ModelVersion.objects.filter(pk=mv.pk).update(is_active=False)
        audit_record(actor=actor, verb="scoring.model_deactivate", target=mv)


# --- settings ------------------------------------------------------------------------------


@transaction.atomic
def cutoffs_update(*, actor, high: float, mid: float) -> ScoringSettings:
    """Set the grade cutoffs (absolute scores 0-100, high above mid)."""
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
