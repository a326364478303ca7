"""The safety check on plain Alembic operations, the way strong_migrations does it for Rails.

When a migration runs online, each plain operation listed in
:mod:`conventions.runtime.safety_checks` is looked at *before its DDL is sent*: if it
would hold a blocking lock on an existing table bigger than ``threshold_rows`` (the
planner's estimate), or break running application instances whatever the size
(renames; dropping what the models still map), it raises
:class:`~conventions.errors.DangerousOperation` naming the table, its size, the lock,
and the house op or recipe to use instead. The migration step's transaction is then
rolled back, so everything the step did before it is undone too. Tables created in
the same migration step (same transaction) are exempt: nobody else can see them.
``with conventions.safety_assured("why"):`` lets an operation through and records the
reason in the step's history row. Offline (``--sql``) the same findings are written
into the script as ``-- WARNING`` comments.

Hooking: Alembic dispatches every operation object to its implementation
(``Operations.implementation_for``). :func:`install` wraps the implementation in force
— Alembic's own, or :mod:`conventions.runtime.archive`'s for drops — with the check, once per
operation class. House ops that call plain ones internally run under :func:`house`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from alembic.operations import Operations
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from conventions import assured, logs
from conventions.db import catalog
from conventions.db.sizes import TableSize, table_size
from conventions.db.sqltext import PROBE, qualified
from conventions.db.volatility import volatile_functions
from conventions.errors import DangerousOperation
from conventions.runtime import archive  # archive first: its drops get wrapped
from conventions.runtime.safety_checks import CHECKS, Finding, findings
from conventions.runtime.safety_config import SafetyConfig, load

_inside_house_op: ContextVar[bool] = ContextVar("inside_house_op", default=False)
_WRAPPED = "_conventions_safety"


@contextmanager
def house() -> Iterator[None]:
    """Run plain operations a house op issues itself without the check (it is the safe way)."""
    token = _inside_house_op.set(True)
    try:
        yield
    finally:
        _inside_house_op.reset(token)


@contextmanager
def legacy() -> Iterator[None]:
    """Run a legacy revision (up to ``legacy_until``) without the check: it predates it."""
    with house():
        yield


def config() -> SafetyConfig:
    from conventions.db.settings import project_root

    return load(project_root())


class _LiveProbe:
    """Answer the checks' catalog questions on the migration's connection."""

    def __init__(self, conn: Connection | None, metadata: Any, downgrading: bool) -> None:
        self.conn = conn
        self.metadata = metadata
        self.downgrading = downgrading

    def _column(self, table: str, schema: str | None, column: str) -> catalog.ColumnInfo | None:
        if self.conn is None:
            return None
        info = catalog.table(self.conn, table, schema=schema)
        return catalog.column(self.conn, info.oid, column) if info is not None else None

    def column_type(self, table: str, schema: str | None, column: str) -> str | None:
        found = self._column(table, schema, column)
        return found.type if found is not None else None

    def column_not_null(self, table: str, schema: str | None, column: str) -> bool | None:
        found = self._column(table, schema, column)
        return found.not_null if found is not None else None

    def volatile(self, expression: str) -> list[str]:
        return volatile_functions(self.conn, expression)

    def mapped(self, table: str, schema: str | None, column: str | None) -> bool:
        if self.downgrading:
            return False  # a downgrade undoes its own upgrade; the archive keeps the data
        for metadata in self.metadata if isinstance(self.metadata, list) else [self.metadata]:
            if not isinstance(metadata, MetaData):
                continue
            mapped = metadata.tables.get(f"{schema}.{table}" if schema else table)
            if mapped is not None and (column is None or column in mapped.c):
                return True
        return False


def _estimated_rows(conn: Connection, sql: str) -> int | None:
    """The planner's estimate of the rows a DML statement touches (EXPLAIN, never run)."""
    try:
        with conn.begin_nested():
            raw = conn.exec_driver_sql(
                PROBE + "EXPLAIN (FORMAT JSON) " + sql.replace("%", "%%")
            ).scalar()
    except DBAPIError:
        return None  # several statements, parameters, …: judge by the table's size
    if raw is None:
        return None
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    if plan.get("Node Type") != "ModifyTable":
        nodes = [plan]
        while nodes:
            node = nodes.pop()
            if node.get("Node Type") == "ModifyTable":
                plan = node
                break
            nodes.extend(node.get("Plans", []))
    children = plan.get("Plans") or [plan]
    return int(children[0].get("Plan Rows", 0))


def _refusal(finding: Finding, size: TableSize | None, threshold: int) -> DangerousOperation:
    where = qualified(finding.table, finding.schema)
    if size is None:
        described = "an existing table"
    elif finding.size_based:
        described = f"{size.describe()}, over the {threshold:,}-row threshold"
    else:
        described = size.describe()
    return DangerousOperation(
        check=finding.check,
        operation=finding.operation,
        table=where,
        size=described,
        lock=finding.lock,
        why=finding.why,
        instead=finding.instead,
    )


def _judge_online(conn: Connection, finding: Finding, cfg: SafetyConfig) -> None:
    info = catalog.table(conn, finding.table, schema=finding.schema)
    if info is None or info.created_in_transaction:
        return  # missing: the operation reports it; new: nobody else can see it yet
    size = table_size(conn, info.oid, name=info.name, schema=info.schema, cap=cfg.threshold_rows)
    if finding.size_based and size.rows <= cfg.threshold_rows:
        return
    if finding.sql is not None:
        touched = _estimated_rows(conn, finding.sql)
        if touched is not None and touched <= cfg.threshold_rows:
            return  # a bounded WHERE: a short transaction on a few rows
    error = _refusal(finding, size, cfg.threshold_rows)
    reason = assured.current_reason()
    if reason is None:
        raise error
    assured.note(f"safety_assured let through {finding.operation} on {error.table}: {reason}")
    logs.warn(
        f"{finding.operation} on {error.table} ({error.size}) takes {finding.lock}; "
        f"allowed by safety_assured: {reason}"
    )


def _warn_offline(operations: Operations, finding: Finding, cfg: SafetyConfig) -> None:
    reason = assured.current_reason()
    limit = f"on a table over {cfg.threshold_rows:,} rows" if finding.size_based else "always"
    lines = [
        f"-- WARNING (conventions safety, {finding.check}): {finding.operation} on "
        f"{qualified(finding.table, finding.schema)} takes {finding.lock} {finding.why}.",
        f"-- An online run refuses it {limit}. Instead: {finding.instead}.",
    ]
    if reason is not None:
        lines.append(f"-- safety_assured: {reason}")
    for line in lines:
        operations.migration_context.impl.static_output(" ".join(line.split()))


def guard(operations: Operations, operation: Any) -> None:
    """Refuse ``operation`` if it is dangerous here (online), or warn in the script (offline)."""
    if _inside_house_op.get():
        return
    cfg = config()
    if not cfg.enabled:
        return
    context = operations.migration_context
    conn = None if context.as_sql else context.connection
    metadata = context.opts.get("target_metadata")
    probe = _LiveProbe(conn, metadata, downgrading=archive.downgrading() is not None)
    for finding in findings(operation, probe):
        if not cfg.checks(finding.check):
            continue
        if conn is None:
            _warn_offline(operations, finding, cfg)
        else:
            _judge_online(conn, finding, cfg)


def _wrap(previous: Callable[[Operations, Any], Any]) -> Callable[[Operations, Any], Any]:
    def checked(operations: Operations, operation: Any) -> Any:
        guard(operations, operation)
        return previous(operations, operation)

    setattr(checked, _WRAPPED, previous)
    checked.__name__ = getattr(previous, "__name__", "checked")
    checked.__doc__ = previous.__doc__
    return checked


def current_implementation(op_cls: type) -> Callable[[Operations, Any], Any]:
    """The implementation Alembic would dispatch ``op_cls`` to (private API, one place)."""
    return Operations._to_impl.dispatch(op_cls)


def install() -> None:
    """Put the check in front of each checked operation's implementation (idempotent)."""
    for op_cls in CHECKS:
        previous = current_implementation(op_cls)
        if getattr(previous, _WRAPPED, None) is not None:
            continue
        Operations.implementation_for(op_cls, replace=True)(_wrap(previous))


install()
