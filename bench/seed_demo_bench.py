"""Benchmark seed_demo on PostgreSQL against the naive ORM approach, in one run.

    DATABASE_URL=postgres://root@127.0.0.1:5432/wb_bench .venv/bin/python bench/seed_demo_bench.py [N ...]

For each N (default 100000) it creates a fresh database named after the one in
DATABASE_URL (``<name>_seed_<N>``, so two people benchmarking on one server do not drop
each other's databases), migrates, runs
`seed_demo --customers N` and reports seconds, rows and rows/s. It then loads the same
kind of rows (customers + 24 snapshots each) for 2,000 customers through the ORM's
bulk_create, the naive way, and prints the rows/s ratio of the two.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def run(args: list[str], env: dict) -> str:
    return subprocess.run(args, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout


def fresh_db(base_url: str, name: str) -> str:
    u = urlparse(base_url)
    admin = f"postgresql://{u.username or 'root'}@{u.hostname or '127.0.0.1'}:{u.port or 5432}/postgres"
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgres://{u.username or 'root'}@{u.hostname or '127.0.0.1'}:{u.port or 5432}/{name}"


NAIVE = r"""
import datetime as dt, time, django
django.setup()
from decimal import Decimal
from customers.models import AssetSnapshot, Customer
from org.models import Branch
b = Branch.objects.create(code="NV", name="naive", city="上海")
t = time.monotonic()
n = 2000
customers = Customer.objects.bulk_create(
    [Customer(customer_no=f"N{i:09d}", name="张三", mobile=f"138{i:08d}", mobile_last4=f"{i % 10000:04d}",
              aum=Decimal("123456.78"), tier="base", home_branch=b) for i in range(n)], batch_size=1000)
today = dt.date.today()
AssetSnapshot.objects.bulk_create(
    [AssetSnapshot(customer=c, date=today - dt.timedelta(days=30 * j), aum=Decimal("100000.00"))
     for c in customers for j in range(24)], batch_size=1000)
print(n * 25 / (time.monotonic() - t))
"""


def main() -> None:
    sizes = [int(a) for a in sys.argv[1:]] or [100_000]
    base = os.environ.get("DATABASE_URL", "postgres://root@127.0.0.1:5432/wb_bench")
    prefix = urlparse(base).path.lstrip("/") or "wb_bench"
    env = {**os.environ, "DJANGO_SECRET_KEY": "bench", "DJANGO_SETTINGS_MODULE": "workbench.settings"}
    results = []
    for n in sizes:
        env["DATABASE_URL"] = fresh_db(base, f"{prefix}_seed_{n}")
        run([PY, "manage.py", "migrate", "-v0"], env)
        t = time.monotonic()
        summary = json.loads(
            run([PY, "manage.py", "seed_demo", "--customers", str(n), "--seed", "42", "--json"], env)
            .strip()
            .splitlines()[-1]
        )
        seconds = time.monotonic() - t
        rows = sum(v for k, v in summary.items() if k not in ("seconds", "seed", "positives"))
        results.append(
            {"customers": n, "seconds": round(seconds, 1), "rows": rows, "rows_per_s": round(rows / seconds)}
        )
        print(json.dumps(results[-1]), flush=True)
    env["DATABASE_URL"] = fresh_db(base, f"{prefix}_seed_naive")
    run([PY, "manage.py", "migrate", "-v0"], env)
    naive = float(run([PY, "-c", NAIVE], env).strip().splitlines()[-1])
    best = max(r["rows_per_s"] for r in results)
    print(
        json.dumps(
            {"naive_orm_rows_per_s": round(naive), "seed_demo_rows_per_s": best, "speedup": round(best / naive, 1)}
        )
    )


if __name__ == "__main__":
    main()
