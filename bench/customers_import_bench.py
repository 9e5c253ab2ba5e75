"""Benchmark the customer CSV import end to end on PostgreSQL against the raw COPY (issue 15).

    DATABASE_URL=postgres://root@127.0.0.1:5432/<fresh db> \\
        .venv/bin/python bench/customers_import_bench.py [N] [--no-python]

Writes a CSV of N (default 1,000,000) customers with Chinese headers, uploads it through
``import_batch_create`` and runs the work of the Celery task twice per path:

1. first import: every row is created;
2. re-import of the same file: every row is unchanged (nothing is written).

The paths: ``ingest_pg.batch_process`` (what the task runs for a CSV of customers on
PostgreSQL: staged with COPY, checked in SQL, written with INSERT .. SELECT .. ON CONFLICT
per chunk) and, unless ``--no-python``, ``ingest.batch_process`` (every value parsed in
Python; the path of SQLite, Excel files and the other kinds) on a second file of other
customer numbers. For the SQL path it splits the time into its phases.

First it times the raw floor: the same file COPYed as it is into a table of text, date
and numeric columns of the customer table's shape, with a unique key on the customer
number (what no import can skip: moving the bytes into PostgreSQL and indexing them),
rolled back. A second floor, also measured in this run: the same file COPYed into a
table of the customer table's columns and every one of its indexes (read from the catalog,
so it follows any index change), the derived columns (last 4 digits, tier) computed by the
database as generated columns: what writing these rows into the customer table cannot
avoid, rolled back. Then the dry run (parse and validate in Python, no writes).

For comparison it also imports 5,000 rows the naive way (one ORM ``update_or_create`` per
row). Reports rows/s, the ratio to the raw COPY, seconds and the peak RSS.
"""

from __future__ import annotations

import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workbench.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ.setdefault("WORKBENCH_VAR_DIR", tempfile.mkdtemp(prefix="wb-import-bench-"))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files import File  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from core.services import job_create  # noqa: E402
from customers import ingest, ingest_pg  # noqa: E402
from customers.models import Customer  # noqa: E402
from customers.services import imports as services  # noqa: E402
from org.models import Branch  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"


def write_csv(path: str, n: int, prefix: str) -> None:
    rng = random.Random(7)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("客户号,姓名,性别,出生日期,手机号,证件号,城市,金融资产,归属网点,生命周期\n")
        for i in range(n):
            aum = round(rng.lognormvariate(11.5, 1.3), 2)
            fh.write(
                f"{prefix}{i:09d},{rng.choice(SURNAMES)}{rng.choice(GIVEN)}{rng.choice(GIVEN)},"
                f"{'男' if i % 2 else '女'},19{rng.randint(40, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)},"
                f"13{rng.randint(100000000, 999999999)},3101011980{i % 10000:04d}{rng.randint(1000, 9999)},"
                f"上海,{aum},BENCH1,成熟\n"
            )


PHASES = ("_stage", "_map_values", "_refused_lane", "upsert_chunk")
phase_seconds: dict[str, float] = {}


def _timed(name: str, fn):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phase_seconds[name] = phase_seconds.get(name, 0.0) + time.perf_counter() - t

    return wrapper


for _phase in PHASES:
    setattr(ingest_pg, _phase, _timed(_phase, getattr(ingest_pg, _phase)))


def run(path: str, admin, *, dry_run: bool = False, fast: bool = True) -> tuple[float, dict]:
    with open(path, "rb") as fh:
        batch = services.import_batch_create(actor=admin, kind="customers", uploaded_file=File(fh, name="bench.csv"))
    job = job_create(actor=admin, kind="bench", params={})
    phase_seconds.clear()
    process = ingest_pg.batch_process if fast else ingest.batch_process
    t = time.perf_counter()
    report = process(batch_id=batch.pk, job_id=job.pk, dry_run=dry_run, actor=admin)
    return time.perf_counter() - t, report


def phases(total: float) -> str:
    """Where the SQL path's time went (the rest: the check statement, duplicates, set-up)."""
    shown = {
        "stage (read + COPY)": phase_seconds.get("_stage", 0.0),
        "map distinct values": phase_seconds.get("_map_values", 0.0),
        "refused lane": phase_seconds.get("_refused_lane", 0.0),
        "upsert + chunk records": phase_seconds.get("upsert_chunk", 0.0),
    }
    shown["check SQL + rest"] = total - sum(shown.values())
    return ", ".join(f"{k} {v:.2f}s" for k, v in shown.items())


def report_line(label: str, n: int, secs: float, report: dict, floor: float, indexed: float) -> None:
    print(
        f"{label:<13}: {n:,} rows in {secs:.2f}s = {n / secs:,.0f} rows/s = {floor / secs:.2f}x COPY, "
        f"{indexed / secs:.2f}x indexed COPY "
        f"(created {report['created']:,}, updated {report['updated']:,}, unchanged {report['unchanged']:,}, "
        f"rejected {report['rejected']:,}); load {os.getloadavg()[0]:.1f}"
    )


def raw_copy(path: str) -> float:
    """Seconds to COPY the CSV as it is into a keyed table (rolled back)."""
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE raw_customers (customer_no varchar(32) PRIMARY KEY, name varchar(64), "
            "gender varchar(4), birth_date date, mobile varchar(20), id_number varchar(32), city varchar(32), "
            "aum numeric(16, 2), branch varchar(16), lifecycle varchar(16)) ON COMMIT DROP"
        )
        t = time.perf_counter()
        with open(path, "rb") as fh, cur.cursor.copy("COPY raw_customers FROM STDIN (FORMAT csv, HEADER true)") as copy:
            while block := fh.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - t
        transaction.set_rollback(True)
    return seconds


def indexed_copy(path: str, branch_id: int) -> tuple[float, int]:
    """Seconds to COPY the CSV into a table shaped and indexed like the customer table
    (rolled back), and how many indexes it has. A logged table, as the customer table is."""
    table = Customer._meta.db_table
    tiers = [int(settings.WORKBENCH_TIER_PRIVATE_MIN), int(settings.WORKBENCH_TIER_WEALTH_MIN)]
    tiers.append(int(settings.WORKBENCH_TIER_BASE_MIN))
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"CREATE TABLE import_floor (LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY)")
        cur.execute(
            "ALTER TABLE import_floor DROP COLUMN mobile_last4, DROP COLUMN id_last4, DROP COLUMN tier,"
            " ADD COLUMN mobile_last4 varchar(4) GENERATED ALWAYS AS (right(mobile, 4)) STORED,"
            " ADD COLUMN id_last4 varchar(4) GENERATED ALWAYS AS (upper(right(id_number, 4))) STORED,"
            f" ADD COLUMN tier varchar(16) GENERATED ALWAYS AS (CASE WHEN aum >= {tiers[0]} THEN 'private'"
            f" WHEN aum >= {tiers[1]} THEN 'wealth' WHEN aum >= {tiers[2]} THEN 'base' ELSE 'long_tail' END) STORED,"
            " ADD COLUMN branch_code text,"  # the file's code; the import writes home_branch_id
            " ALTER COLUMN occupation SET DEFAULT '', ALTER COLUMN education SET DEFAULT '',"
            " ALTER COLUMN marital_status SET DEFAULT '', ALTER COLUMN attributes SET DEFAULT '{}',"
            " ALTER COLUMN created_at SET DEFAULT now(), ALTER COLUMN updated_at SET DEFAULT now(),"
            " ALTER COLUMN home_branch_id SET DEFAULT %s",
            [branch_id],
        )
        cur.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass ORDER BY indexrelid",
            [table],
        )
        definitions = [row[0] for row in cur.fetchall()]
        for k, definition in enumerate(definitions):
            on = definition.index(" ON ")
            using = definition.index(" USING ")
            unique = "UNIQUE " if definition.startswith("CREATE UNIQUE") else ""
            cur.execute(f"CREATE {unique}INDEX import_floor_{k} ON import_floor{definition[using:]}")
            assert table in definition[on:using], definition
        columns = "customer_no, name, gender, birth_date, mobile, id_number, city, aum, branch_code, lifecycle_stage"
        t = time.perf_counter()
        with (
            open(path, "rb") as fh,
            cur.cursor.copy(f"COPY import_floor ({columns}) FROM STDIN (FORMAT csv, HEADER true)") as copy,
        ):
            while block := fh.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - t
        transaction.set_rollback(True)
    return seconds, len(definitions)


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 1_000_000
    with_python = "--no-python" not in sys.argv
    assert connection.vendor == "postgresql", "run this on PostgreSQL"
    bench_branch, _ = Branch.objects.get_or_create(code="BENCH1", defaults={"name": "基准测试支行", "city": "上海"})

    admin, _ = get_user_model().objects.get_or_create(username="import-bench", defaults={"is_superuser": True})
    stamp = int(time.time()) % 100000
    path = os.path.join(tempfile.mkdtemp(), "customers.csv")
    t = time.perf_counter()
    write_csv(path, n, f"IB{stamp:05d}")
    print(f"wrote {n:,} rows ({os.path.getsize(path) / 1e6:.0f} MB) in {time.perf_counter() - t:.1f}s")

    floor = raw_copy(path)
    print(
        f"raw COPY     : {n:,} rows in {floor:.2f}s = {n / floor:,.0f} rows/s (the floor); "
        f"load {os.getloadavg()[0]:.1f}"
    )
    indexed, count = indexed_copy(path, bench_branch.pk)
    print(
        f"indexed COPY : {n:,} rows in {indexed:.2f}s = {n / indexed:,.0f} rows/s (the customer table's "
        f"{count} indexes: the writing floor); load {os.getloadavg()[0]:.1f}"
    )
    secs, report = run(path, admin)
    report_line("SQL first", n, secs, report, floor, indexed)
    print(f"               {phases(secs)}")
    secs2, report2 = run(path, admin)
    report_line("SQL re-import", n, secs2, report2, floor, indexed)
    print(f"               {phases(secs2)}")
    if with_python:
        other = os.path.join(tempfile.mkdtemp(), "customers.csv")
        write_csv(other, n, f"IP{stamp:05d}")
        secs0, report0 = run(other, admin, dry_run=True, fast=False)
        report_line("dry run", n, secs0, report0, floor, indexed)
        secs3, report3 = run(other, admin, fast=False)
        report_line("Python first", n, secs3, report3, floor, indexed)
        secs4, report4 = run(other, admin, fast=False)
        report_line("Python again", n, secs4, report4, floor, indexed)

    # The naive way: one ORM round trip per row.
    sample = 5_000
    rows = []
    with open(path, encoding="utf-8") as fh:
        next(fh)
        for _, line in zip(range(sample), fh, strict=False):
            rows.append(line.rstrip("\n").split(","))
    branch = Branch.objects.get(code="BENCH1")
    t = time.perf_counter()
    for r in rows:
        Customer.objects.update_or_create(
            customer_no="N" + r[0], defaults={"name": r[1], "mobile": r[4], "aum": r[7], "home_branch": branch}
        )
    naive = sample / (time.perf_counter() - t)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"naive ORM    : {naive:,.0f} rows/s (update_or_create per row, {sample:,} rows)")
    print(f"peak RSS     : {rss:.0f} MB")
    share, again = floor / secs, floor / secs2
    print(
        f"issue 15     : first import {share:.2f}x the COPY rate, re-import {again:.2f}x "
        f"(goal >= 0.5: {'met' if min(share, again) >= 0.5 else 'not met'}); load {os.getloadavg()[0]:.1f}"
    )
    print(f"writing floor: first import {indexed / secs:.2f}x the indexed COPY rate, re-import {indexed / secs2:.2f}x")


if __name__ == "__main__":
    main()
