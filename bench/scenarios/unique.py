"""10. Add a UNIQUE constraint: ``op.add_unique_constraint`` vs ``ADD CONSTRAINT … UNIQUE``.

The plain statement builds the unique index while holding ACCESS EXCLUSIVE: every read
and write waits for the build. The house op counts duplicates (ACCESS SHARE), builds
the index ``CONCURRENTLY`` (SHARE UPDATE EXCLUSIVE) and attaches it with ``ADD
CONSTRAINT … USING INDEX`` (an instant).
"""

from __future__ import annotations

from bench import db, versus
from bench.context import Context
from bench.results import Section

NUMBER = 10
TITLE = "Add a UNIQUE constraint"

COLUMNS = ("segment_id", "id")  # unique because id is; the writer's rows keep it so
CONSTRAINT = f"uq_{db.TABLE}_segment_id_id"
NAIVE_SQL = f"ALTER TABLE {db.TABLE} ADD CONSTRAINT {CONSTRAINT} UNIQUE ({', '.join(COLUMNS)})"


def run(ctx: Context) -> Section:
    return versus.measure(
        ctx,
        number=NUMBER,
        key="10-add-unique-constraint",
        title=TITLE,
        how=(
            f"Adds `UNIQUE ({', '.join(COLUMNS)})` to the {ctx.config.rows:,}-row table. "
            f"Naive: `{NAIVE_SQL}` in the migration's transaction."
        ),
        operation="add_unique_constraint",
        call=lambda op: op.add_unique_constraint(CONSTRAINT, db.TABLE, list(COLUMNS)),
        reset_sql=[f"ALTER TABLE {db.TABLE} DROP CONSTRAINT IF EXISTS {CONSTRAINT}"],
        ours_label=(
            "**ours**: `op.add_unique_constraint` (duplicate count, UNIQUE INDEX "
            "CONCURRENTLY, ADD CONSTRAINT … USING INDEX)"
        ),
        naive_sql=[NAIVE_SQL],
        naive_label="naive: `op.create_unique_constraint` (ADD CONSTRAINT … UNIQUE)",
        headline="add a unique constraint",
    )
