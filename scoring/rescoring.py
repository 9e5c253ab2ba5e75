"""Full rescoring of a customer-id range: features out, inference, scores and leads in.

On PostgreSQL the features of a range come out of one SELECT streamed with binary COPY;
every column is float8 and never NULL (NaN for missing), so each row has the same
length and the whole stream is read with one ``numpy.frombuffer``. Scores go back with
COPY into a staging table (``scores_write``), which also asks ``leads`` to open a lead
for each customer whose grade rose into mid or high against the current score.

A full run does not update the score table in place. Updating a million scores was the
larger half of the run's floor and left a million dead rows each night (a nightly run
changes most scores: day counts move the reasons' words). Instead each chunk appends its
scores to the job's own next table, which has no index while it fills; when the last
chunk is done, in the transaction that finishes the job, ``next_table_swap`` indexes it,
carries over any score written meanwhile by incremental rescoring (newer than the run's),
and puts it in the current table's place under the same name, indexes and constraints.
Readers see the old scores until that commit and the new ones after it, never a mix.
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


def rescore_range(
    *, lo: int, hi: int, scorer: Scorer, as_of: dt.datetime, now: dt.datetime | None = None, into: str | None = None
) -> dict:
    """Score every customer with ``lo <= id < hi``; call inside a transaction. ``into``:
    a full run's next table (PostgreSQL), else the current scores are upserted."""
    if connection.vendor == "postgresql":
        ids, X = copy_features_pg(spec=scorer.spec, lo=lo, hi=hi, as_of=as_of)
    else:
        ids, X = features_plain(spec=scorer.spec, lo=lo, hi=hi, as_of=as_of)
    if len(ids) == 0:
        return {"customers": 0, "leads": 0}
    scores, grades, reasons = scorer.score_matrix_json(X)
    version, method = scorer.version, scorer.method
    rows = [
        (int(cid), float(sc), str(g), r, version, method)
        for cid, sc, g, r in zip(ids.tolist(), scores.tolist(), grades.tolist(), reasons, strict=True)
    ]
    result = scores_write(rows, now=now or as_of, into=into)
    return {"customers": len(ids), **result}


# --- writing scores (and the leads they propose) ---------------------------------------------

ScoreRow = tuple[int, float, str, str, str, str]  # customer id, score, grade, reasons JSON, version, method

GRADE_RANK = {"low": 0, "mid": 1, "high": 2}


def scores_write(rows: Sequence[ScoreRow], *, now: dt.datetime | None = None, into: str | None = None) -> dict:
    """Write current scores and have leads open for customers whose grade crossed into
    high or mid (``leads.services`` opens one unless the customer has an open lead).
    Call inside a transaction.

    PostgreSQL and more than a handful of rows: COPY into a temporary staging table, one
    INSERT of leads from the crossed rows, then the scores: appended to the run's next
    table ``into`` (a full run, see the module docstring) or one INSERT ... ON CONFLICT DO
    UPDATE of the current ones. Elsewhere: the same in plain batched statements, into the
    current table.
    """
    now = now or timezone.now()
    if not rows:
        return {"leads": 0}
    if connection.vendor == "postgresql" and (len(rows) > 50 or into):
        return _scores_write_pg(rows, now, into)
    return _scores_write_plain(rows, now)


STAGE = "scoring_stage"


def _scores_write_pg(rows: Sequence[ScoreRow], now: dt.datetime, into: str | None) -> dict:
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
        if into:
            cur.execute(_APPEND_SQL.format(next=_quoted(into)), {"now": now})
        else:
            cur.execute(_UPSERT_SQL.format(score=_SCORE_TABLE()), {"now": now})
    return {"leads": leads}


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

# A stored score replaced by the incoming row (the upsert, and the swap's carry-over).
_SET_EXCLUDED = (
    "score = EXCLUDED.score, grade = EXCLUDED.grade, reasons = EXCLUDED.reasons, "
    "model_version = EXCLUDED.model_version, method = EXCLUDED.method, scored_at = EXCLUDED.scored_at"
)

_UPSERT_SQL = f"""
INSERT INTO {{score}} (customer_id, score, grade, reasons, model_version, method, scored_at)
SELECT customer_id, score, grade, reasons, model_version, method, %(now)s FROM {STAGE}
ON CONFLICT (customer_id) DO UPDATE SET {_SET_EXCLUDED}
"""  # noqa: S608 - only the constant staging table name is interpolated


_APPEND_SQL = f"""
INSERT INTO {{next}} (customer_id, score, grade, reasons, model_version, method, scored_at)
SELECT customer_id, score, grade, reasons, model_version, method, %(now)s FROM {STAGE}
"""  # noqa: S608 - only constant and generated table names are interpolated


# --- a full run's next table -------------------------------------------------------------------

NEXT_PREFIX = "scoring_score_next_"


def next_table(job_id: int) -> str:
    return f"{NEXT_PREFIX}{int(job_id)}"


def _quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def next_table_create(*, job_id: int, keep: Sequence[int] = ()) -> str | None:
    """The job's next table, empty and without indexes (made once; planning again keeps
    what its finished chunks appended). Drops the next tables of other jobs, except those
    in ``keep`` (runs still going). PostgreSQL only: None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    name = next_table(job_id)
    keep_names = {next_table(j) for j in keep} | {name}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE %s",
            [NEXT_PREFIX.replace("_", r"\_") + "%"],
        )
        for (stale,) in cur.fetchall():
            if stale not in keep_names:
                cur.execute(f"DROP TABLE IF EXISTS {_quoted(stale)}")
        cur.execute(f"CREATE TABLE IF NOT EXISTS {_quoted(name)} (LIKE {_SCORE_TABLE()} INCLUDING DEFAULTS)")
    return name


def next_table_swap(*, job_id: int, started_at: dt.datetime) -> bool:
    """Put the job's next table in the current score table's place (call in the
    transaction that finishes the job). False when there is none (SQLite, or no chunk).

    A score in the current table written since the run began (``started_at``: incremental
    rescoring, or a customer created after planning) is carried over when it is newer than
    the run's own; every older one belongs to a customer whose chunk read newer data."""
    if connection.vendor != "postgresql":
        return False
    name, live = next_table(job_id), _SCORE_TABLE()
    nxt = _quoted(name)
    columns = "customer_id, score, grade, reasons, model_version, method, scored_at"
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
        if not cur.fetchone()[0]:
            return False
        # Readers go on; writers (incremental rescoring) wait until the commit. A reader
        # that holds the table for long makes the swap give up: the job stays open and
        # the sweeper's next dispatch tries again.
        cur.execute("SET LOCAL lock_timeout = '20s'")
        cur.execute(f"LOCK TABLE {live} IN SHARE ROW EXCLUSIVE MODE")
        cur.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass",
            [live],
        )
        constraints = cur.fetchall()
        cur.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = %s AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname "
            "AND c.conrelid = %s::regclass)",
            [live, live],
        )
        indexes = cur.fetchall()
        renames = []
        for i, (conname, contype, definition) in enumerate(sorted(constraints, key=lambda c: c[1] != "p")):
            temp = f"{name}_c{i}"
            cur.execute(f"ALTER TABLE {nxt} ADD CONSTRAINT {_quoted(temp)} {definition}")
            renames.append(("CONSTRAINT", temp, conname))
            if contype == "p":
                # the primary key first: the carry-over below needs it
                cur.execute(
                    f"INSERT INTO {nxt} ({columns}) SELECT {columns} FROM {live} l "  # noqa: S608
                    f"WHERE l.scored_at >= %s ON CONFLICT (customer_id) DO UPDATE SET {_SET_EXCLUDED} "
                    f"WHERE {nxt}.scored_at < EXCLUDED.scored_at",
                    [started_at],
                )
                # customers deleted while the run went (their scores went with them)
                cur.execute(
                    f"DELETE FROM {nxt} n WHERE NOT EXISTS "  # noqa: S608
                    f"(SELECT 1 FROM {Customer._meta.db_table} c WHERE c.id = n.customer_id)"
                )
        for i, (indexname, definition) in enumerate(indexes):
            temp = f"{name}_i{i}"
            # "CREATE [UNIQUE] INDEX name ON table USING method (columns)", on the next table
            head = definition.partition(" ON ")[0].rsplit(" ", 1)[0]
            using = definition.partition(" USING ")[2]
            cur.execute(f"{head} {_quoted(temp)} ON {nxt} USING {using}")
            renames.append(("INDEX", temp, indexname))
        # A table with deferred foreign-key checks still pending in this transaction cannot
        # be dropped: run them now (Django's keys are all deferred, the default restored after).
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute(f"DROP TABLE {live}")
        cur.execute("SET CONSTRAINTS ALL DEFERRED")
        cur.execute(f"ALTER TABLE {nxt} RENAME TO {live}")
        for kind, temp, original in renames:
            if kind == "INDEX":
                cur.execute(f"ALTER INDEX {_quoted(temp)} RENAME TO {_quoted(original)}")
            else:
                cur.execute(f"ALTER TABLE {live} RENAME CONSTRAINT {_quoted(temp)} TO {_quoted(original)}")
        cur.execute(f"ANALYZE {live}")
    return True


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
    return {"leads": leads}
