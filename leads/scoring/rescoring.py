"""Full rescoring of a customer-id range: features out, inference, scores and leads in.

On PostgreSQL the features of a range come out of one SELECT streamed with binary COPY;
every column is float8 and never NULL (NaN for missing), so each row has the same
length and the whole stream is read with one ``numpy.frombuffer``. Scores go back with
COPY into a staging table and one INSERT ... ON CONFLICT (services.scores_write).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.db import connection

from customers.models import Customer

from .features import feature_select_sql, feature_sql_params, features_for_customer
from .reasons import reasons_json
from .scorer import Scorer
from .services import scores_write
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
