"""Full rescoring of a customer-id range: features out, inference, scores and leads in.

On PostgreSQL the features of a range come out of one SELECT streamed with binary COPY;
every column is float8 and never NULL (NaN for missing), so each row has the same
length and the whole stream is read with one ``numpy.frombuffer``. Scores go back with
COPY into a staging table and one INSERT ... ON CONFLICT (``scores_write``), which also
asks ``leads`` to open a lead for each customer whose grade rose into mid or high.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Sequence

import numpy as np
from django.db import connection
from django.utils import timezone

from customers.models import Customer
from leads.services import leads_propose, leads_propose_sql

from .features import feature_select_sql, feature_sql_params, features_for_customer
from .models import CustomerScore
from .reasons import reasons_json
from .scorer import Scorer
from .training import encode

PG_COPY_HEADER = 19  # signature (11) + flags (4) + header extension length (4)


def _row_dtype(k: int) -> np.dtype:
    fields = [("n", ">i2")]
    for j in range(k):
        fields += [(f"l{j}", ">i4"), (f"v{j}", ">f8")]
    return np.dtype(fields)


def copy_features_pg(*, spec, lo: int, hi: int, as_of: dt.datetime) -> tuple[np.ndarray, np.ndarray]:
    """Customer ids and the encoded feature matrix of ``lo <= id < hi`` (PostgreSQL)."""
    sql = feature_select_sql(spec)
    params = feature_sql_params(spec=spec, lo=lo, hi=hi, as_of=as_of)
    with connection.cursor() as cur:
        raw = cur.cursor
        query = raw.mogrify(sql, params)  # Django's psycopg cursors bind client-side
        chunks = []
        if not connection.get_autocommit():
            # A chunk is a customer-id range: walking the (customer_id, date) indexes is
            # about twice as fast as the planner's choice of a parallel seq scan of the
            # whole snapshot table for each chunk. Scoped to this transaction.
            raw.execute("SET LOCAL enable_seqscan = off")
        with raw.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy:
            for block in copy:
                chunks.append(bytes(block))
        if not connection.get_autocommit():
            raw.execute("SET LOCAL enable_seqscan = on")
    data = b"".join(chunks)
    k = len(spec) + 1
    body = data[PG_COPY_HEADER:-2] if len(data) > PG_COPY_HEADER + 2 else b""
    rec = np.frombuffer(body, dtype=_row_dtype(k))
    if len(rec) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, len(spec)))
    ids = rec["v0"].astype(np.int64)
    X = np.empty((len(rec), len(spec)))
    for j in range(len(spec)):
        X[:, j] = rec[f"v{j + 1}"]
    return ids, X


def features_plain(*, spec, lo: int, hi: int, as_of: dt.datetime) -> tuple[np.ndarray, np.ndarray]:
    """The same, one customer at a time (SQLite, the zero-setup path)."""
    ids = list(Customer.objects.filter(pk__gte=lo, pk__lt=hi).order_by("pk").values_list("pk", flat=True))
    rows = [features_for_customer(customer_id=cid, as_of=as_of) for cid in ids]
    return np.array(ids, dtype=np.int64), encode(rows, spec)


def rescore_range(*, lo: int, hi: int, scorer: Scorer, as_of: dt.datetime, now: dt.datetime | None = None) -> dict:
    """Score every customer with ``lo <= id < hi``; call inside a transaction."""
    if connection.vendor == "postgresql":
        ids, X = copy_features_pg(spec=scorer.spec, lo=lo, hi=hi, as_of=as_of)
    else:
        ids, X = features_plain(spec=scorer.spec, lo=lo, hi=hi, as_of=as_of)
    if len(ids) == 0:
        return {"customers": 0, "scores": 0, "leads": 0}
    scores, grades, reasons = scorer.score_matrix(X)
    version, method = scorer.version, scorer.method
    rows = [
        (int(cid), float(s), str(g), reasons_json(r), version, method)
        for cid, s, g, r in zip(ids.tolist(), scores.tolist(), grades.tolist(), reasons, strict=True)
    ]
    result = scores_write(rows, now=now or as_of)
    return {"customers": len(ids), **result}


# --- writing scores (and the leads they propose) ---------------------------------------------

ScoreRow = tuple[int, float, str, str, str, str]  # customer id, score, grade, reasons JSON, version, method

GRADE_RANK = {"low": 0, "mid": 1, "high": 2}


def scores_write(rows: Sequence[ScoreRow], *, now: dt.datetime | None = None) -> dict:
    """Write current scores and have leads open for customers whose grade crossed into
    high or mid (``leads.services`` opens one unless the customer has an open lead).
    Call inside a transaction.

    PostgreSQL and more than a handful of rows: COPY into a temporary staging table, one
    INSERT of leads from the crossed rows and one INSERT ... ON CONFLICT DO UPDATE of the
    scores. Elsewhere: the same in plain batched statements.
    """
    now = now or timezone.now()
    if not rows:
        return {"scores": 0, "leads": 0}
    if connection.vendor == "postgresql" and len(rows) > 50:
        return _scores_write_pg(rows, now)
    return _scores_write_plain(rows, now)


STAGE = "scoring_stage"


def _scores_write_pg(rows: Sequence[ScoreRow], now: dt.datetime) -> dict:
    with connection.cursor() as cur:
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (customer_id bigint, score float8, grade varchar(8), "
            "reasons jsonb, model_version varchar(64), method varchar(8)) ON COMMIT DELETE ROWS"
        )
        cur.execute(f"TRUNCATE {STAGE}")
        buf = io.StringIO()
        for cid, score, grade, reasons, version, method in rows:
            buf.write(f"{cid}\t{score}\t{grade}\t{_copy_escape(reasons)}\t{version}\t{method}\n")
        with cur.cursor.copy(
            f"COPY {STAGE} (customer_id, score, grade, reasons, model_version, method) FROM STDIN"
        ) as copy:
            copy.write(buf.getvalue())
        leads = leads_propose_sql(cursor=cur, candidates_sql=_CROSSED_SQL.format(score=_SCORE_TABLE()), now=now)
        cur.execute(_UPSERT_SQL.format(score=_SCORE_TABLE()), {"now": now})
        written = cur.rowcount
    return {"scores": written, "leads": leads}


def _SCORE_TABLE() -> str:  # noqa: N802 - a table name
    return CustomerScore._meta.db_table


def _copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


# The staged customers whose grade rose into mid or high against their current score.
_CROSSED_SQL = f"""
SELECT s.customer_id, s.score, s.grade, s.reasons, s.model_version, s.method
FROM {STAGE} s LEFT JOIN {{score}} old ON old.customer_id = s.customer_id
WHERE s.grade IN ('high', 'mid')
  AND (old.grade IS NULL OR old.grade = 'low' OR (old.grade = 'mid' AND s.grade = 'high'))
"""  # noqa: S608 - only the constant staging table name is interpolated

_UPSERT_SQL = f"""
INSERT INTO {{score}} (customer_id, score, grade, reasons, model_version, method, scored_at)
SELECT customer_id, score, grade, reasons, model_version, method, %(now)s FROM {STAGE}
ON CONFLICT (customer_id) DO UPDATE SET score = EXCLUDED.score, grade = EXCLUDED.grade,
    reasons = EXCLUDED.reasons, model_version = EXCLUDED.model_version, method = EXCLUDED.method,
    scored_at = EXCLUDED.scored_at
"""  # noqa: S608 - only the constant staging table name is interpolated


def _scores_write_plain(rows: Sequence[ScoreRow], now: dt.datetime) -> dict:
    ids = [r[0] for r in rows]
    old = dict(CustomerScore.objects.filter(customer_id__in=ids).values_list("customer_id", "grade"))
    crossed = [
        (cid, score, grade, json.loads(reasons), version, method)
        for cid, score, grade, reasons, version, method in rows
        if grade in ("high", "mid") and (cid not in old or GRADE_RANK[grade] > GRADE_RANK[old[cid]])
    ]
    leads = leads_propose(candidates=crossed, now=now) if crossed else 0
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
    return {"scores": len(rows), "leads": leads}
