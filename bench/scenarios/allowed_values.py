"""2. Change a column's allowed values: ours, naive drop-and-add, and native ENUM ways.

The naive way drops the CHECK and adds the new one validated, in one transaction:
a full scan under ACCESS EXCLUSIVE. A native ENUM offers two ways: converting the
column to a new type (``ALTER COLUMN … TYPE``: a rewrite of the whole table and its
indexes under ACCESS EXCLUSIVE, and the only way to remove or rename a value) and
``ALTER TYPE … ADD VALUE`` (instant, but it can only add). ``op.alter_choices``
swaps the CHECK with a ``NOT VALID`` one and validates it separately.
"""

from __future__ import annotations

import itertools

from app.models.notification_campaigns import CAMPAIGN_TYPES
from bench import comparison, db, versus
from bench.context import Context
from bench.house import HouseOps
from bench.results import Section
from conventions import logs

NUMBER = 2
TITLE = "Change a column's allowed values"

COLUMN = "campaign_type"
CONSTRAINT = f"ck_{db.TABLE}_{COLUMN}"
ENUM_TYPE = "campaign_type_enum"


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _restore_check() -> list[str]:
    """Put back the original CHECK without blocking the writer (the reset is untimed)."""
    return [
        f"ALTER TABLE {db.TABLE} DROP CONSTRAINT IF EXISTS {CONSTRAINT}",
        f"ALTER TABLE {db.TABLE} ADD CONSTRAINT {CONSTRAINT} "
        f"CHECK ({COLUMN} IN ({_in(CAMPAIGN_TYPES)})) NOT VALID",
    ]


def _naive_sql(values: tuple[str, ...]) -> list[str]:
    return [
        f"ALTER TABLE {db.TABLE} DROP CONSTRAINT {CONSTRAINT}",
        f"ALTER TABLE {db.TABLE} ADD CONSTRAINT {CONSTRAINT} CHECK ({COLUMN} IN ({_in(values)}))",
    ]


def _to_enum_sql(values: tuple[str, ...]) -> list[str]:
    return [
        f"CREATE TYPE {ENUM_TYPE} AS ENUM ({_in(values)})",
        f"ALTER TABLE {db.TABLE} DROP CONSTRAINT {CONSTRAINT}",
        f"ALTER TABLE {db.TABLE} ALTER COLUMN {COLUMN} TYPE {ENUM_TYPE} "
        f"USING {COLUMN}::{ENUM_TYPE}",
    ]


def _back_to_varchar_sql() -> list[str]:
    return [
        f"ALTER TABLE {db.TABLE} ALTER COLUMN {COLUMN} TYPE varchar(50) USING {COLUMN}::text",
        f"DROP TYPE IF EXISTS {ENUM_TYPE}",
    ]


def run(ctx: Context) -> Section:
    url, _writer = ctx.big_table()
    house = HouseOps(db.engine(url))
    counter = itertools.count(1)

    def with_new_value() -> tuple[str, ...]:
        return (*CAMPAIGN_TYPES, f"extra_{next(counter)}")

    def reset_check() -> None:
        house.execute(_restore_check())
        house.autocommit([f"ALTER TABLE {db.TABLE} VALIDATE CONSTRAINT {CONSTRAINT}"])

    def reset_enum() -> None:
        house.execute([*_back_to_varchar_sql(), *_restore_check()])
        house.autocommit([f"ALTER TABLE {db.TABLE} VALIDATE CONSTRAINT {CONSTRAINT}"])

    def ours() -> None:
        with house.migration() as op:
            op.alter_choices(db.TABLE, COLUMN, list(with_new_value()))

    def add_value() -> None:
        house.autocommit([f"ALTER TYPE {ENUM_TYPE} ADD VALUE 'extra_{next(counter)}'"])

    try:
        rewrite_repeats = min(ctx.config.rewrite_repeats, ctx.config.repeats)
        variants = versus.ours_and_naive(
            house,
            operation="alter_choices",
            ours=ours,
            ours_label="**ours**: `op.alter_choices` (CHECK swapped NOT VALID, then VALIDATE)",
            naive=lambda: house.execute(_naive_sql(with_new_value())),
            naive_label="naive: DROP CONSTRAINT + ADD CONSTRAINT CHECK in one transaction",
            reset=reset_check,
        )
        variants.append(
            comparison.Variant(
                "enum-rewrite",
                "native ENUM: `ALTER COLUMN … TYPE` (table rewrite)",
                lambda: house.execute(_to_enum_sql(with_new_value())),
                reset_enum,
                repeats=rewrite_repeats,
                short="ENUM rewrite",
            )
        )
        results = comparison.interleave(ctx, variants)
        logs.info("    converting the column to a native ENUM for ALTER TYPE … ADD VALUE (untimed)")
        house.execute(_to_enum_sql(CAMPAIGN_TYPES))
        add = comparison.Variant(
            "enum-add-value",
            "native ENUM: `ALTER TYPE … ADD VALUE` (add only; cannot remove or rename)",
            add_value,
            short="ENUM ADD VALUE",
        )
        results |= comparison.interleave(ctx, [add])
        reset_enum()
        variants.append(add)
    finally:
        house.close()
    section = comparison.section(
        ctx,
        number=NUMBER,
        key="2-change-allowed-values",
        title=TITLE,
        how=(
            f"Allows one more value in `{COLUMN}` (six values, set on every one of the "
            f"{ctx.config.rows:,} rows). Naive drop-and-add:\n\n```sql\n"
            + ";\n".join(_naive_sql((*CAMPAIGN_TYPES, "extra_1")))
            + ";\n```\n\nNative ENUM conversion (the ENUM way to change values other than by "
            "appending):\n\n```sql\n"
            + ";\n".join(_to_enum_sql((*CAMPAIGN_TYPES, "extra_1")))
            + f";\n```\n\nand, once the column is an ENUM, `ALTER TYPE {ENUM_TYPE} ADD VALUE "
            "'extra_N'` in autocommit."
        ),
        variants=variants,
        results=results,
        headlines=[
            ("change allowed values: writer's worst statement", "ours", "naive"),
            ("change allowed values: writer's worst statement", "ours", "enum-rewrite"),
            ("change allowed values: writer's worst statement", "ours", "enum-add-value"),
        ],
        targets=[("`op.alter_choices`", "ours")],
    )
    section.notes.append(
        "`ALTER TYPE … ADD VALUE` is the one ENUM change as cheap as ours: it only touches the "
        "catalog. It is also the only cheap one: removing, renaming or reordering a value "
        "needs the conversion above (a new type and a rewrite of every row under ACCESS "
        "EXCLUSIVE), while `op.alter_choices` does all of those the same way it adds a value."
    )
    return section
