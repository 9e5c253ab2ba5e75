"""Long ``__in`` lists as one array on PostgreSQL.

Django writes ``pk__in=[…20,000 ids…]`` as ``IN (%s, %s, …)`` with a parameter per id;
psycopg then splits, adapts and quotes each one in Python, which cost a campaign launch
more time than the database spent (a 20,000-id chunk: ~40 % of its run in query
building). From ``THRESHOLD`` values of one plain type (integers, or strings) the lookup
becomes ``col = ANY(%s::bigint[])`` (or ``text[]``) with the whole list as a single
array literal: one parameter, parsed by the server in C. The same rows match (NULLs are
dropped, as ``IN`` drops them), indexes are used the same way, and other databases, short
lists, subqueries and mixed values keep Django's own SQL.

``array_literal`` is the text form of a PostgreSQL array, used by ``core.bulk`` too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Field, ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In

THRESHOLD = 100


def _element(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return f'"{value.isoformat()}"'
    return _quoted(str(value))


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def array_literal(values) -> str:
    """``{1,2,NULL}`` / ``{"a","b \\"c\\""}``: the text form of a one-dimensional array.
    A column of one kind (the usual case: ids, codes, one timestamp) takes a fast path."""
    values = values if isinstance(values, list | tuple) else list(values)
    kinds = {type(v) for v in values}
    if kinds <= {int, type(None)}:
        if type(None) in kinds:
            return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"
        return "{" + ",".join(map(str, values)) + "}"
    if kinds <= {str, type(None)}:
        return "{" + ",".join("NULL" if v is None else _quoted(v) for v in values) + "}"
    if len(kinds) == 1 or kinds <= {dt.datetime, type(None)}:
        seen: dict = {}  # a column of times is mostly one value (``now``)
        parts = []
        for v in values:
            text = seen.get(v)
            if text is None:
                text = seen[v] = _element(v)
            parts.append(text)
        return "{" + ",".join(parts) + "}"
    return "{" + ",".join(_element(v) for v in values) + "}"


def _int_literal(values: list) -> str:
    return "{" + ",".join(map(str, values)) + "}"


INTEGER_FIELDS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)


def _integer_target(lhs) -> bool:
    """Whether ``lhs`` is one integer column (a foreign key counts as its target's type)."""
    if isinstance(lhs, tuple) or hasattr(lhs, "targets"):
        return False
    field = getattr(lhs, "output_field", None)
    field = getattr(field, "target_field", field)
    return field is not None and field.get_internal_type() in INTEGER_FIELDS


INTEGER_COLUMNS = frozenset({"smallint", "integer", "bigint"})
# What a bigint holds: a larger integer in the array would be an error, where Django's
# own IN compares it as a number and matches nothing.
BIGINT = range(-(2**63), 2**63)


def _array_of(column_type: str, values: list) -> tuple[str, str] | None:
    """(SQL array type, literal) for integers against an integer column or strings
    against a text column; None for anything else (JSON, dates, numbers, mixed)."""
    if column_type in INTEGER_COLUMNS and all(type(v) is int and v in BIGINT for v in values):
        return "bigint", _int_literal(values)
    if (column_type == "text" or column_type.startswith("varchar")) and all(type(v) is str for v in values):
        return "text", array_literal(values)
    return None


class _AnyArray:
    def get_prep_lookup(self):
        # A long list of plain ints for an integer column needs no preparing value by
        # value (Django's In calls the field's get_prep_value on each).
        rhs = self.rhs
        if (
            isinstance(rhs, list | tuple | set | frozenset)
            and len(rhs) >= THRESHOLD
            and all(type(v) is int for v in rhs)
            and _integer_target(self.lhs)
        ):
            return list(rhs)
        return super().get_prep_lookup()

    def as_postgresql(self, compiler, connection):
        rhs = self.rhs
        if (
            self.rhs_is_direct_value()
            and not isinstance(self.lhs, tuple)
            and getattr(self.lhs, "output_field", None) is not None
            and not hasattr(self.lhs, "targets")  # composite (ColPairs): Django's own SQL
            and len(rhs) >= THRESHOLD
        ):
            values = list(dict.fromkeys(v for v in rhs if v is not None))
            column_type = (self.lhs.output_field.db_type(connection) or "").split("(")[0].strip().lower()
            typed = _array_of(column_type, values) if values else None
            if typed is not None:
                kind, literal = typed
                lhs_sql, lhs_params = self.process_lhs(compiler, connection)
                return f"{lhs_sql} = ANY(%s::{kind}[])", (*lhs_params, literal)
        return self.as_sql(compiler, connection)


class ArrayIn(_AnyArray, In):
    pass


class ArrayRelatedIn(_AnyArray, RelatedIn):
    pass


def register() -> None:
    """Replace the ``in`` lookup of every field and foreign key (``CoreConfig.ready``)."""
    Field.register_lookup(ArrayIn)
    ForeignObject.register_lookup(ArrayRelatedIn)
