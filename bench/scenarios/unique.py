"""10. Add a UNIQUE constraint: ``op.add_unique_constraint`` vs ``ADD CONSTRAINT … UNIQUE``.

The plain statement builds the unique index while holding ACCESS EXCLUSIVE: every read
and write waits for the build. The house op counts duplicates (ACCESS SHARE), builds
the index ``CONCURRENTLY`` (SHARE UPDATE EXCLUSIVE) and attaches it with ``ADD
CONSTRAINT … USING INDEX`` (an instant).
"""

from __future__ import annotations

from bench import comparison, db
from bench.context import Context
from bench.house import HouseOps
from bench.results import Section

NUMBER = 10
TITLE = "Add a UNIQUE constraint"

COLUMNS = ("segment_id", "id")  # unique because id is; the writer's rows keep it so
CONSTRAINT = f"uq_{db.TABLE}_segment_id_id"
NAIVE_SQL = f"ALTER TABLE {db.TABLE} ADD CONSTRAINT {CONSTRAINT} UNIQUE ({', '.join(COLUMNS)})"


def run(ctx: Context) -> Section:
    url, _writer = ctx.big_table()
    house = HouseOps(db.engine(url))
    try:

        def ours() -> None:
            with house.migration() as op:
                op.add_unique_constraint(CONSTRAINT, db.TABLE, list(COLUMNS))

        def reset() -> None:
            house.execute([f"ALTER TABLE {db.TABLE} DROP CONSTRAINT IF EXISTS {CONSTRAINT}"])

        reset()
        missing = (
            "op.add_unique_constraint is not in this checkout"
            if house.missing("add_unique_constraint")
            else None
        )
        variants = [
            comparison.Variant(
                "ours",
                "**ours**: `op.add_unique_constraint` (duplicate count, UNIQUE INDEX "
                "CONCURRENTLY, ADD CONSTRAINT … USING INDEX)",
                ours,
                reset,
                unavailable=missing,
            ),
            comparison.Variant(
                "naive",
                "naive: `op.create_unique_constraint` (ADD CONSTRAINT … UNIQUE)",
                lambda: house.execute([NAIVE_SQL]),
                reset,
            ),
        ]
        results = comparison.interleave(ctx, variants)
    finally:
        house.close()
    return comparison.section(
        ctx,
        number=NUMBER,
        key="10-add-unique-constraint",
        title=TITLE,
        how=(
            f"Adds `UNIQUE ({', '.join(COLUMNS)})` to the {ctx.config.rows:,}-row table. "
            f"Naive: `{NAIVE_SQL}` in the migration's transaction."
        ),
        variants=variants,
        results=results,
        headlines=[("add a unique constraint: writer's worst statement", "ours", "naive")],
        targets=[("`op.add_unique_constraint`", "ours")],
    )
