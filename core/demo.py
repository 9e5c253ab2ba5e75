"""The machinery every app's demo seeder shares: bulk row writing, id allocation, and the
chunk being seeded.

Each app has a ``demo.py`` that seeds only its own tables; ``workbench``'s ``seed_demo``
composes them in layer order. Customers are seeded in chunks of ``CHUNK``; every seeder
of a chunk draws from its own NumPy generator, seeded with ``(seed, chunk number,
stream)`` (:meth:`Chunk.rng`), so the output depends only on the seed, the customer count
and the anchor date, never on timing, and one seeder's draws never shift another's.

Rows go to the database with COPY on PostgreSQL and ``executemany`` on SQLite
(:class:`RowWriter`). This is bulk loading of synthetic data, so it bypasses the services
on purpose; the rows carry ids the seeders choose themselves (:class:`IdAllocator`), so a
child row can name its parent before either is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from django.db import connection, models

CHUNK = 10_000

Model = type[models.Model]


def fmt_ts(t: dt.datetime) -> str:
    """A UTC datetime as the database text of a row.

    UTC without an offset: Django keeps SQLite datetimes this way, and sets its
    PostgreSQL sessions to UTC, so both read it as UTC. (``strftime`` gives the same
    text at twice the cost, on a few hundred thousand rows a chunk.)"""
    return t.isoformat(" ", "seconds")[:19]


# Contact with a customer happens in the bank's day: calls, messages and visits of the
# demo world fall between 09:00 and 20:30 Beijing time (inside the default call hours),
# never at 01:59; AI-bot chats, which customers start themselves, between 07:00 and 23:00.
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
WORKING_MINUTES = (9 * 60, 20 * 60 + 30)
AWAKE_MINUTES = (7 * 60, 23 * 60)


def local_time_on(anchor: dt.datetime, days_ago: int, minute_of_day: int) -> dt.datetime:
    """``minute_of_day`` Beijing time, ``days_ago`` days before the anchor's day, in UTC;
    a time later than the anchor on its own day moves one day back, so it is in the past."""
    day = anchor.astimezone(SHANGHAI).date() - dt.timedelta(days=int(days_ago))
    when = dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI) + dt.timedelta(minutes=int(minute_of_day))
    if when > anchor:
        when -= dt.timedelta(days=1)
    return when.astimezone(dt.UTC)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Chunk:
    """One chunk of the demo book: ``size`` customers from customer number ``first_index``."""

    number: int
    first_index: int
    size: int
    seed: int
    anchor: dt.datetime  # "now" of the demo world, UTC

    @property
    def today(self) -> dt.date:
        return self.anchor.date()

    def rng(self, stream: int) -> np.random.Generator:
        """The generator of one seeder for this chunk. Stream 0 (customers) is seeded with
        ``(seed, chunk)`` alone, as it always was, so the customers of a seed stay the same."""
        key = [self.seed, self.number] if stream == 0 else [self.seed, self.number, stream]
        return np.random.default_rng(key)


def chunks(*, customers: int, seed: int, anchor: dt.datetime, first_index: int = 0) -> Iterable[Chunk]:
    done = 0
    number = 0
    while done < customers:
        size = min(CHUNK, customers - done)
        yield Chunk(number=number, first_index=first_index + done, size=size, seed=seed, anchor=anchor)
        done += size
        number += 1


def _table(model: Model) -> str:
    return model._meta.db_table


class RowWriter:
    """COPY on PostgreSQL, executemany on SQLite; same rows either way."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        if self.vendor == "postgresql":
            # Bulk load of synthetic data: do not wait for each chunk's WAL flush.
            with connection.cursor() as cur:
                cur.execute("SET synchronous_commit TO OFF")
                # The seeders write parents before children with ids they chose themselves,
                # so per-row foreign-key triggers only slow the load down. Skipping them
                # needs a superuser; without one the load is just slower.
                cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                if cur.fetchone()[0]:
                    cur.execute("SET session_replication_role = replica")

    def write(self, model: Model, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
        table = _table(model)
        cols = ", ".join(columns)
        if self.vendor == "postgresql":
            n = 0
            raw = connection.connection  # psycopg 3 connection behind Django's wrapper
            with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            return n
        rows = list(rows)
        placeholders = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({placeholders})", rows)  # noqa: S608 - table and columns are the seeders' constants
        return len(rows)

    def write_formatted(self, model: Model, columns: Sequence[str], rows: Iterable[Sequence], fmt: str) -> int:
        """Like write(), for rows of plain numbers and strings that ``fmt`` (%-style, the
        fastest) formats as one COPY text line: several times faster than write_row for
        very large tables."""
        if self.vendor != "postgresql":
            return self.write(model, columns, rows)
        raw = connection.connection
        n = 0
        with raw.cursor() as cur, cur.copy(f"COPY {_table(model)} ({', '.join(columns)}) FROM STDIN") as copy:
            batch: list[str] = []
            for row in rows:
                batch.append(fmt % row)
                if len(batch) >= 50_000:
                    copy.write("\n".join(batch) + "\n")
                    n += len(batch)
                    batch = []
            if batch:
                copy.write("\n".join(batch) + "\n")
                n += len(batch)
        return n

    def next_id(self, model: Model) -> int:
        with connection.cursor() as cur:
            cur.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {_table(model)}")  # noqa: S608 - a model's table
            return int(cur.fetchone()[0])

    def finish(self, written: Iterable[Model]) -> None:
        """After the last chunk: move the id sequences past the ids the seeders chose, turn
        the foreign-key triggers back on and refresh the planner's statistics."""
        if self.vendor != "postgresql":
            return
        with connection.cursor() as cur:
            for model in written:
                table = _table(model)
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - a model's table
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                )
            cur.execute("SET session_replication_role = DEFAULT")
            for model in written:
                cur.execute(f"ANALYZE {_table(model)}")


class IdAllocator:
    """The next free id of every table the seeders COPY into, advanced as they take ids."""

    def __init__(self, writer: RowWriter, models_: Iterable[Model]) -> None:
        self._next = {model: writer.next_id(model) for model in models_}

    def take(self, model: Model, n: int) -> np.ndarray:
        """``n`` consecutive ids for ``model``'s next rows."""
        start = self._next[model]
        self._next[model] = start + n
        return np.arange(start, start + n)

    def next_free(self, model: Model) -> int:
        """The first id not taken yet, for a seeder that counts its rows as it makes them
        and then calls :meth:`advance` with the count."""
        return self._next[model]

    def advance(self, model: Model, n: int) -> None:
        self._next[model] += n
