"""``op.add_index``: an idempotent ``create_index``, optionally CONCURRENTLY.

Small enough to keep the op object and its implementation in one module; the split
is the same as elsewhere (the class holds arguments, the function runs it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alembic.operations import MigrateOperation, Operations
from alembic.operations.ops import DropIndexOp
from sqlalchemy import Index
from sqlalchemy.schema import CreateIndex

from conventions import logs
from conventions.db import catalog
from conventions.db.sqltext import qualified
from conventions.errors import DefinitionConflict
from conventions.ops.runner import OpRunner, compile_text, object_name
from conventions.ops.shadow import normalised_index


@Operations.register_operation("add_index")
class AddIndexOp(MigrateOperation):
    """Create an index unless an identical one exists."""

    def __init__(
        self,
        index_name: str | None,
        table_name: str,
        columns: Sequence[Any],
        *,
        schema: str | None = None,
        unique: bool = False,
        **kw: Any,
    ) -> None:
        self.index_name = index_name
        self.table_name = table_name
        self.columns = list(columns)
        self.schema = schema
        self.unique = unique
        self.kw = kw

    @property
    def concurrently(self) -> bool:
        return bool(self.kw.get("postgresql_concurrently"))

    @classmethod
    def add_index(
        cls,
        operations: Operations,
        index_name: str | None,
        table_name: str,
        columns: Sequence[Any],
        *,
        schema: str | None = None,
        unique: bool = False,
        **kw: Any,
    ) -> None:
        """Create an index like ``op.create_index``, skipping an identical existing one.

        Locks: plain ``CREATE INDEX`` holds SHARE on the table for the whole build —
        reads continue, writes wait. With ``postgresql_concurrently=True`` it runs
        outside the migration's transaction as ``CREATE INDEX CONCURRENTLY`` (SHARE
        UPDATE EXCLUSIVE: writes continue; the build takes two scans). An interrupted
        concurrent build leaves an INVALID index behind; running again drops and
        rebuilds it. On a table created in this transaction the index is built plainly.
        Same name, same definition (as PostgreSQL prints it): skipped with a warning;
        a different one: DefinitionConflict.
        """
        op = cls(index_name, table_name, columns, schema=schema, unique=unique, **kw)
        return operations.invoke(op)

    def reverse(self) -> DropIndexOp:
        # A plain DROP INDEX: it only unlinks files (ACCESS EXCLUSIVE for an instant),
        # and Alembic's drop_index cannot run CONCURRENTLY inside the migration's
        # transaction without an explicit autocommit block.
        if self.index_name is None:
            raise NotImplementedError("add_index needs an index name to be reversed")
        return DropIndexOp(self.index_name, self.table_name, schema=self.schema)


def index_of(operations: Operations, op: AddIndexOp, *, concurrently: bool) -> Index:
    kw = dict(op.kw)
    kw["postgresql_concurrently"] = concurrently
    return operations.schema_obj.index(
        op.index_name, op.table_name, op.columns, schema=op.schema, unique=op.unique, **kw
    )


def _drop_invalid(run: OpRunner, name: str, schema: str | None, concurrently: bool) -> None:
    logs.warn(f"Index {name} is INVALID (an interrupted concurrent build); rebuilding it")
    if concurrently:
        with run.own_transaction():
            run.run(f"DROP INDEX CONCURRENTLY {qualified(name, schema)}")
    else:
        run.run(f"DROP INDEX {qualified(name, schema)}")


def _create(
    run: OpRunner, operations: Operations, op: AddIndexOp, plain_sql: str, *, concurrently: bool
) -> None:
    """Build the index; CONCURRENTLY cannot run inside a transaction, so outside the step's."""
    if concurrently:
        with run.own_transaction():
            run.run(compile_text(CreateIndex(index_of(operations, op, concurrently=True))))
    else:
        run.run(plain_sql)


@Operations.implementation_for(AddIndexOp)
def add_index(operations: Operations, op: AddIndexOp) -> None:
    run = OpRunner(operations)
    plain = index_of(operations, op, concurrently=False)
    name = object_name(plain)
    plain_sql = compile_text(CreateIndex(plain))
    if run.offline:
        _create(run, operations, op, plain_sql, concurrently=op.concurrently)
        return
    table = run.require_table(op.table_name, op.schema)
    concurrently = op.concurrently and not table.created_in_transaction
    existing = catalog.index(run.conn, name, schema=op.schema or table.schema)
    if existing is not None:
        table_sql = qualified(op.table_name, op.schema)
        wanted = normalised_index(run.conn, table_sql, plain_sql, table_sql)
        if existing.table_oid != table.oid or (existing.unique, existing.body) != (
            op.unique,
            wanted,
        ):
            raise DefinitionConflict(
                f"Index {name} already exists with another definition.",
                name=name,
                existing=existing.definition,
                wanted=plain_sql,
            )
        if existing.valid:
            logs.warn(f"Index {name} on {table.name} already exists, skipping")
            return
        _drop_invalid(run, name, op.schema, concurrently)
    _create(run, operations, op, plain_sql, concurrently=concurrently)
