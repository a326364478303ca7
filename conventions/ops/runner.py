"""What every house op implementation needs from Alembic, in one place.

Emit DDL text (printed in ``--sql`` mode, executed online), look at the catalog
(online only: offline has no database, so implementations emit the plain DDL),
and step out of the migration's transaction for the statements that must not share
it (``VALIDATE CONSTRAINT``, ``CREATE INDEX CONCURRENTLY``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from alembic.operations import Operations
from sqlalchemy import DDL
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.elements import ClauseElement

from conventions import logs
from conventions.db import catalog
from conventions.db.preflight import Rejected
from conventions.db.sqltext import fit_name, ident, qualified
from conventions.errors import ColumnMissing, InvalidArgument, NotPostgreSQL, RelationMissing
from conventions.runtime import commits

# Compiling with a "named" paramstyle leaves "%" alone, so compiled text is the
# statement itself; run() escapes it once for whatever driver executes it.
_TEXT_DIALECT = postgresql.dialect(paramstyle="named")
_VIOLATIONS = {"23514", "23503"}  # check_violation, foreign_key_violation


def compile_text(element: ClauseElement) -> str:
    """Return the SQL of a SQLAlchemy DDL construct exactly as PostgreSQL should read it."""
    compiled = element.compile(dialect=_TEXT_DIALECT, compile_kwargs={"literal_binds": True})
    return str(compiled).strip()


def object_name(item: Any) -> str:
    """Return the final (convention-applied, length-fitted) name of a constraint or index."""
    if item.name is None:
        raise InvalidArgument(
            f"{type(item).__name__} needs a name (or a naming convention)",
            operation=type(item).__name__,
        )
    return fit_name(str(item.name))


def primary_key(conn: Connection, oid: int) -> list[str]:
    """The primary key's columns in key order."""
    return list(catalog.primary_key(conn, oid))


def _relation_missing(name: str, schema: str | None) -> RelationMissing:
    return RelationMissing(
        f"Relation {qualified(name, schema)} does not exist.",
        table=name,
        hints=[
            "Run earlier migrations first (alembic upgrade head, or python -m conventions "
            "migrate) — is one missing from the chain?",
            "Check the table name's spelling; quoted names are case-sensitive.",
            "Was the table renamed by a previous migration?",
        ],
    )


class OpRunner:
    """One op's view of the migration: online or offline, its connection, its output."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations
        self.context = operations.get_context()
        if self.context.dialect.name != "postgresql":
            # A SQLite dev database runs plain Alembic; the house ops are PostgreSQL's.
            raise NotPostgreSQL(dialect=self.context.dialect.name)
        self.offline = bool(self.context.as_sql)
        self.outside = False
        """True inside an own_transaction() block that really left the step's transaction."""
        self.committed_work = False
        """Whether leaving the step's transaction committed anything (its work so far)."""

    @property
    def conn(self) -> Connection:
        return self.operations.get_bind()

    def run(self, statement: str) -> None:
        """Emit one statement (no terminator). ``%`` is escaped for DDL's formatting."""
        if self.outside and self.committed_work:
            commits.note(self.context, statement)  # the step's work so far is committed
        self.operations.execute(DDL(statement.replace("%", "%%")))
        if self.outside and not self.committed_work:
            # Nothing was committed before this statement (PostgreSQL's refusal of it
            # would have left the database unchanged); now its own work is.
            self.committed_work = True
            commits.note(self.context, f"the end of {statement}")

    def require_table(self, name: str, schema: str | None) -> catalog.TableInfo:
        info = catalog.table(self.conn, name, schema=schema)
        if info is None:
            raise _relation_missing(name, schema)
        return info

    def require_table_with(
        self, name: str, schema: str | None, *, column: str, constraint: str
    ) -> tuple[catalog.TableInfo, catalog.ColumnInfo | None, catalog.ConstraintInfo | None]:
        """The table (which must exist), its ``column`` and its ``constraint``: one query."""
        found = catalog.lookup(self.conn, name, schema=schema, column=column, constraint=constraint)
        if found.table is None:
            raise _relation_missing(name, schema)
        return found.table, found.column, found.constraint

    def require_column(self, table: catalog.TableInfo, column: str) -> catalog.ColumnInfo:
        info = catalog.column(self.conn, table.oid, column)
        if info is None:
            where = qualified(table.name, table.schema)
            raise ColumnMissing(
                f"Column {ident(column)} does not exist in {where}.",
                table=table.name,
                column=column,
            )
        return info

    @contextmanager
    def own_transaction(self) -> Iterator[None]:
        """Run the block outside the migration's transaction, then resume a new one.

        Online this is Alembic's ``autocommit_block()``: the work so far is committed
        (so a crash afterwards leaves it applied — every house op converges when run
        again), each statement in the block commits on its own, and a fresh
        transaction begins after it. The first such statement is noted
        (:mod:`conventions.runtime.commits`) so a later failure of the step is reported as
        partly applied, not rolled back. Offline it prints ``COMMIT;`` … ``BEGIN;``. When
        the caller owns the transaction (a connection handed to Alembic already inside
        one), leaving it is impossible: the block runs in place, with a warning.
        """
        if self.offline:
            with self.context.autocommit_block():
                yield
            return
        if self._may_commit():
            self.outside = True
            self.committed_work = self._wrote_anything()
            try:
                with self.context.autocommit_block():
                    yield
            finally:
                self.outside = False
            return
        logs.warn(
            "The migration runs inside a transaction it does not own; validating in place "
            "(the table is locked against writes until that transaction ends)."
        )
        yield

    def _wrote_anything(self) -> bool:
        """Whether the step's open transaction has written (PostgreSQL assigned it an id).

        Leaving the transaction commits that work; when there is none, a statement
        PostgreSQL refuses outside it leaves the database exactly as it was.
        """
        conn = self.context.connection
        if conn is None or not conn.in_transaction():
            return False
        found = conn.exec_driver_sql("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
        return bool(found.scalar())

    def _may_commit(self) -> bool:
        conn = self.context.connection
        if conn is None or not conn.in_transaction():
            return True
        # Alembic keeps the transaction it began for this migration here; a
        # transaction begun by the caller is not Alembic's to commit.
        return getattr(self.context, "_transaction", None) is not None

    def validate(
        self,
        table_sql: str,
        names: Sequence[str],
        *,
        added: Mapping[str, Rejected] | None = None,
    ) -> None:
        """``VALIDATE CONSTRAINT`` each name, in a transaction of its own.

        VALIDATE scans the table under SHARE UPDATE EXCLUSIVE (plus ROW SHARE on a
        foreign key's referenced table): reads and writes go on; only other DDL and
        VACUUM wait. In the migration's transaction it would keep the ACCESS
        EXCLUSIVE lock the preceding ADD CONSTRAINT took for the whole scan.

        ``added`` names the constraints this op has just added NOT VALID, with the
        rows each rejects. The op's preflight found none; if VALIDATE still finds some
        (a writer got in between), those constraints are dropped again — each DROP
        commits at once, as the ADD did — and the house error counts the rows.
        """
        if not names:
            return
        added = added or {}
        with self.own_transaction():
            for index, name in enumerate(names):
                try:
                    self.run(f"ALTER TABLE {table_sql} VALIDATE CONSTRAINT {ident(name)}")
                except DBAPIError as err:
                    code = getattr(err.orig, "pgcode", None)
                    if name not in added or code not in _VIOLATIONS or not self.outside:
                        raise
                    raise self._undo(table_sql, names[index:], added, name) from err

    def _undo(
        self, table_sql: str, pending: Sequence[str], added: Mapping[str, Rejected], failed: str
    ) -> Exception:
        """Drop what this op added and VALIDATE did not pass; return the error to raise."""
        for name in pending:
            if name in added:
                self.run(f"ALTER TABLE {table_sql} DROP CONSTRAINT IF EXISTS {ident(name)}")
        rejected = added[failed]
        dropped = ", ".join(n for n in pending if n in added)
        return rejected.error(
            rejected.sample(self.conn),
            outcome=(
                "Rows that broke it were written after the preflight (a concurrent writer); "
                f"the NOT VALID constraint(s) this op had added ({dropped}) were dropped again."
            ),
        )
