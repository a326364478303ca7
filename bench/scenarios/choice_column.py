"""1. Add a choice column with its CHECK: ``op.add_choice_column`` vs one naive transaction.

The naive migration adds the column and a validated CHECK in one transaction, so
ADD CONSTRAINT scans every row while holding ACCESS EXCLUSIVE and the writer
waits for the whole scan. The helper adds the CHECK ``NOT VALID`` (instant) and
validates it in a separate transaction under SHARE UPDATE EXCLUSIVE, which lets
the writer through.
"""

from __future__ import annotations

from bench import db, versus
from bench.context import Context
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
    return versus.measure(
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
        operation="add_choice_column",
        call=lambda op: op.add_choice_column(db.TABLE, COLUMN, list(VALUES), length=20),
        reset_sql=[f"ALTER TABLE {db.TABLE} DROP COLUMN IF EXISTS {COLUMN}"],
        ours_label="**ours**: `op.add_choice_column` (ADD COLUMN + CHECK NOT VALID, then VALIDATE)",
        naive_sql=_naive_sql(),
        naive_label="naive: ADD COLUMN + ADD CONSTRAINT CHECK in one transaction",
        headline="add a choice column",
    )
