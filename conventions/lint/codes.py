"""The one table of lint codes: stable, never reused, each with why it exists.

A code names a condition, not a check: ``# noqa: HSE005`` written today must mean
the same thing in five years, so a retired code stays here marked retired and a
new condition always gets the next number.
"""

from __future__ import annotations

from dataclasses import dataclass

PREFIX = "HSE"


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    rationale: str
    retired: bool = False


RULES: tuple[Rule, ...] = (
    Rule(
        "HSE001",
        "sqlalchemy Enum type",
        "A native ENUM cannot drop a value and changes by ALTER TYPE; house choices are "
        "VARCHAR + a named CHECK (conventions.Choice).",
    ),
    Rule(
        "HSE002",
        "dialect ENUM type (postgresql.ENUM and kin)",
        "postgresql.ENUM is CREATE TYPE ... AS ENUM by another name; same fix as HSE001.",
    ),
    Rule(
        "HSE003",
        "Enum(native_enum=False)",
        "Not a native type, but it stores member names behind an unnamed CHECK; "
        "Choice stores the values under the house constraint name.",
    ),
    Rule(
        "HSE004",
        "Enum in type_annotation_map",
        "One entry turns every Mapped[...] of that Python type into an Enum, far from "
        "the columns it affects.",
    ),
    Rule(
        "HSE005",
        "implicit Enum from Mapped[PyEnum]",
        "SQLAlchemy 2 makes a native ENUM for Mapped[X] when X is an enum.Enum and no "
        "column type is given; nothing in the line says ENUM.",
    ),
    Rule(
        "HSE006",
        "implicit Enum from Mapped[Literal[...]]",
        "SQLAlchemy 2 makes an Enum (names, unnamed CHECK) for Mapped[Literal[...]] "
        "with no column type.",
    ),
    Rule(
        "HSE007",
        "CREATE TYPE ... AS ENUM in SQL",
        "Raw SQL is the last way to make a native ENUM once the Python spellings are closed.",
    ),
    Rule(
        "HSE008",
        "file does not parse",
        "A file the lint cannot read could hide anything; it fails instead of passing silently.",
    ),
    Rule(
        "HSE009",
        "Enum column in the model metadata",
        "The run-time check: catches Enums built by helper functions that no static "
        "reading can see.",
    ),
    Rule(
        "HSE010",
        "applied migration edited",
        "Databases that already ran a migration never run it again; an edit forks "
        "their schema from new ones. Write a new migration.",
    ),
    Rule(
        "HSE011",
        "applied migration missing",
        "Deleting an applied migration strands every database whose alembic_version points at it.",
    ),
    Rule(
        "HSE012",
        "squawk finding on a revision's upgrade SQL (lint --squawk)",
        "Squawk knows PostgreSQL's locking hazards; the message names its rule, and "
        "'# squawk-ignore-file: rule  (reason)' in the migration is the opt-out.",
    ),
    Rule(
        "HSE013",
        "data-losing SQL or alter_column(type_=...) in downgrade()",
        "A rollback archives only what op.drop_column/op.drop_table drop; raw DROP, "
        "DELETE, TRUNCATE or a narrowing type change in downgrade() loses data silently.",
    ),
    Rule(
        "HSE014",
        "SQL or a helper op that extends or adopts a native ENUM",
        "ALTER TYPE ... ADD/RENAME VALUE, ALTER COLUMN ... TYPE <an enum type> and plugin ops "
        "such as op.sync_enum_values keep a legacy ENUM in use; the way out is converting the "
        "column to a Choice and changing values with op.alter_choices.",
    ),
)

BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}
