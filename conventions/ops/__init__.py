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

Each op object (``…_ops``) holds its arguments and its ``reverse()``; each
implementation (``…_impl`` or the bottom of the same module) runs it online or
prints it offline. Catalog checks live in :mod:`conventions.db.catalog`.
"""

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
from conventions.ops.backfill_ops import BackfillOp
from conventions.ops.choice_ops import AddChoiceColumnOp, AlterChoicesOp, DropChoiceColumnOp
from conventions.ops.column_ops import EnsureColumnOp
from conventions.ops.comment_ops import AddCommentOp
from conventions.ops.constraint_ops import AddCheckConstraintOp, AddForeignKeyOp
from conventions.ops.index_ops import AddIndexOp
from conventions.ops.not_null_ops import DropNotNullOp, SetNotNullOp
from conventions.ops.table_sync import CreateOrSyncTableOp
from conventions.ops.type_ops import ChangeColumnTypeOp
from conventions.ops.unique_ops import AddPrimaryKeyOp, AddUniqueConstraintOp

__all__ = [
    "AddCheckConstraintOp",
    "AddChoiceColumnOp",
    "AddCommentOp",
    "AddForeignKeyOp",
    "AddIndexOp",
    "AddPrimaryKeyOp",
    "AddUniqueConstraintOp",
    "AlterChoicesOp",
    "BackfillOp",
    "ChangeColumnTypeOp",
    "CreateOrSyncTableOp",
    "DropChoiceColumnOp",
    "DropNotNullOp",
    "EnsureColumnOp",
    "SetNotNullOp",
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
