"""Trace every statement a migration sends, on the scratch database it runs on.

Attached with SQLAlchemy's cursor events to the engine of the connection the step
runner migrates with, so what is traced is exactly what ``make migrate`` sends:
the house ops' catalog checks, their ``NOT VALID`` / commit / ``VALIDATE``
sequences and their CONCURRENTLY builds included. For each statement it keeps the
time it took and what the session holds and changed afterwards (``probe``).

A statement run in autocommit (a house op's ``autocommit_block``) releases its
locks before returning. If PostgreSQL allows it in a transaction block (a
``VALIDATE CONSTRAINT``), the tracer runs it between its own ``BEGIN`` and
``COMMIT`` so the probe still sees them: the same locks, in the same order, for
the same statement. If not (``CREATE INDEX CONCURRENTLY``), ``watch.LockWatcher``
reads them while the statement runs.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine

from conventions.db.sqltext import PROBE
from conventions.harness.snapshot import IGNORED
from conventions.history.schema import SCHEMA, is_bookkeeping
from conventions.plan.locks import mode_name, strength
from conventions.plan.probe import Probe, Relation, names, probe
from conventions.plan.watch import LockWatcher, concurrent

_PENDING = "conventions_plan_pending"
_QUIET = ("SELECT", "SHOW", "SET", "RESET", "WITH")
_CONTROL = re.compile(
    r"^\s*(?:(?:SAVEPOINT|RELEASE|ROLLBACK|PREPARE|DEALLOCATE|SET|RESET|SHOW)\b|EXECUTE\s+house_)",
    re.IGNORECASE,
)
_SOURCES = re.compile(r"\b(?:FROM|JOIN)\s+([\w.\"]+)", re.IGNORECASE)
_TARGETS = re.compile(
    r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE(?:\s+IF\s+NOT\s+EXISTS)?|SCHEMA(?:\s+IF\s+NOT\s+EXISTS)?)"
    r"\s+([\w.\"]+)",
    re.IGNORECASE,
)
_CATALOG = ("pg_", "information_schema.", "pg_catalog.", '"pg_')


def catalog_only(statement: str) -> bool:
    """Whether ``statement`` cannot lock, scan or change a user relation.

    Transaction control, settings, reads of the catalog only (the house ops' and
    Alembic's own checks), and the runtime's bookkeeping (the version table, the
    history schema) are not probed, which halves the cost of a trace.
    """
    if _CONTROL.match(statement) or statement.lstrip().startswith(PROBE.strip()):
        return True
    if re.match(r"^\s*(SELECT|INSERT|UPDATE|CREATE\s+(TABLE|SCHEMA))\b", statement, re.I):
        targets = _TARGETS.findall(statement)
        if targets and all(_bookkeeping_name(name) for name in targets):
            return True
    if not re.match(r"^\s*SELECT\b", statement, re.IGNORECASE) or "FOR UPDATE" in statement.upper():
        return False
    sources = _SOURCES.findall(statement)
    return all(name.lower().startswith(_CATALOG) for name in sources)


def _bookkeeping_name(name: str) -> bool:
    parts = name.replace('"', "").lower().split(".")
    return is_bookkeeping(parts[0], parts[-1])


@dataclass
class Lock:
    relation: Relation
    mode: str  # the documentation's name: ACCESS EXCLUSIVE, ...


@dataclass
class Traced:
    """One statement as it ran on the scratch database."""

    revision: str
    sql: str
    seconds: float
    transaction: str  # the transaction's start time: equal means the same transaction
    autocommit: bool  # ran outside the revision's transaction (a house op committed first)
    locks: list[Lock] = field(default_factory=list)  # newly taken by this statement
    rewritten: list[Relation] = field(default_factory=list)  # new relfilenode
    scanned: list[Relation] = field(default_factory=list)  # sequential scans counted
    created: list[Relation] = field(default_factory=list)  # relations that did not exist
    observed: bool = True  # False: an autocommit statement whose locks could not be seen
    error: str | None = None

    @property
    def bookkeeping(self) -> bool:
        """Only touched the version table or the runtime's history: not the user's schema."""
        touched = [lock.relation for lock in self.locks] + self.rewritten + self.scanned
        if touched:
            return all(ignored(rel) for rel in touched)
        if SCHEMA in self.sql:
            return True
        return self.sql.lstrip().upper().startswith(_QUIET)


def ignored(relation: Relation) -> bool:
    """Bookkeeping (version table, history, archive), TOAST and temporary relations."""
    if relation.schema.startswith("pg_"):
        return True
    return any(
        fnmatchcase(name, pattern)
        for pattern in IGNORED
        for name in (relation.table_schema, relation.table)
    )


@dataclass
class _Pending:
    before: Probe
    started: float
    wrapped: bool
    watcher: LockWatcher | None


class Tracer:
    """Record the statements run on ``engine`` while ``revision`` is set."""

    def __init__(self, engine: Engine, url: URL) -> None:
        self.engine = engine
        self.url = url
        self.revision: str | None = None
        self.statements: list[Traced] = []
        self.existing: set[int] | None = None  # relations at the start: others are new
        self.new: set[int] = set()  # relations the traced migrations created
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        event.listen(engine, "handle_error", self._error)

    def detach(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)
        event.remove(self.engine, "handle_error", self._error)

    # -- events -----------------------------------------------------------------------

    def _before(self, conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if self.revision is None or catalog_only(statement):
            return
        dbapi = cursor.connection
        autocommit = bool(dbapi.autocommit)
        wrapped = autocommit and not concurrent(statement)
        watcher = None
        if wrapped:
            with dbapi.cursor() as side:
                side.execute("BEGIN")
        elif autocommit:
            watcher = LockWatcher(self.url, dbapi.get_backend_pid())
        before = probe(dbapi)
        if self.existing is None:
            self.existing = set(before.filenodes)
        conn.info[_PENDING] = _Pending(before, time.perf_counter(), wrapped, watcher)

    def _after(self, conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        pending: _Pending | None = conn.info.pop(_PENDING, None)
        if pending is None or self.revision is None:
            return
        seconds = time.perf_counter() - pending.started
        dbapi = cursor.connection
        after = probe(dbapi)
        seen = pending.watcher.stop() if pending.watcher is not None else None
        traced = self._describe(dbapi, statement, seconds, pending, after, seen)
        if pending.wrapped:
            with dbapi.cursor() as side:
                side.execute("COMMIT")
        self.statements.append(traced)

    def _error(self, context: Any) -> None:
        conn = context.connection
        pending: _Pending | None = conn.info.pop(_PENDING, None) if conn is not None else None
        if pending is None or self.revision is None:
            return
        if pending.watcher is not None:
            pending.watcher.stop()
        dbapi = conn.connection.dbapi_connection
        if pending.wrapped:
            with dbapi.cursor() as side:
                side.execute("ROLLBACK")
        error = str(getattr(context.original_exception, "pgerror", "") or "").strip()
        self.statements.append(
            Traced(
                self.revision,
                context.statement or "",
                time.perf_counter() - pending.started,
                pending.before.transaction,
                pending.wrapped or pending.watcher is not None,
                error=error or str(context.original_exception).strip(),
            )
        )

    # -- reading the probes -----------------------------------------------------------

    def _describe(
        self,
        dbapi: Any,
        statement: str,
        seconds: float,
        pending: _Pending,
        after: Probe,
        seen: dict[int, set[str]] | None,
    ) -> Traced:
        before = pending.before
        taken: dict[int, set[str]] = {}
        held = seen if seen is not None else after.locks
        for oid, modes in held.items():
            new = modes - before.locks.get(oid, set())
            if new:
                taken[oid] = new
        rewritten = {
            oid
            for oid, node in after.filenodes.items()
            if oid in before.filenodes and before.filenodes[oid] != node
        }
        scanned = {
            oid
            for oid, n in after.scans.items()
            if oid in before.filenodes and n > before.scans.get(oid, 0)
        }
        existing = self.existing or set()
        # Relations that did not exist when tracing began do not exist on the target.
        created = {oid for oid in after.filenodes if oid not in before.filenodes}
        self.new |= created - existing
        relations = names(dbapi, set(taken) | rewritten | scanned | created)
        locks = []
        for oid, modes in taken.items():
            if oid in relations:
                strongest = max((mode_name(m) for m in modes), key=strength)
                locks.append(Lock(relations[oid], strongest))
        return Traced(
            self.revision or "",
            statement,
            seconds,
            before.transaction,
            pending.wrapped or pending.watcher is not None,
            locks=locks,
            rewritten=[relations[o] for o in sorted(rewritten) if o in relations],
            scanned=[relations[o] for o in sorted(scanned) if o in relations],
            created=[rel for oid, rel in sorted(relations.items()) if oid not in existing],
            observed=seen is None or bool(seen),
        )
