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
   writes nothing and a killed run resumes after its last committed chunk. The verdicts are
   set-based: one statement compares every row with its customer and keeps only the rows
   with something to write or report, so a chunk of unchanged customers sends no statement
   but its record.

Both paths give the same rows, counts and error list (customers/tests/test_import_paths.py).
A file holding a NUL byte (PostgreSQL text cannot store one) takes the Python path.
"""

from __future__ import annotations

import contextlib
import csv
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import chain, islice

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg.errors import UniqueViolation
from psycopg.types.json import Jsonb

from core.models import JobChunk
from core.services import job_set_progress

from . import ingest
from . import models as m

# The kinds that take this path (tests set it empty to force the Python path).
FAST_KINDS = frozenset({m.ImportKind.CUSTOMERS})
# A character at the edge of a plain value (no whitespace, which str.strip() would remove,
# no separator, quote or control character) and one inside it (spaces allowed).
EDGE = r'[^\s,"\x00-\x1f\x7f]'
INNER = r'[^,"\r\n\x00-\x08\x0b\x0c\x0e-\x1f\x7f]'
# How a plain value of each customer field looks: one the Python path takes as it is
# (a mobile of 11 digits, an amount of at most 2 decimals, ...). ("text", n) is a text of at
# most n characters; ("mapped", pattern) is checked by parsing each distinct value once.
CUSTOMER_PLAIN = {
    "customer_no": ("text", 32),
    "name": ("text", 50),
    "gender": ("mapped", None),
    "birth_date": ("mapped", None),
    "mobile": ("pattern", "1[3-9][0-9]{9}"),
    "id_number": ("pattern", "[0-9]{17}[0-9X]|[0-9]{15}"),
    "city": ("text", 50),
    "occupation": ("text", 50),
    "education": ("text", 50),
    "marital_status": ("text", 20),
    "aum": ("pattern", r"[0-9]{1,15}(?:\.[0-9]{1,2})?"),
    "home_branch": ("text", 16),
    "owner": ("text", 150),
    "lifecycle_stage": ("mapped", None),
}
CHECKED_TYPES = {"birth_date": "date", "aum": "numeric(16, 2)"}
REFERENCES = {"home_branch": "home_branch_id", "owner": "owner_id"}
STAGE_LINES = 50_000  # lines per COPY while staging (the job's progress moves between them)
LANE_PAGE = 5_000

TABLES = ("import_stage", "import_map", "import_fix", "import_errors", "import_dups", "import_ready")
DROP_SQL = "DROP VIEW IF EXISTS import_clean; DROP TABLE IF EXISTS " + ", ".join(TABLES)
MAP_SQL = "CREATE TEMP TABLE import_map (f text, raw text, value text, PRIMARY KEY (f, raw))"
ERRORS_SQL = "CREATE TEMP TABLE import_errors (line integer, seq integer, col text, value text, message text)"
# Rows whose customer number came on an earlier clean row: the numbers seen twice first
# (on the raw values, no joins), then the clean rows of those numbers only.
DUPLICATES_SQL = (
    "CREATE TEMP TABLE import_dups AS WITH k AS (SELECT no FROM (SELECT {no} AS no FROM import_stage"
    " UNION ALL SELECT customer_no FROM import_fix WHERE ok) a GROUP BY no HAVING count(*) > 1),"
    " c AS (SELECT line, customer_no FROM import_clean WHERE ok AND customer_no IN (SELECT no FROM k)),"
    " f AS (SELECT customer_no, min(line) AS first FROM c GROUP BY customer_no)"
    " SELECT c.line, f.first FROM c JOIN f USING (customer_no) WHERE c.line > f.first"
)
VALID = (
    "c.ok AND d.first IS NULL AND (c.home_branch = '' OR c.home_branch_id IS NOT NULL)"
    " AND (c.owner = '' OR c.owner_id IS NOT NULL)"
)
FLAGGED_SQL = (
    "SELECT line, customer_no, dup_of, home_branch, no_branch, owner, no_owner FROM import_ready"
    " WHERE ord >= %(lo)s AND ord < %(hi)s AND ok AND NOT valid"
)
CHUNK_ERRORS_SQL = (
    "SELECT line, seq, col, value, message FROM import_errors WHERE line >= %(first)s AND line <= %(last)s"
)
# Per chunk, once for the run: has it rows to write, rows the database flagged? A chunk of
# unchanged customers (a re-import) then costs its record only, not four statements.
CHUNK_WORK_SQL = (
    "SELECT ord / %(rows)s, bool_or(valid AND NOT existing), bool_or(valid AND differs), bool_or(ok AND NOT valid)"
    " FROM import_ready GROUP BY 1"
)
# The import's statements are few and large: hash joins and aggregates over the whole
# file fit in memory instead of spilling in batches, and JIT compiling them costs more
# than it saves (off here even where DATABASE_JIT turns it on for the rest). For this
# session and the import only (reset when it ends).
SESSION_SQL = "SET work_mem = '64MB'; SET jit = off"
RESET_SQL = "RESET work_mem; RESET jit"


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


def _plain_line(plan: list[tuple], width: int) -> tuple[re.Pattern | None, list[str]]:
    """A line of plain values only (no quotes), each as the Python path would take it; it
    captures the values parsed once per distinct value (named as in import_map)."""
    by_column: dict[int, tuple] = {}
    for name, _parse, required, _column, i in plan:
        if i is None:
            if required:
                return None, []  # every row is refused: the Python lane words it
            continue
        if i in by_column:
            return None, []  # one column feeding two fields: the Python lane
        by_column[i] = (name, required)
    parts, captured = [], []
    for i in range(width):
        if i not in by_column:
            parts.append(r'[^,"\r\n]*')
            continue
        name, required = by_column[i]
        rule = CUSTOMER_PLAIN[name]
        if rule[0] == "text":
            body = f"{EDGE}(?:{INNER}{{0,{rule[1] - 2}}}{EDGE})?"
        elif rule[0] == "mapped":
            body = f"{EDGE}(?:{INNER}*{EDGE})?"
        else:
            body = rule[1]
        part = f"(?:{body})" if required else f"(?:{body})?"
        if rule[0] == "mapped" or name in REFERENCES:
            captured.append(name if rule[0] == "mapped" else f"ref:{name}")
            part = f"({part})"
        parts.append(part)
    return re.compile(",".join(parts) + r"\r?\n?"), captured


def _fields_sql(plan: list[tuple]) -> tuple[list[str], list[str], list[str]]:
    """For plain staged rows: the map joins, the checks of mapped values, the typed values."""
    joins, checks, typed, ids = [], [], [], []
    for name, _parse, _required, _column, i in plan:
        kind = CHECKED_TYPES.get(name, "text")
        empty = ingest.CUSTOMER_EMPTY.get(name, "")
        default = "NULL" if empty is None else f"'{empty}'"
        if i is None:  # not mapped: empty in every row
            typed.append(f"{default}::{kind} AS {name}")
            if name in REFERENCES:
                ids.append(f"NULL::bigint AS {REFERENCES[name]}")
            continue
        v = f"s.c{i}"
        if CUSTOMER_PLAIN[name][0] == "mapped":
            joins.append(f"LEFT JOIN import_map m_{name} ON m_{name}.f = '{name}' AND m_{name}.raw = {v}")
            checks.append(f"({v} IS NULL OR m_{name}.value IS NOT NULL)")
            typed.append(f"coalesce(m_{name}.value::{kind}, {default}) AS {name}")
        elif name == "aum":
            typed.append(f"coalesce({v}::numeric, 0) AS {name}")
        else:
            typed.append(f"coalesce({v}, '') AS {name}")
        if name in REFERENCES:
            joins.append(f"LEFT JOIN import_map r_{name} ON r_{name}.f = 'ref:{name}' AND r_{name}.raw = {v}")
            ids.append(f"r_{name}.value::bigint AS {REFERENCES[name]}")
    return joins, checks, typed + ids


def _view_sql(plan: list[tuple]) -> str:
    """import_clean: every non-blank row, plain ones typed by the database, the others as
    the Python lane left them (``ok`` false for a refused row)."""
    joins, checks, typed = _fields_sql(plan)
    fields = list(CUSTOMER_PLAIN)
    refs = " ".join(f"LEFT JOIN import_map r_{n} ON r_{n}.f = 'ref:{n}' AND r_{n}.raw = x.{n}" for n in REFERENCES)
    ref_ids = ", ".join(f"r_{n}.value::bigint AS {col}" for n, col in REFERENCES.items())
    return (
        f"CREATE TEMP VIEW import_clean AS SELECT s.line, s.ord, {' AND '.join(checks) or 'true'} AS ok,"  # noqa: S608
        f" {', '.join(typed)} FROM import_stage s {' '.join(joins)}"
        f" UNION ALL SELECT x.line, x.ord, x.ok, {', '.join(f'x.{f}' for f in fields)}, {ref_ids}"
        f" FROM import_fix x {refs}"
    )


def _refused_sql(plan: list[tuple], width: int) -> str:
    """The plain rows whose mapped values the Python parsers refused (for their messages)."""
    joins, checks, _typed = _fields_sql(plan)
    columns = ", ".join(f"s.c{i}" for i in range(width))
    return (
        f"SELECT s.line, {columns} FROM import_stage s {' '.join(joins)}"  # noqa: S608
        f" WHERE NOT ({' AND '.join(checks) or 'true'}) ORDER BY s.line"
    )


@dataclass(frozen=True)
class Writes:
    """The statements of a run. ``ready`` makes import_ready once: every row but the valid
    ones of unchanged customers, with its verdict (``valid``), its column values as the
    customer table holds them, and whether that customer exists and differs (one hash
    join with the customer table), so a re-import materialises nothing. Then per
    chunk: new customers by a plain INSERT, changed ones through the ON CONFLICT (an
    unchanged customer is not even locked) and, should a customer appear meanwhile, the
    one INSERT .. ON CONFLICT of ``ingest._upsert_customers_pg``."""

    ready: str
    new: str
    changed: str
    upsert: str
    params: dict


def _writes(present: set[str]) -> Writes:
    table = m.Customer._meta.db_table
    present = ingest.customer_present(present)
    cols = [c for c in ingest.CUSTOMER_COLUMNS if c in present or c == "customer_no"]
    derived = {
        "mobile_last4": "right(c.mobile, 4)",
        "id_last4": "upper(right(c.id_number, 4))",
        "tier": (
            "CASE WHEN c.aum >= %(private)s THEN 'private' WHEN c.aum >= %(wealth)s THEN 'wealth'"
            " WHEN c.aum >= %(base)s THEN 'base' ELSE 'long_tail' END"
        ),
    }
    values = {col: derived.get(col, f"c.{col}") for col in cols}
    params: dict = {
        "private": settings.WORKBENCH_TIER_PRIVATE_MIN,
        "wealth": settings.WORKBENCH_TIER_WEALTH_MIN,
        "base": settings.WORKBENCH_TIER_BASE_MIN,
        "attributes": Jsonb({}),
    }
    unmapped = [c for c in ingest.CUSTOMER_COLUMNS if c not in cols and ingest.CUSTOMER_EMPTY.get(c, "") is not None]
    select = [f"r.{c}" for c in cols]
    for col in unmapped:
        params[f"empty_{col}"] = ingest.CUSTOMER_EMPTY.get(col, "")
        select.append(f"%(empty_{col})s")
    updatable = ingest.customer_updatable(cols)
    differs_now = (
        f"({', '.join(f'x.{c}' for c in updatable)}) IS DISTINCT FROM ({', '.join(values[c] for c in updatable)})"
    )
    ready = (
        "CREATE TEMP TABLE import_ready AS SELECT c.line, c.ord, c.ok, d.first AS dup_of,"  # noqa: S608
        f" {VALID} AS valid, c.home_branch, c.owner,"
        " c.home_branch_id IS NULL AS no_branch, c.owner_id IS NULL AS no_owner,"
        f" {', '.join(f'{v} AS {c}' for c, v in values.items())},"
        f" x.id IS NOT NULL AS existing, x.id IS NOT NULL AND {differs_now} AS differs"
        " FROM import_clean c LEFT JOIN import_dups d ON d.line = c.line"
        f" LEFT JOIN {table} x ON x.customer_no = c.customer_no"
        # A valid row of a customer it would not change has nothing to write or report
        # (a chunk counts it as valid and unchanged): the table leaves it out.
        f" WHERE ({VALID} AND x.id IS NOT NULL AND NOT {differs_now}) IS NOT TRUE"
    )
    insert = (
        f"INSERT INTO {table} ({', '.join([*cols, *unmapped, 'attributes', 'created_at', 'updated_at'])}) "  # noqa: S608
        f"SELECT {', '.join(select)}, %(attributes)s, %(now)s, %(now)s FROM import_ready r"
        " WHERE r.ord >= %(lo)s AND r.ord < %(hi)s AND r.valid"
    )
    conflict = f" {ingest.customer_on_conflict(cols)}"
    return Writes(
        ready=ready,
        new=insert + " AND NOT r.existing",
        changed=insert + " AND r.differs" + conflict,
        upsert=(
            f"WITH w AS ({insert}{conflict} RETURNING (xmax = 0) AS created)"  # noqa: S608
            " SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM w"
        ),
        params=params,
    )


# --- the phases ----------------------------------------------------------------------------------


@dataclass
class Staged:
    """What staging learnt: the chunks as (first line, last line, rows), in order."""

    chunks: list[list[int]] = field(default_factory=list)
    rows: int = 0
    distinct: set[tuple[str, str]] = field(default_factory=set)  # (import_map name, value)


def _lane_rows(plan, width: int, records) -> tuple[list, list]:
    """``ingest.clean_values`` on (line, ord, values): rows for import_fix and import_errors."""
    fields = list(CUSTOMER_PLAIN)
    fixed, errors = [], []
    for line, ord_, values in records:
        r = ingest.clean_values(plan, line, values, width)
        if r.data is not None:
            fixed.append([line, ord_, True, *(r.data.get(f, ingest.CUSTOMER_EMPTY.get(f, "")) for f in fields)])
        else:
            fixed.append([line, ord_, False, *([None] * len(fields))])
        errors += [(line, seq, e["column"], e["value"], e["message"]) for seq, e in enumerate(r.errors)]
    return fixed, errors


def _copy_rows(cur, table: str, columns: str, rows: list) -> None:
    if rows:
        with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _stage(cur, lines, phys: int, plan, width: int, chunk_rows: int, job_id: int, total: int) -> Staged:
    """COPY the plain lines as they are (line number and row number first); every other
    record (quoted, misaligned, with a value out of the plain patterns) goes through the
    Python lane at once. Blank records are skipped, as the Python path skips them."""
    plain, captured = _plain_line(plan, width)
    match = plain.fullmatch if plain is not None else (lambda _line: None)
    distinct: set[tuple] = set()
    remember = distinct.add
    per_field: list[set[str]] = [set() for _ in captured]
    lane_refs: set[tuple[str, str]] = set()
    ref_at = {f"ref:{n}": 3 + list(CUSTOMER_PLAIN).index(n) for n in REFERENCES}
    stage_cols = ", ".join(["line", "ord", *(f"c{i}" for i in range(width))])
    fix_cols = ", ".join(["line", "ord", "ok", *CUSTOMER_PLAIN])
    staged = Staged()
    chunks = staged.chunks
    ord_ = 0
    done = False
    while not done:
        slow: list = []
        with cur.copy(f"COPY import_stage ({stage_cols}) FROM STDIN (FORMAT csv)") as copy:
            out: list[str] = []
            taken = 0
            for line in islice(lines, STAGE_LINES):
                taken += 1
                phys += 1
                found = match(line)
                if found:
                    remember(found.groups())
                    if line.endswith("\r\n"):
                        line = line[:-2] + "\n"
                    elif not line.endswith("\n"):
                        line += "\n"
                    out.append(f"{phys},{ord_},{line}")
                    if len(out) >= 1000:
                        copy.write("".join(out))
                        out.clear()
                else:
                    reader = csv.reader(chain([line], lines))
                    values = next(reader, [])
                    phys += reader.line_num - 1
                    if not any(v.strip() for v in values):
                        continue
                    slow.append((phys, ord_, values))
                if ord_ % chunk_rows == 0:
                    chunks.append([phys, phys, 0])
                chunks[-1][1] = phys
                chunks[-1][2] += 1
                ord_ += 1
            done = taken < STAGE_LINES
            copy.write("".join(out))
        for t in distinct:  # per field, so the memory holds distinct values, not combinations
            for k, value in enumerate(t):
                per_field[k].add(value)
        distinct.clear()
        fixed, errors = _lane_rows(plan, width, slow)
        lane_refs.update((f, row[at]) for row in fixed if row[2] for f, at in ref_at.items() if row[at])
        _copy_rows(cur, "import_fix", fix_cols, fixed)
        _copy_rows(cur, "import_errors", "line, seq, col, value, message", errors)
        job_set_progress(job_id=job_id, done=min(phys, total) // 2, total=total)
    staged.rows = ord_
    staged.distinct = {(f, v) for f, values in zip(captured, per_field, strict=True) for v in values if v} | lane_refs
    return staged


def _map_values(cur, plan: list[tuple], lookups: ingest.Lookups, distinct: set[tuple[str, str]]) -> bool:
    """Parse each distinct value of the mapped fields once, with the field's own parser, and
    look each distinct code (branch, advisor) up once: import_map holds the ones that pass.
    True if a parser refused a value (some plain row then needs ``_refused_lane``)."""
    parsers = {n: parse for n, parse, _r, _c, _i in plan}
    refs = {"ref:home_branch": lookups.branches, "ref:owner": lookups.owners}
    found = []
    refused = False
    for f, raw in distinct:
        if f in refs:
            value = refs[f].get(raw)
        else:
            try:
                value = parsers[f](raw)
            except ingest.RowError:
                value = None
            refused = refused or value is None
        if value is not None:
            found.append((f, raw, value.isoformat() if hasattr(value, "isoformat") else str(value)))
    _copy_rows(cur, "import_map", "f, raw, value", found)
    return refused


def _refused_lane(cur, plan: list[tuple], width: int) -> None:
    """The plain rows with a mapped value the parsers refused: ``ingest.clean_values``
    words their errors (they are refused rows; import_clean has them not ok)."""
    with connection.connection.cursor(name="import_lane", withhold=True) as lane:
        lane.execute(_refused_sql(plan, width))
        while rows := lane.fetchmany(LANE_PAGE):
            _fixed, errors = _lane_rows(plan, width, [(r[0], None, [v or "" for v in r[1:]]) for r in rows])
            _copy_rows(cur, "import_errors", "line, seq, col, value, message", errors)


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
    with connection.cursor() as django_cur:
        cur = django_cur.cursor
        try:
            cur.execute(DROP_SQL)
            cur.execute(SESSION_SQL)
            with open(batch.file.path, "rb") as fh:
                lines = ingest.decode_lines(fh)
                header = csv.reader(lines)
                headers = [h.strip() for h in next(header, [])]
                width = len(headers)
                plan = ingest.row_plan(schema, headers, columns)
                stage_cols = "".join(f", c{i} text" for i in range(width))
                fix_cols = ", ".join(f"{f} {CHECKED_TYPES.get(f, 'text')}" for f in CUSTOMER_PLAIN)
                cur.execute(f"CREATE TEMP TABLE import_stage (line integer, ord integer{stage_cols})")
                cur.execute(f"CREATE TEMP TABLE import_fix (line integer, ord integer, ok boolean, {fix_cols})")
                cur.execute(ERRORS_SQL)
                staged = _stage(cur, lines, header.line_num, plan, width, chunk_rows, job_id, total)
            cur.execute(MAP_SQL)
            refused = _map_values(cur, plan, ingest.Lookups(), staged.distinct)
            cur.execute(_view_sql(plan))
            if refused:  # else no plain row holds a refused value: not one to look for
                _refused_lane(cur, plan, width)
            no = next((f"c{i}" for n, _p, _r, _c, i in plan if n == "customer_no" and i is not None), "NULL::text")
            cur.execute(DUPLICATES_SQL.format(no=no))
            cur.execute("ANALYZE import_map, import_dups")  # small: the joins below then hash them
            writes = _writes(set(columns))
            cur.execute(writes.ready, writes.params)
            cur.execute("CREATE INDEX ON import_ready (ord)")
            work = _chunk_work(cur, staged.chunks, chunk_rows)
            seen = staged.rows
            job_set_progress(job_id=job_id, done=max(total, seen) // 2, total=max(total, seen))
            reports = []
            done = 0
            for k, (first, last, rows) in enumerate(staged.chunks):
                done += rows
                if first in written:  # written by an earlier run of this job
                    reports.append(written[first])
                    continue
                bounds = {"lo": k * chunk_rows, "hi": (k + 1) * chunk_rows, "first": first, "last": last}
                params = {**writes.params, **bounds, "now": timezone.now()}
                reports.append(upsert_chunk(cur, writes, params, rows, columns, job_id, work=work[k]))
                job_set_progress(job_id=job_id, done=(max(total, seen) + done) // 2)
        finally:
            with contextlib.suppress(DatabaseError):  # the session's temporary tables go with it anyway
                cur.execute(DROP_SQL)
            with contextlib.suppress(DatabaseError):
                cur.execute(RESET_SQL)
    job_set_progress(job_id=job_id, done=seen, total=seen)
    return _report(reports, seen, schema)


@dataclass(frozen=True)
class ChunkWork:
    """What a chunk holds besides unchanged customers (see CHUNK_WORK_SQL)."""

    new: bool = True
    changed: bool = True
    flagged: bool = True
    errors: bool = True


def _chunk_work(cur, chunks: list[list[int]], chunk_rows: int) -> list[ChunkWork]:
    cur.execute(CHUNK_WORK_SQL, {"rows": chunk_rows})
    found = {k: (bool(new), bool(changed), bool(flagged)) for k, new, changed, flagged in cur.fetchall()}
    cur.execute("SELECT DISTINCT line FROM import_errors")
    firsts = [first for first, _last, _rows in chunks]
    with_errors = {bisect_right(firsts, line) - 1 for (line,) in cur.fetchall()}
    work = []
    for k in range(len(chunks)):
        new, changed, flagged = found.get(k, (False, False, False))
        work.append(ChunkWork(new=new, changed=changed, flagged=flagged, errors=k in with_errors))
    return work


def upsert_chunk(
    cur, writes: Writes, params: dict, rows: int, columns: dict, job_id: int, *, work: ChunkWork = ChunkWork()
) -> dict:
    """Write one chunk's valid rows and record the chunk, in one transaction; the
    statements ``work`` says have nothing to do are not sent."""
    created = updated = 0
    found: list[tuple] = []
    with transaction.atomic():
        if work.new or work.changed:
            try:
                with transaction.atomic():
                    if work.new:
                        cur.execute(writes.new, params)
                        created = cur.rowcount
                    if work.changed:
                        cur.execute(writes.changed, params)
                        updated = cur.rowcount
            except UniqueViolation:  # someone created one of these customers meanwhile
                cur.execute(writes.upsert, params)
                created, updated = cur.fetchone()
        if work.flagged:
            cur.execute(FLAGGED_SQL, params)
            found += _flagged_errors(cur.fetchall(), columns)
        if work.errors:
            cur.execute(CHUNK_ERRORS_SQL, params)
            found += [(line, seq, {"line": line, "column": c, "value": v, "message": e}) for line, seq, c, v, e in cur]
        found.sort(key=lambda f: (f[0], f[1]))
        rejected = len({f[0] for f in found})
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
        lo, hi = params["first"], params["last"] + 1
        JobChunk.objects.create(job_id=job_id, lo=lo, hi=hi, done_at=timezone.now(), result=result)
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
