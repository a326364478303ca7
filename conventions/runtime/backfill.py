"""Run ``op.backfill``: keyset batches, each its own transaction, resumable after a kill.

Why one statement per batch: the connection is in autocommit (outside the migration's
transaction), so a statement is a transaction. Each batch is a single statement whose
CTE updates the rows *and* advances the position row in ``migration_meta.backfills``:
either both commit or neither does, so a ``kill -9`` at any moment loses nothing and
repeats nothing — the next run starts after the last committed batch.

A batch is the rows whose key lies in ``(last, upper]``, ``upper`` being the key
``batch_size`` rows further on (one index probe, no lock); the last batch has no upper
bound. The range is over all rows, not only those matching ``where``, so progress is
steady even when most rows are already done.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import literal
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from conventions import logs
from conventions.db import catalog
from conventions.db.sqltext import ident, qualified
from conventions.errors import BackfillFailed
from conventions.history.schema import BACKFILLS, SCHEMA
from conventions.runtime.limits import Limits
from conventions.runtime.retry import RetryLoop
from conventions.runtime.safety_checks import sql_of

STATE = BACKFILLS
_STATE_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {STATE} (
        key varchar(64) NOT NULL,
        table_name text NOT NULL,
        statement text NOT NULL,
        last_key text[],
        rows_done bigint NOT NULL DEFAULT 0,
        total bigint,
        batches integer NOT NULL DEFAULT 0,
        started_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        CONSTRAINT pk_backfills PRIMARY KEY (key)
    )""",
)
_PROGRESS_EVERY = 5.0


def _escaped(sql: str) -> str:
    return sql.replace("%", "%%")


@dataclass(frozen=True)
class KeyColumn:
    name: str
    type: str
    """``format_type`` text, for casting the stored position back."""


@dataclass
class BackfillPlan:
    """What to run, as SQL pieces; built once, before the first batch (pure)."""

    table: str
    schema: str | None
    key: list[KeyColumn]
    assignments: list[str]
    """``column = <SQL or %(vN)s>`` items of the SET list."""
    params: dict[str, Any]
    where: str | None
    batch_size: int

    @property
    def table_sql(self) -> str:
        return qualified(self.table, self.schema)

    @property
    def key_sql(self) -> str:
        return ", ".join(ident(k.name) for k in self.key)

    def statement(self) -> str:
        where = f" WHERE {self.where}" if self.where else ""
        return f"UPDATE {self.table_sql} SET {', '.join(self.assignments)}{where}"

    def driver_statement(self) -> str:
        """:meth:`statement` for ``exec_driver_sql``: ``%`` doubled, parameters left."""
        sets = ", ".join(a if "%(v" in a else _escaped(a) for a in self.assignments)
        where = f" WHERE {_escaped(self.where)}" if self.where else ""
        return f"UPDATE {self.table_sql} SET {sets}{where}"

    def state_key(self) -> str:
        """Identify this backfill: same table, same SET and WHERE → the same position row."""
        text = f"{self.statement()}|{sorted(self.params.items())!r}"
        return hashlib.sha256(text.encode()).hexdigest()

    def after(self, prefix: str = "") -> str:
        """``(key) > (last)``: the rows after the stored position (``%(kN)s`` params)."""
        cols = ", ".join(f"{prefix}{ident(k.name)}" for k in self.key)
        last = ", ".join(f"CAST(%(k{i})s AS {k.type})" for i, k in enumerate(self.key))
        return f"ROW({cols}) > ROW({last})"

    def upto(self, prefix: str = "") -> str:
        cols = ", ".join(f"{prefix}{ident(k.name)}" for k in self.key)
        upper = ", ".join(f"CAST(%(u{i})s AS {k.type})" for i, k in enumerate(self.key))
        return f"ROW({cols}) <= ROW({upper})"


def values_sql(values: dict[str, Any], *, bind: bool) -> tuple[list[str], dict[str, Any]]:
    """SET items: SQL expressions as SQL; Python values as parameters (or literals offline)."""
    assignments, params = [], {}
    for i, (column, value) in enumerate(values.items()):
        if hasattr(value, "compile"):
            assignments.append(f"{ident(column)} = {sql_of(value)}")
        elif bind:
            params[f"v{i}"] = value
            assignments.append(f"{ident(column)} = %(v{i})s")
        else:
            assignments.append(f"{ident(column)} = {sql_of(literal(value))}")
    return assignments, params


@dataclass
class Progress:
    """The progress line: rows done of total, rows/s and ETA, every few seconds."""

    table: str
    total: int | None
    done: int = 0
    clock: Callable[[], float] = time.monotonic
    every: float = _PROGRESS_EVERY
    started: float = field(default=0.0)
    start_done: int = 0
    last_line: float = 0.0

    def begin(self, done: int) -> None:
        self.started = self.last_line = self.clock()
        self.done = self.start_done = done

    def rate(self) -> float:
        elapsed = self.clock() - self.started
        return (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        rate = self.rate()
        if self.total:
            pct = min(100.0, 100.0 * self.done / self.total)
            left = max(self.total - self.done, 0)
            eta = _duration(left / rate) if rate > 0 else "?"
            return (
                f"backfill {self.table}: {self.done:,}/{self.total:,} rows ({pct:.1f}%), "
                f"{rate:,.0f} rows/s, ETA {eta}"
            )
        return f"backfill {self.table}: {self.done:,} rows, {rate:,.0f} rows/s"

    def advance(self, rows: int) -> None:
        self.done += rows
        now = self.clock()
        if now - self.last_line >= self.every:
            self.last_line = now
            logs.info(self.line())


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def ensure_state(conn: Connection) -> None:
    for statement in _STATE_DDL:
        conn.exec_driver_sql(statement)


@dataclass
class Backfiller:
    """Run one plan on an autocommit connection; limits and clock come in from outside."""

    conn: Connection
    plan: BackfillPlan
    limits: Limits
    pause: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def _start(self) -> tuple[list[str] | None, int, int | None]:
        """Return (position, rows done, total): an unfinished row resumes, else a new row."""
        key = self.plan.state_key()
        row = self.conn.exec_driver_sql(
            f"SELECT last_key, rows_done, total FROM {STATE}"
            " WHERE key = %(key)s AND finished_at IS NULL",
            {"key": key},
        ).first()
        if row is not None:
            position = list(row[0]) if row[0] is not None else None
            logs.warn(
                f"backfill {self.plan.table}: resuming an interrupted run after key "
                f"{tuple(position) if position else '(start)'} ({row[1]:,} rows done)"
            )
            return position, int(row[1]), row[2]
        where = f" WHERE {self.plan.where}" if self.plan.where else ""
        total = self.conn.exec_driver_sql(
            _escaped(f"SELECT count(*) FROM {self.plan.table_sql}{where}"), {}
        ).scalar()
        self.conn.exec_driver_sql(
            f"INSERT INTO {STATE} (key, table_name, statement, total) VALUES"
            " (%(key)s, %(table)s, %(statement)s, %(total)s)"
            " ON CONFLICT (key) DO UPDATE SET last_key = NULL, rows_done = 0,"
            " total = EXCLUDED.total, batches = 0, started_at = now(), updated_at = now(),"
            " finished_at = NULL",
            {"key": key, "table": self.plan.table_sql, "statement": self.plan.statement(),
             "total": total},
        )  # fmt: skip
        return None, 0, int(total or 0)

    def _upper(self, position: list[str] | None) -> list[str] | None:
        """The key ``batch_size`` rows after ``position`` (None: the rest is the last batch)."""
        plan = self.plan
        after = f" WHERE {plan.after()}" if position is not None else ""
        cast = ", ".join(f"{ident(k.name)}::text" for k in plan.key)
        row = self.conn.exec_driver_sql(
            f"SELECT ARRAY[{cast}] FROM {plan.table_sql}{after}"
            f" ORDER BY {plan.key_sql} OFFSET {plan.batch_size - 1} LIMIT 1",
            self._key_params("k", position),
        ).first()
        return list(row[0]) if row is not None else None

    def _key_params(self, prefix: str, values: list[str] | None) -> dict[str, Any]:
        return {f"{prefix}{i}": v for i, v in enumerate(values or [])}

    def _batch(self, position: list[str] | None, upper: list[str] | None) -> int:
        """Update one batch and move the position, in one statement (one transaction)."""
        plan = self.plan
        conditions = []
        if position is not None:
            conditions.append(plan.after(f"{plan.table_sql}."))
        if upper is not None:
            conditions.append(plan.upto(f"{plan.table_sql}."))
        if plan.where:
            conditions.append(f"({_escaped(plan.where)})")
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        sets = ", ".join(a if "%(v" in a else _escaped(a) for a in plan.assignments)
        finished = "NULL" if upper is not None else "now()"
        new_key = "%(new_key)s::text[]" if upper is not None else "last_key"
        statement = (
            f"WITH changed AS (UPDATE {plan.table_sql} SET {sets}{where} RETURNING 1)"
            f" UPDATE {STATE} SET last_key = {new_key},"
            " rows_done = rows_done + (SELECT count(*) FROM changed), batches = batches + 1,"
            f" updated_at = now(), finished_at = {finished}"
            " WHERE key = %(state)s RETURNING (SELECT count(*) FROM changed)"
        )
        params = {
            **plan.params,
            **self._key_params("k", position),
            **self._key_params("u", upper),
            "new_key": upper,
            "state": plan.state_key(),
        }
        return int(self.conn.exec_driver_sql(statement, params).scalar() or 0)

    def _with_retries(self, position: list[str] | None, upper: list[str] | None) -> int:
        """Run one batch, retried like a migration step when it cannot get its row locks.

        The connection is in autocommit: a failed batch statement was rolled back whole
        by the server, so trying it again is safe.
        """
        return RetryLoop(self.limits, sleep=self.sleep).run(
            lambda number: self._batch(position, upper),
            what=f"backfill {self.plan.table}: a batch",
            give_up=lambda err, attempts, code: err,  # run() explains it as BackfillFailed
        )

    def run(self) -> int:
        """Run to the end; return the rows updated by this run."""
        ensure_state(self.conn)
        position, done, total = self._start()
        progress = Progress(self.plan.table, total, clock=self.clock)
        progress.begin(done)
        logs.start(
            f"backfill {self.plan.table}: {self.plan.statement()} in batches of "
            f"{self.plan.batch_size:,} rows, each committed on its own (outside the "
            f"migration's transaction){f', {total:,} rows to do' if total else ''}"
        )
        started = self.clock()
        try:
            while True:
                upper = self._upper(position)
                progress.advance(self._with_retries(position, upper))
                if upper is None:
                    break
                position = upper
                if self.pause:
                    self.sleep(self.pause)
        except DBAPIError as err:
            first = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
            raise BackfillFailed(
                f"backfill {self.plan.table} stopped after {progress.done:,} rows: {first}. "
                "Every committed batch stays done.",
                table=self.plan.table,
                done=progress.done,
                hints=["Fix the cause and run the migration again: it resumes where it stopped."],
            ) from err
        elapsed = self.clock() - started
        logs.done(
            f"backfill {self.plan.table}: {progress.done:,} rows updated in "
            f"{_duration(elapsed)} ({progress.rate():,.0f} rows/s)"
        )
        return progress.done - done


def offline_script(plan: BackfillPlan, pause: float) -> str:
    """A DO block that runs the same batches from psql (COMMIT per batch, PostgreSQL 11+).

    Offline there is no catalog: the keyset column is ``plan.key[0]`` (``key=`` or ``id``).
    """
    table, key = plan.table_sql, ident(plan.key[0].name)
    where = f" AND ({plan.where})" if plan.where else ""
    return (
        "DO $backfill$\n"
        f"DECLARE last_key {table}.{key}%TYPE; upper_key {table}.{key}%TYPE;\n"
        "BEGIN\n"
        "  LOOP\n"
        f"    SELECT {key} INTO upper_key FROM {table}"
        f" WHERE last_key IS NULL OR {key} > last_key"
        f" ORDER BY {key} OFFSET {plan.batch_size - 1} LIMIT 1;\n"
        f"    UPDATE {table} SET {', '.join(plan.assignments)}"
        f" WHERE (last_key IS NULL OR {key} > last_key)"
        f" AND (upper_key IS NULL OR {key} <= upper_key){where};\n"
        "    COMMIT;\n"
        "    EXIT WHEN upper_key IS NULL;\n"
        "    last_key := upper_key;\n"
        + (f"    PERFORM pg_sleep({pause:g});\n" if pause else "")
        + "  END LOOP;\n"
        "END $backfill$"
    )


def key_columns(conn: Connection, oid: int, names: Sequence[str]) -> list[KeyColumn]:
    types = {c.name: c.type for c in catalog.columns(conn, oid).values()}
    return [KeyColumn(n, types[n]) for n in names if n in types]
