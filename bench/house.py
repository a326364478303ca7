"""The house helpers driven outside a migration file, the way one revision calls them.

A migration runs in its own transaction (the runtime uses transaction-per-migration),
and a helper may commit it early to finish in autocommit (``VALIDATE CONSTRAINT``,
``CREATE INDEX CONCURRENTLY``). Opening the transaction through the MigrationContext,
as Alembic does per revision, lets the helpers do exactly that here too.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Engine


class HouseOps:
    """One connection with Alembic's ``op`` on it, house operations registered."""

    def __init__(self, engine: Engine) -> None:
        import conventions  # noqa: F401  (registers the house operations on Operations)

        self.connection = engine.connect()
        self.context = MigrationContext.configure(
            self.connection, opts={"transaction_per_migration": True}
        )
        self.op: Any = Operations(self.context)
        self._settle()

    def missing(self, *names: str) -> list[str]:
        """Return the house operations this checkout does not provide (yet)."""
        return [name for name in names if not hasattr(self.op, name)]

    def _settle(self) -> None:
        if self.connection.in_transaction():
            self.connection.commit()

    @contextmanager
    def migration(self) -> Iterator[Any]:
        """Run the body as one revision: a transaction the helpers may split."""
        self._settle()
        with self.context.begin_transaction(_per_migration=True):
            yield self.op
        self._settle()

    def execute(self, statements: Sequence[str]) -> None:
        """Run hand-written SQL in one transaction, the naive migration."""
        self._settle()
        with self.connection.begin():
            for statement in statements:
                self.connection.exec_driver_sql(statement)

    def autocommit(self, statements: Sequence[str]) -> None:
        """Run statements that refuse a transaction block (CONCURRENTLY, ADD VALUE)."""
        self._settle()
        level = self.connection.get_isolation_level()
        self.connection.execution_options(isolation_level="AUTOCOMMIT")
        try:
            for statement in statements:
                self.connection.exec_driver_sql(statement)
            self._settle()
        finally:
            self.connection.execution_options(isolation_level=level)

    def close(self) -> None:
        self._settle()
        self.connection.close()
