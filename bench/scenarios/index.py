"""3. Create an index: the house helper (CONCURRENTLY) vs a plain CREATE INDEX.

A plain CREATE INDEX holds a SHARE lock for the whole build, which blocks every
INSERT and UPDATE; reads go on. CONCURRENTLY builds in two passes without blocking
writes, at the price of a longer build.
"""

from __future__ import annotations

from bench import comparison, db, versus
from bench.context import Context
from bench.results import Section
from bench.stats import duration

NUMBER = 3
TITLE = "Create an index"

COLUMN = "created_at"
INDEX = f"ix_{db.TABLE}_{COLUMN}"
NAIVE_SQL = f"CREATE INDEX {INDEX} ON {db.TABLE} ({COLUMN})"


def run(ctx: Context) -> Section:
    with versus.house_on(ctx) as house:

        def ours() -> None:
            with house.migration() as op:
                op.add_index(INDEX, db.TABLE, [COLUMN], postgresql_concurrently=True)

        def ours_serial() -> None:
            house.autocommit(["SET max_parallel_maintenance_workers = 0"])
            try:
                ours()
            finally:
                house.autocommit(["RESET max_parallel_maintenance_workers"])

        def reset() -> None:
            house.autocommit([f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}"])

        reset()
        variants = versus.ours_and_naive(
            house,
            operation="add_index",
            ours=ours,
            ours_label="**ours**: `op.add_index(…, postgresql_concurrently=True)`",
            naive=[NAIVE_SQL],
            naive_label="naive: `op.create_index` (plain CREATE INDEX)",
            reset=reset,
        )
        variants.insert(
            1,
            comparison.Variant(
                "ours-serial",
                "diagnostic: the same, with `max_parallel_maintenance_workers = 0`",
                ours_serial,
                reset,
                unavailable=variants[0].unavailable,
                short="ours without parallel workers",
            ),
        )
        results = comparison.interleave(ctx, variants)
    section = comparison.section(
        ctx,
        number=NUMBER,
        key="3-create-index",
        title=TITLE,
        how=(
            f"Indexes `{COLUMN}` (distinct on every row) of the {ctx.config.rows:,}-row table. "
            f"Naive: `{NAIVE_SQL}` inside the migration's transaction. The diagnostic row runs "
            "the house helper with PostgreSQL's parallel index build turned off for the "
            "session, to show how much of the writer's slowdown is CPU taken by the build's "
            "parallel workers rather than any lock."
        ),
        variants=variants,
        results=results,
        headlines=[("create an index: writer's worst statement", "ours", "naive")],
        targets=[("`op.add_index` (CONCURRENTLY)", "ours")],
    )
    ours_worst, serial_worst = results["ours"].worst, results["ours-serial"].worst
    if not (ours_worst.missing or serial_worst.missing):
        if serial_worst.high < ours_worst.low:  # every serial run beat every parallel one
            verdict = "part of the slowdown is CPU taken by the build's parallel workers."
        elif serial_worst.median >= ours_worst.median * 0.8:
            verdict = "the slowdown is not CPU taken by the build's parallel workers."
        else:
            verdict = "the runs overlap too much on this machine to tell."
        section.notes.append(
            "Without parallel workers the writer's worst statement was "
            f"{duration(serial_worst.median)} against {duration(ours_worst.median)} with them "
            f"(medians of {serial_worst.n} and {ours_worst.n} runs): {verdict}"
        )
    return section
