"""The PostgreSQL path of a CSV import of customers (issue 15): the database does the work.

``ingest.batch_process`` parses and checks every value in Python, which caps an import at
a tenth of the rate PostgreSQL takes the same file in with COPY. Here, for a CSV file of
customers on PostgreSQL (anything else goes to ``ingest.batch_process``):

1. stage: the file is read with the same reader as the Python path (so the same quoting,
   encodings, line numbers) and COPYed as it comes into a temporary table of text columns
   with its line number; a row whose fields do not line up with the header is kept aside;
2. map: each distinct value of the columns that have few (gender, birth date, lifecycle
   stage, branch, advisor) is parsed once in Python by the field's own parser;
3. check: one statement trims every value (Python's idea of whitespace), checks the rest
   (lengths, control characters, mobile and ID number patterns, amounts) and builds the
   typed row; a row that passes everything is taken as the database typed it;
4. the rest of the rows (any value out of the plain patterns: "+86 138 ..." mobiles,
   "1,000" amounts, bad values) go through ``ingest.clean_values``, the Python path's own
   code: its clean rows are written back, its errors are the user's errors, word for word;
5. duplicates inside the file and unknown branches or advisors are flagged in SQL, the
   messages worded by the Python path's helpers;
6. write: chunk by chunk (the Python path's chunks: ``WORKBENCH_IMPORT_CHUNK_ROWS``
   non-blank lines), one ``INSERT .. SELECT .. ON CONFLICT DO UPDATE .. WHERE (..) IS
   DISTINCT FROM (..)`` commits with the chunk's ``core.JobChunk`` record, so a re-import
   writes nothing and a killed run resumes after its last committed chunk.

Both paths give the same rows, counts and error list (customers/tests/test_import_paths.py).
A file holding a NUL byte (PostgreSQL text cannot store one) takes the Python path.
"""

from __future__ import annotations

import contextlib
import csv
import io
from itertools import islice

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg.types.json import Jsonb

from core.middleware import CONTROL_CHARACTERS
from core.models import JobChunk
from core.services import job_set_progress

from . import ingest
from . import models as m

# The kinds that take this path (tests set it empty to force the Python path).
FAST_KINDS = frozenset({m.ImportKind.CUSTOMERS})
# What str.strip() removes (every character below U+3001 that is whitespace, U+3000 the last).
WHITESPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
# core.middleware.CONTROL_CHARACTERS as a PostgreSQL pattern (no NUL: such a file is not staged).
SQL_CONTROL = "[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]"
# How the database takes each customer field: ("text", max length), ("pattern", regex,
# SQL of the typed value) or ("mapped",): each distinct value parsed once in Python.
# A value that fails goes to the Python lane, which words the error.
AMOUNT = "^[0-9]{1,15}([.][0-9]{1,2})?$"
CUSTOMER_RULES = {
    "customer_no": ("text", 32),
    "name": ("text", 50),
    "gender": ("mapped",),
    "birth_date": ("mapped",),
    "mobile": ("pattern", "^1[3-9][0-9]{9}$", "{v}"),
    "id_number": ("pattern", "^([0-9]{17}[0-9X]|[0-9]{15})$", "{v}"),
    "city": ("text", 50),
    "occupation": ("text", 50),
    "education": ("text", 50),
    "marital_status": ("text", 20),
    "aum": ("pattern", AMOUNT, "CASE WHEN {v} ~ '" + AMOUNT + "' THEN {v}::numeric ELSE 0 END"),
    "home_branch": ("text", 16),
    "owner": ("text", 150),
    "lifecycle_stage": ("mapped",),
}
# The typed columns of a checked row (the customer's own columns, and the codes it refers by).
CHECKED_TYPES = {"birth_date": "date", "aum": "numeric(16, 2)"}
REFERENCES = {"home_branch": "home_branch_id", "owner": "owner_id"}
STAGE_ROWS = 50_000  # rows per COPY while staging (the job's progress moves between them)
LANE_PAGE = 5_000  # rows the Python lane takes at a time

TABLES = ("import_stage", "import_map", "import_clean", "import_fix", "import_errors")
DROP_SQL = "DROP TABLE IF EXISTS " + ", ".join(TABLES)
MAP_SQL = "CREATE TEMP TABLE import_map (f text, raw text, value text, PRIMARY KEY (f, raw))"
ERRORS_SQL = "CREATE TEMP TABLE import_errors (line integer, seq integer, col text, value text, message text)"
DUPLICATES_SQL = (
    "UPDATE import_clean c SET dup_of = d.first FROM ("
    " SELECT customer_no, min(line) AS first FROM import_clean WHERE ok GROUP BY customer_no HAVING count(*) > 1"
    ") d WHERE c.ok AND c.customer_no = d.customer_no AND c.line > d.first"
)
VALID = (
    "ok AND dup_of IS NULL AND (home_branch = '' OR home_branch_id IS NOT NULL)"
    " AND (owner = '' OR owner_id IS NOT NULL)"
)
CHUNKS_SQL = (
    "SELECT ord / %(size)s, count(*), count(*) FILTER (WHERE NOT (" + VALID + ")), min(line), max(line)"  # noqa: S608
    " FROM import_clean GROUP BY 1 ORDER BY 1"
)
FLAGGED_SQL = (
    "SELECT line, customer_no, dup_of, home_branch, home_branch_id IS NULL, owner, owner_id IS NULL"  # noqa: S608
    " FROM import_clean WHERE ord >= %(lo)s AND ord < %(hi)s AND ok AND NOT (" + VALID + ")"
)
CHUNK_ERRORS_SQL = "SELECT line, seq, col, value, message FROM import_errors WHERE line >= %(lo)s AND line <= %(hi)s"


def eligible(batch: m.ImportBatch, dry_run: bool) -> bool:
    return (
        not dry_run
        and connection.vendor == "postgresql"
        and batch.kind in FAST_KINDS
        and not batch.original_name.lower().endswith((".xlsx", ".xlsm"))
    )


def batch_process(*, batch_id: int, job_id: int, dry_run: bool, actor=None) -> dict:
    """``ingest.batch_process``, in the database where it can (see the module's docstring)."""
    batch = m.ImportBatch.objects.get(pk=batch_id)
    if eligible(batch, dry_run) and not _has_nul(batch.file.path):
        return _import_customers(batch, job_id)
    return ingest.batch_process(batch_id=batch_id, job_id=job_id, dry_run=dry_run, actor=actor)


def _has_nul(path: str) -> bool:
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            if b"\x00" in block:  # in UTF-8 and GB18030 a zero byte is only ever NUL
                return True
    return False


# --- the statements, built from the file's shape -------------------------------------------------


def _check_sql(plan: list[tuple], width: int) -> str:
    """The statement that makes import_clean: per non-blank row, whether the database
    takes it (``ok``) and its typed values (garbage where not ok: the Python lane fixes)."""
    trims = ", ".join(f"btrim(coalesce(c{i}, ''), %(ws)s) AS v{i}" for i in range(width))
    joins, checks, typed = [], [], []
    for name, _parse, required, _column, i in plan:
        rule = CUSTOMER_RULES[name]
        kind = CHECKED_TYPES.get(name, "text")
        empty = ingest.CUSTOMER_EMPTY.get(name, "")
        default = "NULL" if empty is None else f"'{empty}'"
        if i is None:  # not mapped: empty in every row
            checks.append("false" if required else "true")
            typed.append(f"{default}::{kind} AS {name}")
            if name in REFERENCES:
                typed.append(f"NULL::bigint AS {REFERENCES[name]}")
            continue
        v = f"t.v{i}"
        if rule[0] == "mapped":
            joins.append(f"LEFT JOIN import_map m_{name} ON m_{name}.f = '{name}' AND m_{name}.raw = {v}")
            good = f"m_{name}.value IS NOT NULL"
            typed.append(f"coalesce(m_{name}.value::{kind}, {default}) AS {name}")
        elif rule[0] == "pattern":
            good = f"{v} ~ '{rule[1]}'"
            typed.append(f"{rule[2].replace('{v}', v)} AS {name}")
        else:
            good = f"{v} !~ %(control)s AND char_length({v}) <= {rule[1]}"
            typed.append(f"{v} AS {name}")
        checks.append(f"({v} <> '' AND {good})" if required else f"({v} = '' OR {good})")
        if name in REFERENCES:
            joins.append(f"LEFT JOIN import_map r_{name} ON r_{name}.f = 'ref:{name}' AND r_{name}.raw = {v}")
            typed.append(f"r_{name}.value::bigint AS {REFERENCES[name]}")
    not_blank = " OR ".join(f"t.v{i} <> ''" for i in range(width)) or "false"
    return (
        "CREATE TEMP TABLE import_clean AS SELECT t.line, (row_number() OVER (ORDER BY t.line) - 1)::integer AS ord,"  # noqa: S608
        f" (t.bad IS NULL AND {' AND '.join(checks)}) AS ok, NULL::integer AS dup_of, {', '.join(typed)}"
        f" FROM (SELECT line, bad{', ' if width else ''}{trims} FROM import_stage) t {' '.join(joins)}"
        f" WHERE t.bad IS NOT NULL OR {not_blank}"
    )


def _upsert_sql(present: set[str]) -> tuple[str, dict]:
    """One chunk's INSERT .. ON CONFLICT, as ``ingest._upsert_customers_pg`` writes it."""
    table = m.Customer._meta.db_table
    present = ingest.customer_present(present)
    cols = [c for c in ingest.CUSTOMER_COLUMNS if c in present or c == "customer_no"]
    derived = {
        "mobile_last4": "right(mobile, 4)",
        "id_last4": "upper(right(id_number, 4))",
        "tier": (
            "CASE WHEN aum >= %(private)s THEN 'private' WHEN aum >= %(wealth)s THEN 'wealth'"
            " WHEN aum >= %(base)s THEN 'base' ELSE 'long_tail' END"
        ),
    }
    select = [derived.get(c, c) for c in cols]
    params: dict = {
        "private": settings.WORKBENCH_TIER_PRIVATE_MIN,
        "wealth": settings.WORKBENCH_TIER_WEALTH_MIN,
        "base": settings.WORKBENCH_TIER_BASE_MIN,
        "attributes": Jsonb({}),
    }
    unmapped = [c for c in ingest.CUSTOMER_COLUMNS if c not in cols and ingest.CUSTOMER_EMPTY.get(c, "") is not None]
    for c in unmapped:
        params[f"empty_{c}"] = ingest.CUSTOMER_EMPTY.get(c, "")
        select.append(f"%(empty_{c})s")
    updatable = [c for c in cols if c != "customer_no"]
    set_clause = ", ".join(f"{c} = EXCLUDED.{c}" for c in updatable) + ", updated_at = EXCLUDED.updated_at"
    differ = (
        f"({', '.join(f'{table}.{c}' for c in updatable)}) IS DISTINCT FROM "
        f"({', '.join(f'EXCLUDED.{c}' for c in updatable)})"
    )
    sql = (
        f"WITH w AS (INSERT INTO {table} ({', '.join([*cols, *unmapped, 'attributes', 'created_at', 'updated_at'])}) "  # noqa: S608
        f"SELECT {', '.join(select)}, %(attributes)s, %(now)s, %(now)s FROM import_clean"
        f" WHERE ord >= %(lo)s AND ord < %(hi)s AND {VALID}"
        f" ON CONFLICT (customer_no) DO UPDATE SET {set_clause} WHERE {differ} RETURNING (xmax = 0) AS created)"
        " SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM w"
    )
    return sql, params


# --- the phases ----------------------------------------------------------------------------------


def _stage(cur, reader, width: int, job_id: int, total: int) -> None:
    """COPY the rows as they come (line number last); misaligned rows as a line and a count."""
    columns = ", ".join([*(f"c{i}" for i in range(width)), "line"])
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\n")
    misaligned: list[tuple[int, int]] = []
    staged = 0
    more = True
    while more:
        more = False
        with cur.copy(f"COPY import_stage ({columns}) FROM STDIN (FORMAT csv)") as copy:
            for _block in range(STAGE_ROWS // 1000):
                n = 0
                for values in islice(reader, 1000):
                    n += 1
                    if len(values) != width:
                        if len(values) < width or any(v.strip() for v in values[width:]):
                            if any(v.strip() for v in values):
                                misaligned.append((reader.line_num, len(values)))
                            continue
                        values = values[:width]
                    values.append(reader.line_num)
                    out.writerow(values)
                copy.write(buffer.getvalue())
                buffer.seek(0)
                buffer.truncate()
                staged += n
                if n < 1000:
                    break
            else:
                more = True
        job_set_progress(job_id=job_id, done=min(staged, total) // 2, total=total)
    if misaligned:
        with cur.copy("COPY import_stage (line, bad) FROM STDIN") as copy:
            for row in misaligned:
                copy.write_row(row)


def _map_values(cur, plan: list[tuple], width: int, lookups: ingest.Lookups) -> None:
    """Parse each distinct value of the mapped and referring fields once, in Python."""
    wanted = [(n, parse, i) for n, parse, _r, _c, i in plan if i is not None and CUSTOMER_RULES[n][0] == "mapped"]
    wanted += [(f"ref:{n}", None, i) for n, _p, _r, _c, i in plan if i is not None and n in REFERENCES]
    if not wanted:
        return
    pairs = ", ".join(f"('{n}', btrim(coalesce(c{i}, ''), %(ws)s))" for n, _p, i in wanted)
    cur.execute(
        f"SELECT DISTINCT x.f, x.v FROM import_stage CROSS JOIN LATERAL (VALUES {pairs}) x(f, v)"  # noqa: S608
        " WHERE x.v <> '' AND bad IS NULL",
        {"ws": WHITESPACE},
    )
    parsers = {n: parse for n, parse, _i in wanted}
    refs = {"ref:home_branch": lookups.branches, "ref:owner": lookups.owners}
    found = []
    for f, raw in cur.fetchall():
        if f in refs:
            value = refs[f].get(raw)
        elif CONTROL_CHARACTERS.search(raw):
            value = None
        else:
            try:
                value = parsers[f](raw)
            except ingest.RowError:
                value = None
        if value is not None:
            found.append((f, raw, value.isoformat() if hasattr(value, "isoformat") else str(value)))
    with cur.copy("COPY import_map (f, raw, value) FROM STDIN") as copy:
        for row in found:
            copy.write_row(row)


def _python_lane(cur, plan: list[tuple], width: int) -> None:
    """The rows the database did not take, through ``ingest.clean_values``: clean ones are
    written back typed, the others' errors kept for their chunk's report."""
    fields = list(CUSTOMER_RULES)
    columns = ", ".join(f"s.c{i}" for i in range(width))
    fixed = 0
    with connection.connection.cursor(name="import_lane", withhold=True) as lane:
        lane.execute(
            f"SELECT c.line, s.bad{', ' if width else ''}{columns} FROM import_clean c"  # noqa: S608
            " JOIN import_stage s ON s.line = c.line WHERE NOT c.ok ORDER BY c.line"
        )
        while rows := lane.fetchmany(LANE_PAGE):
            clean, errors = [], []
            for line, bad, *raw in rows:
                values = ["x"] * bad if bad is not None else [v or "" for v in raw]
                r = ingest.clean_values(plan, line, values, width)
                if r.data is not None:
                    clean.append([line, *(r.data.get(f, ingest.CUSTOMER_EMPTY.get(f, "")) for f in fields)])
                errors += [(line, seq, e["column"], e["value"], e["message"]) for seq, e in enumerate(r.errors)]
            if clean:
                with cur.copy(f"COPY import_fix (line, {', '.join(fields)}) FROM STDIN") as copy:  # noqa: S608
                    for row in clean:
                        copy.write_row(row)
                fixed += len(clean)
            if errors:
                with cur.copy("COPY import_errors FROM STDIN") as copy:
                    for row in errors:
                        copy.write_row(row)
    if fixed:
        # Codes (branch, advisor) are the trimmed values the check already looked up.
        assign = ", ".join(f"{f} = x.{f}" for f in fields)
        cur.execute(f"UPDATE import_clean c SET ok = true, {assign} FROM import_fix x WHERE c.line = x.line")  # noqa: S608


def _flagged_errors(rows, columns: dict[str, str]) -> list[tuple]:
    """The errors of clean rows the database flagged: a key again, an unknown code."""
    found = []
    for line, customer_no, dup_of, branch, no_branch, owner, no_owner in rows:
        if dup_of is not None:
            e = ingest.duplicate_error(line, columns.get("customer_no", "customer_no"), customer_no, dup_of)
            found.append((line, 0, e))
            continue
        for seq, (name, value, missing) in enumerate((("home_branch", branch, no_branch), ("owner", owner, no_owner))):
            if value and missing:
                message = str(ingest.CUSTOMER_REFERENCE_ERRORS[name])
                found.append(
                    (line, seq, {"line": line, "column": columns.get(name, name), "value": value, "message": message})
                )
    return found


def _import_customers(batch: m.ImportBatch, job_id: int) -> dict:
    schema = ingest.schema_for(batch.kind)
    columns = batch.columns
    total = ingest.count_rows(batch.file.path, batch.original_name)
    job_set_progress(job_id=job_id, done=0, total=total)
    chunk_rows = settings.WORKBENCH_IMPORT_CHUNK_ROWS
    written = dict(JobChunk.objects.filter(job_id=job_id).values_list("lo", "result"))
    fields = list(CUSTOMER_RULES)
    with connection.cursor() as django_cur:
        cur = django_cur.cursor
        try:
            cur.execute(DROP_SQL)
            with open(batch.file.path, "rb") as fh:
                reader = csv.reader(ingest.decode_lines(fh))
                headers = [h.strip() for h in next(reader, [])]
                width = len(headers)
                plan = ingest.row_plan(schema, headers, columns)
                stage_cols = ", ".join(f"c{i} text" for i in range(width))
                cur.execute(
                    f"CREATE TEMP TABLE import_stage ({stage_cols}{', ' if width else ''}line integer, bad integer)"
                )
                _stage(cur, reader, width, job_id, total)
            cur.execute(MAP_SQL)
            _map_values(cur, plan, width, ingest.Lookups())
            cur.execute(_check_sql(plan, width), {"ws": WHITESPACE, "control": SQL_CONTROL})
            fix_cols = ", ".join(f"{f} {CHECKED_TYPES.get(f, 'text')}" for f in fields)
            cur.execute(f"CREATE TEMP TABLE import_fix (line integer, {fix_cols})")
            cur.execute(ERRORS_SQL)
            _python_lane(cur, plan, width)
            cur.execute(DUPLICATES_SQL)
            cur.execute("CREATE INDEX ON import_clean (ord)")
            cur.execute(CHUNKS_SQL, {"size": chunk_rows})
            chunks = cur.fetchall()
            seen = sum(c[1] for c in chunks)
            job_set_progress(job_id=job_id, done=max(total, seen) // 2, total=max(total, seen))
            upsert, params = _upsert_sql(set(columns))
            reports = []
            done = 0
            for k, rows, rejected, lo, hi in chunks:
                done += rows
                if lo in written:  # written by an earlier run of this job
                    reports.append(written[lo])
                    continue
                bounds = {"lo": k * chunk_rows, "hi": (k + 1) * chunk_rows}
                reports.append(
                    upsert_chunk(
                        cur,
                        upsert,
                        {**params, **bounds, "now": timezone.now()},
                        (lo, hi),
                        rows,
                        rejected,
                        columns,
                        job_id,
                    )
                )
                job_set_progress(job_id=job_id, done=(max(total, seen) + done) // 2)
        finally:
            with contextlib.suppress(DatabaseError):  # the session's temporary tables go with it anyway
                cur.execute(DROP_SQL)
    job_set_progress(job_id=job_id, done=seen, total=seen)
    return _report(reports, seen, schema)


def upsert_chunk(cur, sql: str, params: dict, lines: tuple[int, int], rows: int, rejected: int, columns, job_id):
    """Write one chunk's valid rows and record the chunk, in one transaction."""
    lo, hi = lines
    with transaction.atomic():
        cur.execute(sql, params)
        created, updated = cur.fetchone()
        cur.execute(FLAGGED_SQL, params)
        found = _flagged_errors(cur.fetchall(), columns)
        cur.execute(CHUNK_ERRORS_SQL, {"lo": lo, "hi": hi})
        found += [(line, seq, {"line": line, "column": c, "value": v, "message": e}) for line, seq, c, v, e in cur]
        found.sort(key=lambda f: (f[0], f[1]))
        valid = rows - rejected
        result = {
            "rows": rows,
            "valid": valid,
            "rejected": rejected,
            "created": created,
            "updated": updated,
            "unchanged": valid - created - updated,
            "errors": [e for _line, _seq, e in found][: ingest.MAX_STORED_ERRORS],
        }
        JobChunk.objects.create(job_id=job_id, lo=lo, hi=hi + 1, done_at=timezone.now(), result=result)
    return result


def _report(reports: list[dict], seen: int, schema: ingest.Schema) -> dict:
    """The run's report from its chunks' records, as ``ingest.batch_process`` adds them up."""
    counts = {"valid": 0, "rejected": 0, "created": 0, "updated": 0, "unchanged": 0}
    errors: list[dict] = []
    for report in reports:
        for key in counts:
            counts[key] += report[key]
        errors.extend(report["errors"][: max(ingest.MAX_STORED_ERRORS - len(errors), 0)])
    errors.sort(key=lambda e: e["line"])
    return {
        "dry_run": False,
        "rows": seen,
        **counts,
        "errors": errors,
        "errors_truncated": counts["rejected"] > 0 and len(errors) >= ingest.MAX_STORED_ERRORS,
        "preview_fields": schema.field_names,
        "preview": [],
    }
