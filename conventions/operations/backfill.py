"""What ``op.backfill`` is: a batched UPDATE's arguments (run by ``ops.backfill_ops``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from alembic.operations import MigrateOperation, Operations

from conventions.errors import InvalidArgument, Irreversible
from conventions.operations.base import invoke

DEFAULT_BATCH = 5_000
DEFAULT_PAUSE = 0.01


@Operations.register_operation("backfill")
class BackfillOp(MigrateOperation):
    """Update rows in keyset batches outside the migration's transaction."""

    def __init__(
        self,
        table_name: str,
        set: Mapping[str, Any],
        *,
        where: Any = None,
        batch_size: int = DEFAULT_BATCH,
        pause: float = DEFAULT_PAUSE,
        key: Sequence[str] | None = None,
        schema: str | None = None,
    ) -> None:
        if not set:
            raise InvalidArgument(
                "op.backfill needs at least one column in set={column: value}", operation="backfill"
            )
        if batch_size < 1:
            raise InvalidArgument("op.backfill batch_size must be at least 1", operation="backfill")
        if pause < 0:
            raise InvalidArgument("op.backfill pause must be ≥ 0 seconds", operation="backfill")
        self.table_name = table_name
        self.values = dict(set)
        self.where = where
        self.batch_size = batch_size
        self.pause = pause
        self.key = list(key) if key else None
        self.schema = schema

    @classmethod
    def backfill(
        cls,
        operations: Operations,
        table_name: str,
        set: Mapping[str, Any],
        *,
        where: Any = None,
        batch_size: int = DEFAULT_BATCH,
        pause: float = DEFAULT_PAUSE,
        key: Sequence[str] | None = None,
        schema: str | None = None,
    ) -> None:
        """``UPDATE table SET … WHERE …`` in batches of ``batch_size`` rows of the primary key.

        ``set`` maps columns to values: a Python value is bound as a parameter; an
        ``sa.text(...)`` (or any SQL expression) is SQL, e.g. ``sa.text("lower(email)")``.
        ``where`` is an SQL condition (text) that should exclude rows already done
        (``"status IS NULL"``): then a re-run finds nothing left and is idempotent.

        It runs **outside the migration's transaction**: the work before it is
        committed, each batch commits on its own (a row lock lives for one batch only,
        under the session's ``lock_timeout``, a timed-out batch is retried with back-off),
        and it sleeps ``pause`` seconds between batches so replicas and vacuum keep up.
        Its position is kept in ``migration_meta.backfills``: after a kill, the next run
        resumes after the last committed batch, so every row is updated once. A progress
        line (rows done of total, rows/s, ETA) is logged every few seconds. ``key`` names
        the keyset columns (default: the primary key; needed offline, else ``id``).
        """
        op = cls(
            table_name,
            set,
            where=where,
            batch_size=batch_size,
            pause=pause,
            key=key,
            schema=schema,
        )
        return invoke(operations, op)

    def reverse(self) -> MigrateOperation:
        raise Irreversible(
            "op.backfill changes data; its reverse cannot be generated.",
            operation="backfill",
            hints=[
                "Write the downgrade by hand (often nothing: the column it filled is dropped "
                "by the reverse of the op that added it)."
            ],
        )
