"""Which dotted names are SQLAlchemy Enum types, and which are Python enums.

The static pass never imports SQLAlchemy; it compares the dotted name an
expression resolves to (through the file's imports) against this table. A test
walks the installed SQLAlchemy and fails if a public Enum spelling is missing.
"""

from __future__ import annotations

# dotted name -> code (HSE001 generic Enum, HSE002 a dialect's ENUM)
ENUM_TYPES: dict[str, str] = {
    "sqlalchemy.Enum": "HSE001",
    "sqlalchemy.types.Enum": "HSE001",
    "sqlalchemy.sql.sqltypes.Enum": "HSE001",
    "sqlalchemy.dialects.postgresql.ENUM": "HSE002",
    "sqlalchemy.dialects.postgresql.base.ENUM": "HSE002",
    "sqlalchemy.dialects.postgresql.named_types.ENUM": "HSE002",
    "sqlalchemy.dialects.postgresql.asyncpg.ENUM": "HSE002",
    "sqlalchemy.dialects.postgresql.asyncpg.AsyncPgEnum": "HSE002",
    "sqlalchemy.dialects.postgresql.pg8000.ENUM": "HSE002",
    "sqlalchemy.dialects.postgresql.pg8000._PGEnum": "HSE002",
    "sqlalchemy.dialects.mysql.ENUM": "HSE002",
    "sqlalchemy.dialects.mysql.base.ENUM": "HSE002",
    "sqlalchemy.dialects.mysql.base.MSEnum": "HSE002",
    "sqlalchemy.dialects.mysql.enumerated.ENUM": "HSE002",
    "sqlalchemy.dialects.mysql.reflection.ENUM": "HSE002",
    "sqlalchemy.dialects.oracle.cx_oracle._OracleEnum": "HSE002",
    # SQLModel re-exports SQLAlchemy's types: ``from sqlmodel import Enum``.
    "sqlmodel.Enum": "HSE001",
    "sqlmodel.sql.sqltypes.Enum": "HSE001",
}

# What a star import of these modules binds, for the few names that matter.
STAR_EXPORTS: dict[str, frozenset[str]] = {
    "sqlalchemy": frozenset({"Enum"}),
    "sqlalchemy.types": frozenset({"Enum"}),
    "sqlalchemy.sql.sqltypes": frozenset({"Enum"}),
    "sqlalchemy.dialects.postgresql": frozenset({"ENUM"}),
    "sqlalchemy.dialects.mysql": frozenset({"ENUM"}),
    "sqlmodel": frozenset({"Enum"}),
    "enum": frozenset({"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag"}),
}

# The final attribute of every entry above: a file whose text holds none of these
# words cannot reference an Enum through a module alias.
LEAF_NAMES: frozenset[str] = frozenset(name.rpartition(".")[2] for name in ENUM_TYPES)

# Every module on the way to an Enum type ("sqlalchemy", "sqlalchemy.dialects", ...):
# binding one of these makes ``alias.….Enum`` reachable.
MODULE_PREFIXES: frozenset[str] = frozenset(
    name.rsplit(".", depth)[0] for name in ENUM_TYPES for depth in range(1, name.count(".") + 1)
)

# Python enum bases: SQLAlchemy maps any subclass (IntEnum, StrEnum, Flag too) to Enum.
PY_ENUM_BASES: frozenset[str] = frozenset(
    f"enum.{name}" for name in ("Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "ReprEnum")
)

LITERAL_NAMES: frozenset[str] = frozenset({"typing.Literal", "typing_extensions.Literal"})
OPTIONAL_NAMES: frozenset[str] = frozenset({"typing.Optional", "typing_extensions.Optional"})
UNION_NAMES: frozenset[str] = frozenset({"typing.Union", "typing_extensions.Union"})
ANNOTATED_NAMES: frozenset[str] = frozenset({"typing.Annotated", "typing_extensions.Annotated"})

# mapped_column() positional arguments that are not a column type. A ForeignKey
# counts as explicit: the column then takes the referenced column's type.
NOT_A_TYPE: frozenset[str] = frozenset(
    {"Sequence", "Identity", "Computed", "FetchedValue", "DefaultClause", "CheckConstraint"}
)

# Modules whose names are never a project's Enum spelling: an import from them is
# answered by the tables above, without looking for a project module of that name.
EXTERNAL_HEADS: frozenset[str] = frozenset(
    {
        "__future__",
        "alembic",
        "collections",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "functools",
        "json",
        "os",
        "pydantic",
        "re",
        "sqlalchemy",
        "sqlmodel",
        "sys",
        "typing",
        "typing_extensions",
        "uuid",
    }
)

# Alembic helper plugins whose ops create or change a native ENUM's values
# (alembic-postgresql-enum's op.sync_enum_values and kin): HSE014.
ENUM_OPS: frozenset[str] = frozenset(
    {"sync_enum_values", "add_enum_value", "rename_enum_value", "create_enum", "alter_enum"}
)
ENUM_HELPER_CLASSES: frozenset[str] = frozenset({"alembic_enums.EnumMigration"})
