"""Full rescoring against its true floor, measured in the same run (issues 4 and 15).

    DJANGO_SECRET_KEY=dev DATABASE_URL=postgres://root@127.0.0.1:5432/<seeded db> \\
        .venv/bin/python bench/scoring_rescore.py [--train-limit 100000] [--naive 10000] [--workers 2]

The database must hold seeded customers (``seed_demo --customers 1000000``). Steps:

1. make sure a trained model is active (trains one on the latest ``--train-limit``
   outcomes if none is);
2. run 1, the real ``scoring.rescore_all`` job with its chunk tasks executed in this
   process (one worker), every score new: features out with COPY, inference, reasons,
   COPY into staging, leads INSERT ... ON CONFLICT DO NOTHING, scores INSERT;
3. the **true floor** (issue 15): COPY out, once, the raw columns the features read from
   each table (customers; snapshots of the last 130 days; holdings; tags; interactions,
   with the AI bot's transcripts of the last 90 days; outcomes), COPY in as many scores to
   a staging table, one UPDATE ... FROM of every score. The project's own feature SELECT
   is timed too (the floor older figures used); it rolls back, so its UPDATE leaves
   nothing behind;
4. run 2: the same data again (nothing changed: a run writes only changed scores);
5. run 3: as of the next day (what a nightly run meets: day counts move);
6. run 4: every score changes (the same model under a new version name, so each digest
   differs): the worst case, a new model put in use;
7. with ``--workers N``: as of two days on, on N worker processes;
8. the naive ORM approach on a sample (per customer: features, predict, update_or_create,
   lead check), extrapolated.

Prints one JSON object. Timings are never asserted in tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing
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

from core import services as core_services  # noqa: E402
from core.models import Job, JobChunk  # noqa: E402
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


def _job(*, days: int, version_id: int | None):
    job = score_services.rescore_job_create()
    params = dict(job.params)
    params["as_of"] = (timezone.now() + dt.timedelta(days=days)).isoformat()
    if version_id is not None:
        params["model_version_id"] = version_id
    Job.objects.filter(pk=job.pk).update(params=params)
    return job


def _summary(job_id: int, seconds: float) -> dict:
    job = Job.objects.get(pk=job_id)
    assert job.status == Job.Status.SUCCEEDED, job.message
    return {"seconds": round(seconds, 2), **{k: job.result.get(k) for k in ("customers", "leads")}}


def end_to_end(*, days: int = 0, version_id: int | None = None) -> dict:
    job = _job(days=days, version_id=version_id)
    t = time.perf_counter()
    tasks.rescore_all(job.pk)
    return _summary(job.pk, time.perf_counter() - t)


def _worker(job_id: int, chunks: list[int]) -> None:
    connection.close()  # a forked process opens its own connection
    for lo in chunks:
        score_services.rescore_chunk_run(job_id=job_id, lo=lo)
    connection.close()


def parallel(workers: int, *, days: int) -> dict:
    """The job's chunks on ``workers`` processes at once, as Celery workers run them (each
    takes the next chunk not locked or done)."""
    job = _job(days=days, version_id=None)
    sent = []
    real_send = core_services.send
    core_services.send = lambda name, *args: sent.append(args)
    try:
        t = time.perf_counter()
        score_services.rescore_dispatch(job_id=job.pk)
        chunks = [lo for _job_id, lo in sent]
        connection.close()
        context = multiprocessing.get_context("fork")
        processes = [context.Process(target=_worker, args=(job.pk, chunks)) for _ in range(workers)]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        seconds = time.perf_counter() - t
    finally:
        core_services.send = real_send
    return {"workers": workers, **_summary(job.pk, seconds)}


# The raw columns the features read, each table once (what no implementation can skip).
RAW_READS = {
    "customers": "SELECT id, birth_date, gender, city, occupation, education, marital_status, lifecycle_stage, "
    "aum, risk_level, risk_assessed_at, attributes FROM customers_customer",
    "snapshots_130d": "SELECT customer_id, date, aum, deposits, wealth, funds FROM customers_assetsnapshot "
    "WHERE date > %(day130)s AND date <= %(day)s",
    "holdings": "SELECT customer_id, amount, opened_on, maturity_date FROM customers_holding",
    "tags": "SELECT customer_id, assigned_at FROM customers_customertag",
    "interactions": "SELECT customer_id, occurred_at, channel, direction, intents, "
    "CASE WHEN channel = 'ai_bot' AND occurred_at >= %(since90)s THEN transcript END FROM customers_interaction",
    "outcomes": "SELECT customer_id, contacted_at, converted FROM scoring_outcome",
}


def _copy_out(raw, query: str) -> int:
    size = 0
    with raw.copy(f"COPY ({query}) TO STDOUT (FORMAT binary)") as copy:
        for block in copy:
            size += len(block)
    return size


def floor(spec) -> dict:
    now = timezone.now()
    day = timezone.localdate(now)
    out: dict = {"read_s": {}}
    with transaction.atomic(), connection.cursor() as cur:
        raw = cur.cursor
        size = 0
        t0 = time.perf_counter()
        for name, sql in RAW_READS.items():
            t = time.perf_counter()
            size += _copy_out(
                raw,
                raw.mogrify(
                    sql, {"day": day, "day130": day - dt.timedelta(days=130), "since90": now - dt.timedelta(days=90)}
                ),
            )
            out["read_s"][name] = round(time.perf_counter() - t, 2)
        out["read_raw_columns_s"] = round(time.perf_counter() - t0, 2)
        out["read_bytes"] = size
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
        transaction.set_rollback(True)  # the scores stay the product's
    out["seconds"] = round(out["read_raw_columns_s"] + out["copy_in_scores_s"] + out["update_from_s"], 2)
    # for reference: the project's own feature SELECT over the whole table (the old "floor")
    bounds = Customer.objects.aggregate(lo=Min("id"), hi=Max("id"))
    params = feature_sql_params(spec=spec, lo=bounds["lo"], hi=bounds["hi"] + 1, as_of=now)
    with transaction.atomic(), connection.cursor() as cur:
        t = time.perf_counter()
        _copy_out(cur.cursor, cur.cursor.mogrify(feature_select_sql(spec), params))
        out["project_feature_select_s"] = round(time.perf_counter() - t, 2)
    return out


def renamed_version() -> int:
    """The active model under a new version name (every stored digest then differs)."""
    active = ModelVersion.objects.get(is_active=True)
    copy = ModelVersion.objects.create(
        version=f"{active.version}-r{int(time.time())}",
        artifact=active.artifact,
        features=active.features,
        metrics=active.metrics,
        params=active.params,
        is_active=False,
        note="bench/scoring_rescore.py: every score changes",
    )
    return copy.pk


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


def _dead_tuples() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = %s", [CustomerScore._meta.db_table])
        row = cur.fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train-limit", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only")
    customers = Customer.objects.count()
    version = ensure_model(args.train_limit)
    spec = Scorer.current().spec
    log(f"{customers:,} customers, model {version}, {len(spec)} features, load {os.getloadavg()[0]:.1f}")
    result: dict = {"customers": customers, "model_version": version, "features": len(spec)}
    result["load_average_start"] = round(os.getloadavg()[0], 1)
    # a clean start: run 1 writes every score
    CustomerScore.objects.all()._raw_delete(CustomerScore.objects.db)
    JobChunk.objects.filter(job__kind=score_services.RESCORE_KIND).delete()
    steps = [
        ("run1_first", lambda: end_to_end()),
        ("floor", lambda: floor(spec)),
        ("run2_unchanged", lambda: end_to_end()),
        ("run3_next_day", lambda: end_to_end(days=1)),
        ("run4_every_score_changes", lambda: end_to_end(version_id=renamed_version())),
    ]
    if args.workers > 1:
        steps.append((f"run5_day_after_{args.workers}_workers", lambda: parallel(args.workers, days=2)))
    for name, step in steps:
        log(f"{name} ...")
        result[name] = step()
        if name != "floor":
            # the run's table is new: what the statistics count is what this run left
            result[name]["dead_tuples_left"] = _dead_tuples()
        log(f"  {result[name]}")
    fl = result["floor"]
    for name, _step in steps:
        if name != "floor":
            result[f"ratio_{name}_to_floor"] = round(result[name]["seconds"] / fl["seconds"], 2)
    log(f"naive ORM on {args.naive:,} ...")
    nv = naive(args.naive) if args.naive else {"sample": 0, "seconds": 0}
    result["naive_orm"] = nv
    if nv["sample"]:
        run = result["run4_every_score_changes"]
        result["naive_vs_set_based_per_customer"] = round(
            (nv["seconds"] / nv["sample"]) / (run["seconds"] / max(run["customers"], 1)), 1
        )
    result["threads"] = int(os.environ.get("WORKBENCH_SCORING_THREADS", "1"))
    result["load_average_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
