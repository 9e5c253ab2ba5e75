"""Full rescoring against its raw floor, measured in the same run (issue 4).

    DJANGO_SECRET_KEY=dev DATABASE_URL=postgres://root@127.0.0.1:5432/<seeded db> \\
        .venv/bin/python bench/scoring_rescore.py [--train-limit 100000] [--naive 10000]

The database must hold seeded customers (``seed_demo --customers 1000000``). Steps:

1. make sure a trained model is active (trains one on the latest ``--train-limit``
   outcomes if none is);
2. end-to-end run 1: the real ``scoring.rescore_all`` job with its chunk tasks executed
   in this process (one worker): features out with COPY, inference, reasons, COPY into
   staging, leads INSERT ... ON CONFLICT DO NOTHING, scores INSERT ... ON CONFLICT;
3. the raw floor: COPY out the feature columns (the same SELECT, whole table) + COPY in
   as many scores to a staging table + one UPDATE ... FROM;
4. end-to-end run 2 (scores exist: every row is an update, like the floor);
5. the naive ORM approach on a sample (per customer: features, predict, update_or_create,
   lead check), extrapolated.

Prints one JSON object. Timings are never asserted in tests.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"  # the fan-out runs here: one worker

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Max, Min  # noqa: E402
from django.utils import timezone  # noqa: E402

from core.models import Job  # noqa: E402
from customers.models import Customer  # noqa: E402
from leads.models import Lead  # noqa: E402
from scoring import tasks, training  # noqa: E402
from scoring.features import feature_select_sql, feature_sql_params, features_for_customer  # noqa: E402
from scoring.models import CustomerScore, ModelVersion, Outcome  # noqa: E402
from scoring.scorer import Scorer  # noqa: E402
from scoring.services import scores as score_services  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def ensure_model(limit: int) -> str:
    active = ModelVersion.objects.filter(is_active=True).first()
    if active is not None:
        return active.version
    log(f"training a model on the latest {limit:,} outcomes ...")
    rows, labels = [], []
    qs = Outcome.objects.order_by("-id").values_list("features", "converted")[:limit]
    for features, converted in qs.iterator(chunk_size=10_000):
        rows.append(features or {})
        labels.append(int(converted))
    t = time.perf_counter()
    model, metrics = training.fit(rows, np.array(labels))
    log(f"  trained in {time.perf_counter() - t:.1f} s, CV AUC {metrics['auc']}")
    mv = ModelVersion.objects.create(
        version=f"bench-{timezone.now():%Y%m%d%H%M}",
        artifact=model.dumps(),
        features=[n for n, _k, _v in model.spec],
        metrics=metrics,
        params=model.params,
        is_active=True,
        activated_at=timezone.now(),
        note="bench/scoring_rescore.py",
    )
    return mv.version


def end_to_end() -> dict:
    t = time.perf_counter()
    job = score_services.rescore_job_create()
    tasks.rescore_all(job.pk)
    seconds = time.perf_counter() - t
    job = Job.objects.get(pk=job.pk)
    assert job.status == Job.Status.SUCCEEDED, job.message
    return {"seconds": round(seconds, 2), "customers": job.result["customers"], "leads": job.result["leads"]}


def floor(spec) -> dict:
    bounds = Customer.objects.aggregate(lo=Min("id"), hi=Max("id"))
    params = feature_sql_params(spec=spec, lo=bounds["lo"], hi=bounds["hi"] + 1, as_of=timezone.now())
    out = {}
    with transaction.atomic(), connection.cursor() as cur:
        raw = cur.cursor
        query = raw.mogrify(feature_select_sql(spec), params)
        t = time.perf_counter()
        size = 0
        with raw.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy:
            for block in copy:
                size += len(block)
        out["copy_out_features_s"] = round(time.perf_counter() - t, 2)
        out["copy_out_bytes"] = size
        ids = np.array(list(CustomerScore.objects.values_list("customer_id", flat=True)), dtype=np.int64)
        scores = np.random.default_rng(0).uniform(0, 100, len(ids))
        buf = io.StringIO()
        for cid, s in zip(ids.tolist(), scores.tolist(), strict=True):
            buf.write(f"{cid}\t{s:.2f}\t{'high' if s >= 60 else 'low'}\n")
        data = buf.getvalue()
        t = time.perf_counter()
        raw.execute("CREATE TEMP TABLE floor_stage (customer_id bigint, score float8, grade varchar(8)) ON COMMIT DROP")
        with raw.copy("COPY floor_stage FROM STDIN") as copy:
            copy.write(data)
        out["copy_in_scores_s"] = round(time.perf_counter() - t, 2)
        t = time.perf_counter()
        raw.execute(
            f"UPDATE {CustomerScore._meta.db_table} c SET score = s.score, grade = s.grade FROM floor_stage s "
            "WHERE c.customer_id = s.customer_id"
        )
        out["update_from_s"] = round(time.perf_counter() - t, 2)
        out["rows"] = raw.rowcount
    out["seconds"] = round(out["copy_out_features_s"] + out["copy_in_scores_s"] + out["update_from_s"], 2)
    # a narrower floor for reference: COPY out the customer table's own columns only
    with connection.cursor() as cur:
        t = time.perf_counter()
        with cur.cursor.copy(
            "COPY (SELECT id, aum, risk_level, risk_assessed_at, last_contact_at, birth_date, gender, tier "
            "FROM customers_customer) TO STDOUT (FORMAT binary)"
        ) as copy:
            for _block in copy:
                pass
        out["copy_out_customer_columns_only_s"] = round(time.perf_counter() - t, 2)
    return out


def naive(sample: int) -> dict:
    """Per customer through the ORM: what the set-based path replaces."""
    scorer = Scorer.current()
    ids = list(Customer.objects.order_by("id").values_list("id", flat=True)[:sample])
    now = timezone.now()
    t = time.perf_counter()
    for cid in ids:
        f = features_for_customer(customer_id=cid, as_of=now)
        score, grade, reasons = scorer.score_features(f)
        with transaction.atomic():
            CustomerScore.objects.update_or_create(
                customer_id=cid,
                defaults={
                    "score": score,
                    "grade": grade,
                    "reasons": reasons,
                    "model_version": scorer.version,
                    "method": scorer.method,
                    "scored_at": now,
                },
            )
            if grade in ("high", "mid"):
                Lead.objects.open().filter(customer_id=cid).exists()
    seconds = time.perf_counter() - t
    return {"sample": len(ids), "seconds": round(seconds, 2), "per_1m_s": round(seconds / max(len(ids), 1) * 1e6, 0)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-limit", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=10_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only")
    customers = Customer.objects.count()
    version = ensure_model(args.train_limit)
    spec = Scorer.current().spec
    log(f"{customers:,} customers, model {version}, {len(spec)} features")
    log("end-to-end run 1 ...")
    run1 = end_to_end()
    log(f"  {run1}")
    log("raw floor ...")
    fl = floor(spec)
    log(f"  {fl}")
    log("end-to-end run 2 ...")
    run2 = end_to_end()
    log(f"  {run2}")
    log(f"naive ORM on {args.naive:,} ...")
    nv = naive(args.naive)
    log(f"  {nv}")
    result = {
        "customers": customers,
        "model_version": version,
        "features": len(spec),
        "end_to_end_run1": run1,
        "end_to_end_run2": run2,
        "floor": fl,
        "ratio_run1_to_floor": round(run1["seconds"] / fl["seconds"], 2),
        "ratio_run2_to_floor": round(run2["seconds"] / fl["seconds"], 2),
        "naive_orm": nv,
        # per customer, so the ratio holds at any size (it divided a per-million figure by
        # the whole run's seconds, right only at 1 M customers)
        "naive_vs_set_based_per_customer": round(
            (nv["seconds"] / max(nv["sample"], 1)) / (run2["seconds"] / max(run2["customers"], 1)), 1
        ),
        "threads": int(os.environ.get("WORKBENCH_SCORING_THREADS", "1")),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
