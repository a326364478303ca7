"""Fast lookups in ``pg_catalog`` for the house operations' "is it already there?" checks.

Every house op asks before it acts, so these run on every migration step: each is
one round trip of an indexed catalog query (``to_regclass`` plus a primary-key probe),
a few tens of microseconds on the server, where SQLAlchemy's inspector would issue
several queries and build reflection objects. Names are passed as bound parameters;
the only text built here is a quoted identifier (:mod:`conventions.db.sqltext`).

The value-set parser lives in :mod:`conventions.db.check_parser` and is re-exported
here because reading a CHECK back is half of comparing one. Questions about the
rows rather than the schema (how many would a change break?) live in
:mod:`conventions.db.preflight`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from conventions.db.check_parser import ChoiceCheck, parse_choice_check, parse_literal
from conventions.db.sqltext import ident, qualified

__all__ = [
    "ChoiceCheck",
    "ColumnInfo",
    "ConstraintInfo",
    "ForeignKeyInfo",
    "IndexInfo",
    "Lookup",
    "TableInfo",
    "column",
    "columns",
    "comment",
    "constraint",
    "constraint_columns",
    "constraints",
    "foreign_key",
    "index",
    "indexes",
    "lookup",
    "parse_choice_check",
    "parse_literal",
    "table",
]


@dataclass(frozen=True)
class TableInfo:
    oid: int
    name: str
    schema: str
    created_in_transaction: bool
    """True when this transaction created the table: nobody else can see it yet."""


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    """``format_type`` text, e.g. ``character varying(20)``."""
    varchar_length: int | None
    """n of ``character varying(n)``; None for any other type or an unbounded varchar."""
    is_varchar: bool
    not_null: bool
    default: str | None
    comment: str | None

    def render(self) -> str:
        parts = [f"{ident(self.name)} {self.type}"]
        if self.default is not None:
            parts.append(f"DEFAULT {self.default}")
        parts.append("NOT NULL" if self.not_null else "NULL")
        if self.comment is not None:
            parts.append(f"COMMENT {self.comment!r}")
        return " ".join(parts)


@dataclass(frozen=True)
class ConstraintInfo:
    name: str
    kind: str
    """``pg_constraint.contype``: c check, f foreign key, u unique, p primary key, x exclusion."""
    definition: str
    """``pg_get_constraintdef`` without the trailing ``NOT VALID``."""
    validated: bool
    standard_conforming_strings: bool

    def choice(self) -> ChoiceCheck | None:
        """The column and value set, if this is a plain value-set CHECK."""
        if self.kind != "c":
            return None
        return parse_choice_check(
            self.definition, standard_conforming_strings=self.standard_conforming_strings
        )

    def render(self) -> str:
        return self.definition + ("" if self.validated else " NOT VALID")


@dataclass(frozen=True)
class ForeignKeyInfo:
    columns: tuple[str, ...]
    referred_oid: int
    referred_columns: tuple[str, ...]
    on_update: str
    on_delete: str
    match: str
    deferrable: bool
    initially_deferred: bool


@dataclass(frozen=True)
class IndexInfo:
    name: str
    table_oid: int
    definition: str
    valid: bool
    unique: bool
    constraint: str | None
    """The constraint the index backs (unique / primary key), if any."""

    @property
    def body(self) -> str:
        """The definition from ``USING`` on: what the index is, whatever it is called."""
        return self.definition[self.definition.index(" USING ") + 1 :]


def _one(conn: Connection, sql: str, params: dict[str, object]) -> tuple | None:
    row = conn.exec_driver_sql(sql, params).first()
    return tuple(row) if row is not None else None


_TABLE_FIELDS = (
    "c.oid, c.relname, c.relnamespace::regnamespace::text,"
    " (SELECT a.xmin FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum = -1)"
    " = pg_current_xact_id_if_assigned()::xid"
)
_TABLE_FROM = "FROM pg_class c WHERE c.oid = to_regclass(%(rel)s) AND c.relkind IN ('r', 'p')"


def _table(row: tuple) -> TableInfo:
    return TableInfo(oid=row[0], name=row[1], schema=row[2], created_in_transaction=bool(row[3]))


def table(conn: Connection, name: str, *, schema: str | None = None) -> TableInfo | None:
    """Return the table (resolved like DDL would: search_path when unqualified), or None.

    ``created_in_transaction`` compares the xmin of the table's ``ctid`` row in
    ``pg_attribute`` — written once, when the table is created, and never updated by
    later ALTERs (unlike its ``pg_class`` row) — with this transaction's id.
    """
    row = _one(conn, f"SELECT {_TABLE_FIELDS} {_TABLE_FROM}", {"rel": qualified(name, schema)})
    return _table(row) if row is not None else None


# 1043 is varchar's fixed OID (pg_type.dat); a literal spares the planner a regtype cast.
_COLUMN_FIELDS = (
    "a.attname, format_type(a.atttypid, a.atttypmod),"
    " CASE WHEN a.atttypid = 1043 AND a.atttypmod > 0 THEN a.atttypmod - 4 END,"
    " a.atttypid = 1043, a.attnotnull,"
    " CASE WHEN a.atthasdef THEN (SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d"
    " WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum) END,"
    " col_description(a.attrelid, a.attnum)"
)
_COLUMNS = (
    f"SELECT {_COLUMN_FIELDS} FROM pg_attribute a"
    " WHERE a.attrelid = %(oid)s AND a.attnum > 0 AND NOT a.attisdropped"
)


def column(conn: Connection, table_oid: int, name: str) -> ColumnInfo | None:
    """Return one column's definition as PostgreSQL formats it, or None."""
    row = _one(conn, _COLUMNS + " AND a.attname = %(name)s", {"oid": table_oid, "name": name})
    return ColumnInfo(*row) if row is not None else None


def columns(conn: Connection, table_oid: int) -> dict[str, ColumnInfo]:
    """Return every column of a table, in order."""
    rows = conn.exec_driver_sql(_COLUMNS + " ORDER BY a.attnum", {"oid": table_oid})
    return {row[0]: ColumnInfo(*row) for row in rows}


_CONSTRAINT_FIELDS = (
    "k.conname, k.contype::text, pg_get_constraintdef(k.oid), k.convalidated,"
    " current_setting('standard_conforming_strings') = 'on'"
)
_CONSTRAINTS = f"SELECT {_CONSTRAINT_FIELDS} FROM pg_constraint k WHERE k.conrelid = %(oid)s"


def _constraint(row: tuple) -> ConstraintInfo:
    name, kind, definition, validated, standard = row
    if definition.endswith(" NOT VALID"):
        definition = definition[: -len(" NOT VALID")]
    return ConstraintInfo(name, kind, definition, validated, standard)


def constraint(conn: Connection, table_oid: int, name: str) -> ConstraintInfo | None:
    """Return a table's constraint by name, or None."""
    row = _one(conn, _CONSTRAINTS + " AND k.conname = %(name)s", {"oid": table_oid, "name": name})
    return _constraint(row) if row is not None else None


def constraints(conn: Connection, table_oid: int) -> dict[str, ConstraintInfo]:
    """Return every constraint of a table (NOT NULL ones excluded), by name."""
    rows = conn.exec_driver_sql(_CONSTRAINTS + " AND k.contype <> 'n'", {"oid": table_oid})
    return {row[0]: _constraint(tuple(row)) for row in rows}


@dataclass(frozen=True)
class Lookup:
    """A table and, if asked for, one of its columns and one of its constraints."""

    table: TableInfo | None
    column: ColumnInfo | None
    constraint: ConstraintInfo | None


# One statement, prepared once per session: planning this three-way join costs more
# than running it (≈0.3 ms against ≈0.1 ms), and it runs before every house op.
_LOOKUP = "house_catalog_lookup"
_LOOKUP_SQL = (
    f"PREPARE {_LOOKUP} (text, name, name) AS"
    f" SELECT {_TABLE_FIELDS}, col.*, con.* FROM pg_class c"
    f" LEFT JOIN LATERAL (SELECT {_COLUMN_FIELDS} FROM pg_attribute a"
    " WHERE a.attrelid = c.oid AND a.attname = $2 AND a.attnum > 0"
    " AND NOT a.attisdropped) col ON true"
    f" LEFT JOIN LATERAL (SELECT {_CONSTRAINT_FIELDS} FROM pg_constraint k"
    " WHERE k.conrelid = c.oid AND k.conname = $3) con ON true"
    " WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')"
)


def lookup(
    conn: Connection,
    name: str,
    *,
    schema: str | None = None,
    column: str | None = None,
    constraint: str | None = None,
) -> Lookup:
    """Return :func:`table`, :func:`column` and :func:`constraint` in one round trip.

    The idempotency check of most house ops asks exactly these three questions. The
    statement is prepared on first use in each database session (a prepared
    statement outlives a rollback, and is re-planned by the server after DDL), which
    assumes a session of its own — as the migrator lock and session settings do too.
    """
    if not conn.info.get(_LOOKUP):
        conn.exec_driver_sql(_LOOKUP_SQL)
        conn.info[_LOOKUP] = True
    row = _one(
        conn,
        f"EXECUTE {_LOOKUP} (%(rel)s, %(column)s, %(constraint)s)",
        {"rel": qualified(name, schema), "column": column, "constraint": constraint},
    )
    if row is None:
        return Lookup(None, None, None)
    found_column, found_constraint = row[4:11], row[11:]
    return Lookup(
        _table(row[:4]),
        ColumnInfo(*found_column) if found_column[0] is not None else None,
        _constraint(found_constraint) if found_constraint[0] is not None else None,
    )


def constraint_columns(conn: Connection, table_oid: int, name: str) -> tuple[str, ...]:
    """Return the columns a constraint reads (``conkey``), in table order."""
    row = _one(
        conn,
        "SELECT ARRAY(SELECT a.attname::text FROM pg_constraint c JOIN pg_attribute a"
        " ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)"
        " WHERE c.conrelid = %(oid)s AND c.conname = %(name)s ORDER BY a.attnum)",
        {"oid": table_oid, "name": name},
    )
    return tuple(row[0]) if row is not None else ()


def foreign_key(conn: Connection, table_oid: int, name: str) -> ForeignKeyInfo | None:
    """Return the structure of a foreign key (columns by name, actions as letters), or None."""
    row = _one(
        conn,
        "SELECT ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(n, i)"
        " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),"
        " c.confrelid::int,"
        " ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(n, i)"
        " JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i),"
        " c.confupdtype::text, c.confdeltype::text, c.confmatchtype::text,"
        " c.condeferrable, c.condeferred"
        " FROM pg_constraint c"
        " WHERE c.conrelid = %(oid)s AND c.conname = %(name)s AND c.contype = 'f'",
        {"oid": table_oid, "name": name},
    )
    if row is None:
        return None
    return ForeignKeyInfo(tuple(row[0]), row[1], tuple(row[2]), *row[3:])


_INDEXES = (
    "SELECT c.relname, i.indrelid::int, pg_get_indexdef(i.indexrelid), i.indisvalid,"
    " i.indisunique, CASE WHEN i.indisunique OR i.indisexclusion THEN"
    " (SELECT conname FROM pg_constraint WHERE conrelid = i.indrelid"
    " AND conindid = i.indexrelid AND contype IN ('p', 'u', 'x') LIMIT 1) END"
    " FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid"
)


def index(conn: Connection, name: str, *, schema: str | None = None) -> IndexInfo | None:
    """Return an index by name (resolved like DDL would), or None."""
    row = _one(
        conn, _INDEXES + " WHERE c.oid = to_regclass(%(rel)s)", {"rel": qualified(name, schema)}
    )
    return IndexInfo(*row) if row is not None else None


def indexes(conn: Connection, table_oid: int) -> dict[str, IndexInfo]:
    """Return every index of a table, including those backing constraints, by name."""
    rows = conn.exec_driver_sql(_INDEXES + " WHERE i.indrelid = %(oid)s", {"oid": table_oid})
    return {row[0]: IndexInfo(*row) for row in rows}


def comment(conn: Connection, table_oid: int, column_name: str | None = None) -> str | None:
    """Return the comment on a table, or on one of its columns."""
    if column_name is None:
        row = _one(conn, "SELECT obj_description(%(oid)s, 'pg_class')", {"oid": table_oid})
    else:
        row = _one(
            conn,
            "SELECT col_description(attrelid, attnum) FROM pg_attribute"
            " WHERE attrelid = %(oid)s AND attname = %(name)s AND NOT attisdropped",
            {"oid": table_oid, "name": column_name},
        )
    return row[0] if row else None
