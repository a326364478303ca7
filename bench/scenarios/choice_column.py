"""1. Add a choice column with its CHECK: ``op.add_choice_column`` vs one naive transaction.

The naive migration adds the column and a validated CHECK in one transaction, so
ADD CONSTRAINT scans every row while holding ACCESS EXCLUSIVE and the writer
waits for the whole scan. The helper adds the CHECK ``NOT VALID`` (instant) and
validates it in a separate transaction under SHARE UPDATE EXCLUSIVE, which lets
the writer through.
"""

from __future__ import annotations

from bench import comparison, db
from bench.context import Context
from bench.house import HouseOps
from bench.results import Section

NUMBER = 1
TITLE = "Add a choice column with its CHECK"

COLUMN = "channel"
VALUES = ("email", "sms", "push", "in_app", "wallet")
CONSTRAINT = f"ck_{db.TABLE}_{COLUMN}"


def _naive_sql() -> list[str]:
    allowed = ", ".join(f"'{v}'" for v in VALUES)
    return [
        f"ALTER TABLE {db.TABLE} ADD COLUMN {COLUMN} varchar(20)",
        f"ALTER TABLE {db.TABLE} ADD CONSTRAINT {CONSTRAINT} CHECK ({COLUMN} IN ({allowed}))",
    ]


def run(ctx: Context) -> Section:
    url, _writer = ctx.big_table()
    house = HouseOps(db.engine(url))
    try:

        def ours() -> None:
            with house.migration() as op:
                op.add_choice_column(db.TABLE, COLUMN, list(VALUES), length=20)

        def reset() -> None:
            house.execute([f"ALTER TABLE {db.TABLE} DROP COLUMN IF EXISTS {COLUMN}"])

        reset()
        missing = house.missing("add_choice_column")
        variants = [
            comparison.Variant(
                "ours",
                "**ours**: `op.add_choice_column` (ADD COLUMN + CHECK NOT VALID, then VALIDATE)",
                ours,
                reset,
                unavailable="op.add_choice_column is not in this checkout" if missing else None,
            ),
            comparison.Variant(
                "naive",
                "naive: ADD COLUMN + ADD CONSTRAINT CHECK in one transaction",
                lambda: house.execute(_naive_sql()),
                reset,
            ),
        ]
        results = comparison.interleave(ctx, variants)
    finally:
        house.close()
    return comparison.section(
        ctx,
        number=NUMBER,
        key="1-add-choice-column",
        title=TITLE,
        how=(
            f"Adds `{COLUMN} varchar(20)`, allowed to be one of {len(VALUES)} values, to the "
            f"{ctx.config.rows:,}-row table. The naive migration:\n\n```sql\n"
            + ";\n".join(_naive_sql())
            + ";\n```"
        ),
        variants=variants,
        results=results,
        headlines=[("add a choice column: writer's worst statement", "ours", "naive")],
        targets=[("`op.add_choice_column`", "ours")],
    )
