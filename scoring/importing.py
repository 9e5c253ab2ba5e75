"""Import of a bank's historical campaign extract as ``Outcome`` rows.

One CSV row is one past contact. The mapping (JSON) says which column is the outcome
and which values are positive, which column (if any) is the customer key (the bank's
customer number), which columns must never be features (``exclude``: things known only
after the call, such as its duration), the column types (inferred when absent) and the
contact-time column. Every other column becomes a feature under its own name.

Bad rows are reported with their line number and skipped. Re-importing the same file
adds nothing: each row's ``external_key`` is a hash of its content and of how many
identical rows came before it in the file.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections import Counter
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from customers.models import Customer

from .models import Outcome, OutcomeSource

MISSING = {"", "unknown", "na", "n/a", "nan", "null", "none", "未知", "-", "?"}
MAX_ERRORS_SHOWN = 100
BATCH = 2000


class MappingError(ValueError):
    pass


def load_mapping(raw: dict) -> dict:
    if not isinstance(raw, dict):
        raise MappingError("the mapping must be a JSON object")
    outcome = raw.get("outcome")
    if not isinstance(outcome, dict) or not outcome.get("column"):
        raise MappingError('the mapping needs "outcome": {"column": ..., "positive": [...]}')
    positive = outcome.get("positive") or ["1", "yes", "true", "y", "是"]
    delimiter = raw.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise MappingError("delimiter must be one character")
    types = raw.get("types") or {}
    bad = {k: v for k, v in types.items() if v not in ("number", "category")}
    if bad:
        raise MappingError(f"types must be number or category: {bad}")
    return {
        "delimiter": delimiter,
        "encoding": (raw.get("encoding") or "auto").lower(),
        "customer_key": raw.get("customer_key") or None,
        "outcome_column": outcome["column"],
        "positive": {str(p).strip().lower() for p in positive},
        "negative": {str(p).strip().lower() for p in outcome.get("negative") or []},
        "exclude": set(raw.get("exclude") or []),
        "types": dict(types),
        "contacted_at": raw.get("contacted_at") or None,
        "channel": raw.get("channel") or None,
        "amount": raw.get("amount") or None,
    }


def _decode(data: bytes, encoding: str) -> str:
    if encoding in ("auto", ""):
        for enc in ("utf-8-sig", "gb18030"):
            try:
                return data.decode(enc)
            except UnicodeDecodeError:
                continue
        raise MappingError("the file is neither UTF-8 nor GBK")
    if encoding in ("utf-8", "utf8"):
        encoding = "utf-8-sig"
    if encoding in ("gbk", "gb2312"):
        encoding = "gb18030"  # a superset: GBK files decode the same
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise MappingError(f"cannot decode the file as {encoding}: {exc}") from exc


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def _is_missing(text: str) -> bool:
    return text.strip().lower() in MISSING


_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d", "%Y%m%d")


def _datetime(text: str) -> dt.datetime | None:
    t = text.strip()
    try:
        value = dt.datetime.fromisoformat(t)
    except ValueError:
        value = None
        for fmt in _DATE_FORMATS:
            try:
                value = dt.datetime.strptime(t, fmt)  # noqa: DTZ007 - made aware below
                break
            except ValueError:
                continue
    if value is None:
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def outcomes_import(*, path: str | Path, mapping: dict, actor=None) -> dict:
    """Import the file; returns the summary (rows read, imported, rejected, ...)."""
    m = load_mapping(mapping)
    text = _decode(Path(path).read_bytes(), m["encoding"])
    delimiter = m["delimiter"]
    if delimiter is None:
        first = text.split("\n", 1)[0]
        delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise MappingError("the file is empty") from None
    index = {h: i for i, h in enumerate(header)}
    for key in ("outcome_column", "customer_key", "contacted_at", "channel", "amount"):
        col = m[key]
        if col and col not in index:
            raise MappingError(f"column {col!r} is not in the file (columns: {', '.join(header)})")
    unknown_excluded = sorted(m["exclude"] - set(header))
    reserved = {m["outcome_column"], m["customer_key"], m["contacted_at"], m["channel"], m["amount"]}
    feature_cols = [h for h in header if h not in reserved and h not in m["exclude"] and h]

    # pass 1: split rows, infer the types of the columns the mapping leaves open
    records: list[tuple[int, list[str]]] = []
    errors: list[dict] = []
    for fields in reader:
        line = reader.line_num
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            errors.append({"line": line, "error": f"expected {len(header)} fields, found {len(fields)}"})
            continue
        records.append((line, fields))
    types = dict(m["types"])
    for col in feature_cols:
        if col in types:
            continue
        values = [f[index[col]] for _line, f in records if not _is_missing(f[index[col]])]
        numeric = bool(values) and all(_number(v) is not None for v in values)
        types[col] = "number" if numeric else "category"

    # pass 2: validate and build outcomes
    customers: dict[str, int] = {}
    if m["customer_key"]:
        keys = {f[index[m["customer_key"]]].strip() for _l, f in records}
        for start in range(0, len(keys), 5000):
            part = list(keys)[start : start + 5000]
            customers.update(Customer.objects.filter(customer_no__in=part).values_list("customer_no", "id"))
    seen: Counter = Counter()
    outcomes: list[Outcome] = []
    positives = 0
    for line, f in records:
        raw_outcome = f[index[m["outcome_column"]]].strip().lower()
        if _is_missing(raw_outcome) and raw_outcome not in m["positive"]:
            errors.append({"line": line, "error": f"missing outcome in column {m['outcome_column']!r}"})
            continue
        if m["negative"] and raw_outcome not in m["positive"] and raw_outcome not in m["negative"]:
            errors.append({"line": line, "error": f"unrecognised outcome value {raw_outcome!r}"})
            continue
        converted = raw_outcome in m["positive"]
        features: dict = {}
        problem = None
        for col in feature_cols:
            value = f[index[col]]
            if _is_missing(value):
                features[col] = None
            elif types[col] == "number":
                number = _number(value)
                if number is None:
                    problem = f"column {col!r}: {value!r} is not a number"
                    break
                features[col] = int(number) if number.is_integer() and abs(number) < 2**53 else number
            else:
                features[col] = value.strip()
        if problem:
            errors.append({"line": line, "error": problem})
            continue
        customer_id = None
        if m["customer_key"]:
            key = f[index[m["customer_key"]]].strip()
            customer_id = customers.get(key)
            if customer_id is None:
                errors.append({"line": line, "error": f"unknown customer {key!r}"})
                continue
        contacted_at = None
        if m["contacted_at"]:
            raw_when = f[index[m["contacted_at"]]]
            contacted_at = _datetime(raw_when)
            if contacted_at is None:
                errors.append({"line": line, "error": f"unreadable contact time {raw_when!r}"})
                continue
        amount = None
        if m["amount"] and not _is_missing(f[index[m["amount"]]]):
            number = _number(f[index[m["amount"]]])
            amount = round(number, 2) if number is not None else None
        content = "\x1f".join(fields.strip() for fields in f)
        seen[content] += 1
        digest = hashlib.sha1(f"{content}\x1e{seen[content]}".encode(), usedforsecurity=False).hexdigest()
        outcomes.append(
            Outcome(
                customer_id=customer_id,
                contacted_at=contacted_at,
                channel=(f[index[m["channel"]]].strip()[:16] if m["channel"] else "import"),
                converted=converted,
                amount=amount,
                features=features,
                source=OutcomeSource.IMPORT,
                external_key=f"imp:{digest}",
            )
        )
        positives += int(converted)

    keys = [o.external_key for o in outcomes]
    with transaction.atomic():
        existing = set()
        for start in range(0, len(keys), 5000):
            existing.update(
                Outcome.objects.filter(external_key__in=keys[start : start + 5000]).values_list(
                    "external_key", flat=True
                )
            )
        new = [o for o in outcomes if o.external_key not in existing]
        for start in range(0, len(new), BATCH):
            Outcome.objects.bulk_create(new[start : start + BATCH], ignore_conflicts=True)
        summary = {
            "rows_read": len(records) + sum(1 for e in errors if "fields" in e["error"]),
            "imported": len(new),
            "already_imported": len(outcomes) - len(new),
            "rejected": len(errors),
            "positives": positives,
            "columns": types,
            "excluded": sorted(m["exclude"] & set(header)),
            "excluded_not_in_file": unknown_excluded,
            "errors": sorted(errors, key=lambda e: e["line"])[:MAX_ERRORS_SHOWN],
        }
        audit_record(
            actor=actor,
            verb="scoring.outcomes_import",
            target_type=Outcome._meta.label_lower,
            target_id=Path(path).name[:64],
            details={k: summary[k] for k in ("rows_read", "imported", "already_imported", "rejected", "positives")},
        )
    return summary


def mapping_from_file(path: str | Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise MappingError(f"cannot read the mapping {path}: {exc}") from exc
