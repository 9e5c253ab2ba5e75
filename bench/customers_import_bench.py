"""Benchmark the customer CSV import end to end on PostgreSQL (issue 3: >= 20,000 rows/s).

    DATABASE_URL=postgres://root@127.0.0.1:5432/<fresh db> .venv/bin/python bench/customers_import_bench.py [N]

Writes a CSV of N (default 1,000,000) customers with Chinese headers, uploads it through
``import_batch_create`` and runs the work of the Celery task (the task calls
``services.imports.import_batch_run``, which runs ``ingest.batch_process``: parse,
validate, resolve, COPY + INSERT .. ON CONFLICT in chunks of 10,000) twice:

1. first import: every row is created;
2. re-import of the same file: every row is unchanged (nothing is written).

Before them it times the dry run (parse and validate only) to show the Python side alone,
and the raw floor (issue 15): the same file COPYed as it is into a table of text, date and
numeric columns of the customer table's shape, with a unique key on the customer number
(what no import can skip: moving the bytes into PostgreSQL and indexing them), rolled back.

For comparison it also imports 5,000 rows the naive way (one ORM ``update_or_create`` per
row) and prints the ratio. Reports rows/s, seconds and the peak RSS (memory bounded: the
file is streamed and only one chunk is held).
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

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.files import File  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from core.services import job_create  # noqa: E402
from customers import ingest  # noqa: E402
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


def run(path: str, admin, *, dry_run: bool = False) -> tuple[float, dict]:
    with open(path, "rb") as fh:
        batch = services.import_batch_create(actor=admin, kind="customers", uploaded_file=File(fh, name="bench.csv"))
    job = job_create(actor=admin, kind="bench", params={})
    t = time.perf_counter()
    report = ingest.batch_process(batch_id=batch.pk, job_id=job.pk, dry_run=dry_run, actor=admin)
    return time.perf_counter() - t, report


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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    assert connection.vendor == "postgresql", "run this on PostgreSQL"
    Branch.objects.get_or_create(code="BENCH1", defaults={"name": "基准测试支行", "city": "上海"})

    admin, _ = get_user_model().objects.get_or_create(username="import-bench", defaults={"is_superuser": True})
    prefix = f"IB{int(time.time()) % 100000:05d}"
    path = os.path.join(tempfile.mkdtemp(), "customers.csv")
    t = time.perf_counter()
    write_csv(path, n, prefix)
    print(f"wrote {n:,} rows ({os.path.getsize(path) / 1e6:.0f} MB) in {time.perf_counter() - t:.1f}s")

    floor = raw_copy(path)
    print(f"raw COPY     : {n:,} rows in {floor:.1f}s = {n / floor:,.0f} rows/s (the floor)")
    secs0, _ = run(path, admin, dry_run=True)
    print(f"dry run      : {n:,} rows in {secs0:.1f}s = {n / secs0:,.0f} rows/s (parse + validate, no writes)")
    secs, report = run(path, admin)
    print(
        f"first import : {n:,} rows in {secs:.1f}s = {n / secs:,.0f} rows/s "
        f"(created {report['created']:,}, rejected {report['rejected']:,})"
    )
    secs2, report2 = run(path, admin)
    print(
        f"re-import    : {n:,} rows in {secs2:.1f}s = {n / secs2:,.0f} rows/s "
        f"(created {report2['created']:,}, updated {report2['updated']:,}, unchanged {report2['unchanged']:,})"
    )

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
    print(f"ratio        : {n / secs / naive:.1f}x faster than the naive way")
    print(f"peak RSS     : {rss:.0f} MB")
    print(f"requirement  : >= 20,000 rows/s -> {'OK' if n / secs >= 20_000 else 'NOT MET'}")
    share = (n / secs) / (n / floor)
    print(
        f"vs raw COPY  : first import {share:.2f}x the COPY rate, re-import {(n / secs2) / (n / floor):.2f}x "
        f"(issue 15 asks >= 0.5: {'met' if share >= 0.5 else 'not met'}); load {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
