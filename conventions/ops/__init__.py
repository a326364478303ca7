"""The house operations, registered on Alembic's ``op`` when this package is imported.

========================  =========================================================
``op.…``                  what it does (idempotent: identical is skipped with ⚠️,
                          different is a DefinitionConflict)
========================  =========================================================
add_choice_column         VARCHAR(n) + ``ck_<table>_<column>``, NOT VALID + VALIDATE
alter_choices             swap the allowed set without a moment unchecked
drop_choice_column        drop the CHECK, then the column via ``op.drop_column``
add_check_constraint      CHECK, NOT VALID + VALIDATE
add_foreign_key           FOREIGN KEY, NOT VALID + VALIDATE
add_index                 CREATE INDEX [CONCURRENTLY]; rebuilds an INVALID leftover
add_comment               COMMENT ON TABLE / COLUMN
ensure_column             ``add_column`` for any other column
create_or_sync_table      CREATE TABLE, or add what an existing table lacks
set_not_null              CHECK NOT VALID → VALIDATE → SET NOT NULL (no scan) → DROP CHECK
drop_not_null             DROP NOT NULL
add_unique_constraint     UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT … USING INDEX
add_primary_key           the same for a PRIMARY KEY (key columns NOT NULL online first)
backfill                  UPDATE in keyset batches, own transactions, resumable
change_column_type        in place when no rewrite is needed, else refused with steps
========================  =========================================================

This package is the write side: each ``@Operations.implementation_for`` runs an op
online or prints it offline. What each op *is* (its arguments, ``reverse()``, its
autogenerate conversions) is declared read-side in :mod:`conventions.operations`,
which autogenerate and ``status`` load without loading this package; the op
classes are re-exported here for the code that imports them from here. Catalog
checks live in :mod:`conventions.db.catalog`.
"""

from conventions import operations
from conventions.operations import *  # noqa: F403  (the op classes, imported from here too)
from conventions.ops import (
    backfill_ops,
    choice_alter,
    choice_impl,
    column_ops,
    comment_ops,
    constraint_impl,
    index_ops,
    not_null_ops,
    table_sync,
    type_ops,
    unique_impl,
)

__all__ = [
    *operations.__all__,
    "backfill_ops",
    "choice_alter",
    "choice_impl",
    "column_ops",
    "comment_ops",
    "constraint_impl",
    "index_ops",
    "not_null_ops",
    "table_sync",
    "type_ops",
    "unique_impl",
]
