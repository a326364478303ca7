"""9. Set a column NOT NULL: ``op.set_not_null`` vs a plain ``ALTER COLUMN … SET NOT NULL``.

The plain statement scans every row for NULLs while holding ACCESS EXCLUSIVE: every
read and write waits for the scan. The house op validates a ``CHECK (… IS NOT NULL)
NOT VALID`` in its own transaction (SHARE UPDATE EXCLUSIVE), after which SET NOT NULL
trusts the CHECK and needs no scan.
"""

from __future__ import annotations

from bench import db, versus
from bench.context import Context
from bench.results import Section

NUMBER = 9
TITLE = "Set a column NOT NULL"

COLUMN = "campaign_type"  # nullable, and filled on every row (the writer fills it too)
NAIVE_SQL = f"ALTER TABLE {db.TABLE} ALTER COLUMN {COLUMN} SET NOT NULL"


def run(ctx: Context) -> Section:
    return versus.measure(
        ctx,
        number=NUMBER,
        key="9-set-not-null",
        title=TITLE,
        how=(
            f"Makes `{COLUMN}` (no NULLs) NOT NULL on the {ctx.config.rows:,}-row table. "
            f"Naive: `{NAIVE_SQL}` in the migration's transaction. Ours also counts NULLs "
            "first (one scan under ACCESS SHARE), inside the timed run."
        ),
        operation="set_not_null",
        call=lambda op: op.set_not_null(db.TABLE, COLUMN),
        reset_sql=[f"ALTER TABLE {db.TABLE} ALTER COLUMN {COLUMN} DROP NOT NULL"],
        ours_label=(
            "**ours**: `op.set_not_null` (CHECK NOT VALID, VALIDATE, SET NOT NULL, DROP CHECK)"
        ),
        naive_sql=[NAIVE_SQL],
        naive_label=(
            "naive: `op.alter_column(…, nullable=False)` (SET NOT NULL, one scan under "
            "ACCESS EXCLUSIVE)"
        ),
        headline="set NOT NULL",
    )
