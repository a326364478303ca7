"""A house op against the naive migration, on the big table: the shape most measurements share.

Each DDL measurement opens the house ``op`` on the busy table, builds two variants
(the house op, unavailable when this checkout lacks it, and the hand-written SQL a
team without the conventions would run), interleaves them and writes the section
up. Measurements with extra variants or notes (index, allowed values, backfill) use
:func:`house_on` and :func:`ours_and_naive` and add their own; the plain ones
(choice column, NOT NULL, UNIQUE) are one :func:`measure` call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from bench import comparison, db
from bench.context import Context
from bench.house import HouseOps
from bench.results import Section


@contextmanager
def house_on(ctx: Context) -> Iterator[HouseOps]:
    """The house ``op`` on the big table's database, closed after the block."""
    url, _writer = ctx.big_table()
    house = HouseOps(db.engine(url))
    try:
        yield house
    finally:
        house.close()


def ours_and_naive(
    house: HouseOps,
    *,
    operation: str,
    ours: Callable[[], None],
    ours_label: str,
    naive: Callable[[], None] | Sequence[str],
    naive_label: str,
    reset: Callable[[], None] | None,
    repeats: int | None = None,
) -> list[comparison.Variant]:
    """Return the "ours" and "naive" variants; ours is not run when ``op.<operation>`` is missing.

    ``naive`` is either a callable or the statements to run in one transaction.
    """
    if callable(naive):
        run_naive = naive
    else:
        statements = list(naive)

        def run_naive() -> None:
            house.execute(statements)

    missing = f"op.{operation} is not in this checkout" if house.missing(operation) else None
    return [
        comparison.Variant("ours", ours_label, ours, reset, repeats=repeats, unavailable=missing),
        comparison.Variant("naive", naive_label, run_naive, reset, repeats=repeats),
    ]


def measure(
    ctx: Context,
    *,
    number: int,
    key: str,
    title: str,
    how: str,
    operation: str,
    call: Callable[[Any], None],
    reset_sql: Sequence[str],
    ours_label: str,
    naive_sql: Sequence[str],
    naive_label: str,
    headline: str,
) -> Section:
    """Measure ``call(op)`` (one revision) against ``naive_sql`` (one transaction).

    ``reset_sql`` puts the table back, untimed, before the first trial and after each.
    """
    with house_on(ctx) as house:

        def ours() -> None:
            with house.migration() as op:
                call(op)

        def reset() -> None:
            house.execute(list(reset_sql))

        reset()
        variants = ours_and_naive(
            house,
            operation=operation,
            ours=ours,
            ours_label=ours_label,
            naive=naive_sql,
            naive_label=naive_label,
            reset=reset,
        )
        results = comparison.interleave(ctx, variants)
    return comparison.section(
        ctx,
        number=number,
        key=key,
        title=title,
        how=how,
        variants=variants,
        results=results,
        headlines=[(f"{headline}: writer's worst statement", "ours", "naive")],
        targets=[(f"`op.{operation}`", "ours")],
    )
