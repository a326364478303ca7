"""11. Backfill a column on every row: ``op.backfill`` vs one ``UPDATE`` of the whole table.

One UPDATE row-locks every row it has touched until it commits: a writer updating
any of them waits for the rest of the statement, and the table holds two versions of
every row at once. ``op.backfill`` updates keyset batches of the primary key, each
its own transaction, so a row lock lives for one batch. The issue's targets: the
writer's worst statement within 10 ms, and at least half the rows/s of the single
UPDATE.
"""

from __future__ import annotations

import itertools
import os

from bench import comparison, db, versus
from bench.context import Context
from bench.house import HouseOps
from bench.results import Section, Target
from bench.stats import Spread

NUMBER = 11
TITLE = "Backfill a column on every row"

COLUMN = "bench_mark"  # added (metadata only) for this measurement, dropped after
# A batch's row locks are what a colliding writer waits for; 1,000 rows keep a batch
# at a few milliseconds on this hardware. BENCH_BACKFILL_BATCH overrides it.
BATCH = int(os.environ.get("BENCH_BACKFILL_BATCH", "1000"))
PAUSE = float(os.environ.get("BENCH_BACKFILL_PAUSE", "0"))


def run(ctx: Context) -> Section:
    url, _writer = ctx.big_table()
    house = HouseOps(db.engine(url))
    marks = itertools.count(1)
    current = {"mark": 0}

    def next_mark() -> int:
        current["mark"] = next(marks)
        return current["mark"]

    try:
        house.execute([f"ALTER TABLE {db.TABLE} ADD COLUMN IF NOT EXISTS {COLUMN} int"])

        def ours() -> None:
            mark = next_mark()
            with house.migration() as op:
                op.backfill(
                    db.TABLE,
                    set={COLUMN: mark},
                    where=f"{COLUMN} IS DISTINCT FROM {mark}",
                    batch_size=BATCH,
                    pause=PAUSE,
                )

        def naive() -> None:
            house.execute([f"UPDATE {db.TABLE} SET {COLUMN} = {next_mark()}"])

        def reset() -> None:
            # Each run leaves a dead version of every row; vacuum it away (untimed) so
            # the next run, ours or naive, starts from the same table.
            house.autocommit([f"VACUUM {db.TABLE}"])

        variants = versus.ours_and_naive(
            house,
            operation="backfill",
            ours=ours,
            ours_label=f"**ours**: `op.backfill(…, batch_size={BATCH:,}, pause={PAUSE:g})`",
            naive=naive,
            naive_label='naive: `op.execute("UPDATE … SET …")` (one statement, one transaction)',
            reset=reset,
            repeats=min(ctx.config.repeats, 2),
        )
        results = comparison.interleave(ctx, variants)
    finally:
        try:
            house.execute([f"ALTER TABLE {db.TABLE} DROP COLUMN IF EXISTS {COLUMN}"])
            house.autocommit([f"VACUUM {db.TABLE}"])
        finally:
            house.close()
    section = comparison.section(
        ctx,
        number=NUMBER,
        key="11-backfill",
        title=TITLE,
        how=(
            f"Sets `{COLUMN}` (an int column added for this) on all {ctx.config.rows:,} rows, "
            f"a new value each run. Ours: keyset batches of {BATCH:,} rows over the primary "
            f"key, each its own transaction, {PAUSE:g} s between batches, position kept in "
            "`migration_meta.backfills`. Naive: one `UPDATE` of the whole table in the "
            "migration's transaction. The table is vacuumed (untimed) after every run."
        ),
        variants=variants,
        results=results,
        headlines=[("backfill: writer's worst statement", "ours", "naive")],
        targets=[("`op.backfill`", "ours")],
    )
    section.targets.append(_throughput(ctx, results))
    return section


def _throughput(ctx: Context, results: dict) -> Target:  # type: ignore[type-arg]
    """The issue's second promise: at least half the rows/s of the single UPDATE."""
    promise = "`op.backfill` rows/s ≥ half of one naive UPDATE's"
    ours, naive = results["ours"], results["naive"]
    if not ours.ok or not naive.ok:
        return Target(promise, "–", None, "a variant did not complete")
    rows = ctx.config.rows

    def rate(spread: Spread) -> float:
        return rows / spread.median if spread.median else 0.0

    ours_rate, naive_rate = rate(ours.seconds), rate(naive.seconds)
    share = ours_rate / naive_rate if naive_rate else 0.0
    measured = f"{ours_rate:,.0f} vs {naive_rate:,.0f} rows/s ({share:.0%} of naive)"
    why = "" if share >= 0.5 else (
        f"each batch of {BATCH:,} rows is two statements and a commit (a WAL flush) of its "
        "own; smaller batches keep row locks short for the writer but pay that per batch"
    )  # fmt: skip
    return Target(promise, measured, share >= 0.5, why)
