"""Set-based inserts of many rows: one INSERT … SELECT FROM unnest(arrays) per 10,000 rows
on PostgreSQL, with no model instance per row (a campaign launch writes hundreds of
thousands of enrolments, events and messages); ``bulk_create`` elsewhere (SQLite).

Columns are named by model field; values are given as stored (ids for foreign keys,
aware datetimes, strings, numbers), and every NOT NULL column without a database default
must be among them. JSON columns are not supported (arrays of jsonb need adapting).
"""

from __future__ import annotations

import re

from django.db import connection

from .lookups import array_literal

PART = 10_000


def _array_type(field) -> str:
    """The column's type without its size: a cast to ``varchar(n)`` would cut a longer
    string silently, where the INSERT's own conversion refuses it (as Django's does) and
    rounds a ``numeric(p, s)`` the same way."""
    db_type = field.rel_db_type(connection) if field.is_relation else field.db_type(connection)
    return re.sub(r"\([^)]*\)", "", db_type)


def rows_insert(model, columns: list[str], rows: list[tuple], *, ignore_conflicts: bool = False) -> int:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``model``'s table.
    Returns the number of rows given (with ``ignore_conflicts``, some may not be written)."""
    if not rows:
        return 0
    fields = [model._meta.get_field(name) for name in columns]
    if connection.vendor != "postgresql":
        names = [f.attname for f in fields]
        model.objects.bulk_create(
            [model(**dict(zip(names, row, strict=True))) for row in rows],
            ignore_conflicts=ignore_conflicts,
            batch_size=2000,
        )
        return len(rows)
    quoted = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    arrays = ", ".join(f"%s::{_array_type(f)}[]" for f in fields)
    sql = (
        f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({quoted}) "  # noqa: S608 - names from the model
        f"SELECT * FROM unnest({arrays})" + (" ON CONFLICT DO NOTHING" if ignore_conflicts else "")
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), PART):
            part = rows[start : start + PART]
            # Each column as one array literal: psycopg adapting 10,000 values one by one
            # cost more than the INSERT itself.
            cursor.execute(sql, [array_literal(column) for column in zip(*part, strict=True)])
    return len(rows)
