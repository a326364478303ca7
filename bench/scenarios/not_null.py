"""9. Set a column NOT NULL: ``op.set_not_null`` vs a plain ``ALTER COLUMN … SET NOT NULL``.

The plain statement scans every row for NULLs while holding ACCESS EXCLUSIVE: every
read and write waits for the scan. The house op validates a ``CHECK (… IS NOT NULL)
NOT VALID`` in its own transaction (SHARE UPDATE EXCLUSIVE), after which SET NOT NULL
trusts the CHECK and needs no scan.
"""

from __future__ import annotations

from bench import comparison, db
from bench.context import Context
from bench.house import HouseOps
from bench.results import Section

NUMBER = 9
TITLE = "Set a column NOT NULL"

COLUMN = "campaign_type"  # nullable, and filled on every row (the writer fills it too)
NAIVE_SQL = f"ALTER TABLE {db.TABLE} ALTER COLUMN {COLUMN} SET NOT NULL"


def run(ctx: Context) -> Section:
    url, _writer = ctx.big_table()
    house = HouseOps(db.engine(url))
    try:

        def ours() -> None:
            with house.migration() as op:
                op.set_not_null(db.TABLE, COLUMN)

        def reset() -> None:
            house.execute([f"ALTER TABLE {db.TABLE} ALTER COLUMN {COLUMN} DROP NOT NULL"])

        reset()
        missing = (
            "op.set_not_null is not in this checkout" if house.missing("set_not_null") else None
        )
        variants = [
            comparison.Variant(
                "ours",
                "**ours**: `op.set_not_null` (CHECK NOT VALID, VALIDATE, SET NOT NULL, DROP CHECK)",
                ours,
                reset,
                unavailable=missing,
            ),
            comparison.Variant(
                "naive",
                "naive: `op.alter_column(…, nullable=False)` (SET NOT NULL, one scan under "
                "ACCESS EXCLUSIVE)",
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
        key="9-set-not-null",
        title=TITLE,
        how=(
            f"Makes `{COLUMN}` (no NULLs) NOT NULL on the {ctx.config.rows:,}-row table. "
            f"Naive: `{NAIVE_SQL}` in the migration's transaction. Ours also counts NULLs "
            "first (one scan under ACCESS SHARE), inside the timed run."
        ),
        variants=variants,
        results=results,
        headlines=[("set NOT NULL: writer's worst statement", "ours", "naive")],
        targets=[("`op.set_not_null`", "ours")],
    )
