"""Put rows in front of every migration: the project's seed set, and generated rows.

A migration that only ever ran on empty tables has not been tested: adding a NOT
NULL column, a CHECK or a unique index is easy on no rows. The harness therefore
fills each table as it appears in the history with the project's small seed data
set (realistic values, quotes, unicode) and, for every table at every revision,
one generated row with a value in every column, so columns added later carry data
into the migrations that follow. Generation is best effort: a row the schema
rejects (an unusual CHECK, a foreign key with nothing to point at) is skipped and
reported, never forced.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from conventions.errors import ConventionsError
from conventions.harness.tables import Column, Table, insertion_order, read_tables

#: table name (``table`` or ``schema.table``) -> rows (column -> value)
SeedRows = Mapping[str, Sequence[Mapping[str, object]]]


class SeedRowRejected(ConventionsError):
    """A row of the project's seed data set does not fit the schema it was inserted into."""

    def __init__(self, message: str, *, table: str, row: Mapping[str, object]) -> None:
        self.table = table
        self.row = dict(row)
        super().__init__(
            message,
            hints=["Fix the row in the seed data set (values must satisfy every constraint)."],
        )


@dataclass
class Seeder:
    """Fill tables as the history creates them; remembers what it already seeded."""

    seed_rows: SeedRows = field(default_factory=dict)
    seeded: set[str] = field(default_factory=set)
    skipped: dict[str, str] = field(default_factory=dict)  # table -> why no generated row
    ordinal: int = 9000

    def fill(self, connection: Connection) -> int:
        """Insert seed rows for new tables and one generated row per table; return the count."""
        inserted = 0
        for table in insertion_order(read_tables(connection)):
            if table.qualified not in self.seeded:
                self.seeded.add(table.qualified)
                for row in self._rows_for(table):
                    _insert_seed_row(connection, table, row, self._next())
                    inserted += 1
                _advance_sequences(connection, table)
            if self._insert_generated(connection, table):
                inserted += 1
        connection.commit()
        return inserted

    def _rows_for(self, table: Table) -> Sequence[Mapping[str, object]]:
        return self.seed_rows.get(table.qualified) or (
            self.seed_rows.get(table.name, ()) if table.schema == "public" else ()
        )

    def _next(self) -> int:
        self.ordinal += 1
        return self.ordinal

    def _insert_generated(self, connection: Connection, table: Table) -> bool:
        n = self._next()
        full = {}
        for column in table.columns:
            value = generated_value(connection, table, column, n)
            full[column.name] = None if value is _IMPOSSIBLE and column.nullable else value
        required = {
            c.name: full[c.name] for c in table.columns if not (c.nullable or c.has_default)
        }
        last_error = ""
        for candidate in (full, required):
            values = {k: v for k, v in candidate.items() if not _automatic(table, k)}
            if any(v is _IMPOSSIBLE for v in values.values()):
                last_error = "a required column has no value the harness can generate"
                continue
            try:
                with connection.begin_nested():
                    _insert(connection, table, values)
                self.skipped.pop(table.qualified, None)
                return True
            except DBAPIError as err:
                last_error = str(err.orig).strip().splitlines()[0]
        self.skipped[table.qualified] = last_error
        return False


_IMPOSSIBLE = object()


def _automatic(table: Table, name: str) -> bool:
    column = table.column(name)
    return column is not None and column.automatic


def _insert_seed_row(
    connection: Connection, table: Table, row: Mapping[str, object], ordinal: int
) -> None:
    values = {k: v for k, v in row.items() if table.column(k) is not None}
    for column in table.columns:
        if column.name not in values and not (
            column.nullable or column.has_default or column.automatic
        ):
            values[column.name] = generated_value(connection, table, column, ordinal)
    try:
        with connection.begin_nested():
            _insert(connection, table, values, override=True)
    except DBAPIError as err:
        raise SeedRowRejected(
            f"Seed row for {table.qualified} was rejected: {str(err.orig).strip()}",
            table=table.qualified,
            row=row,
        ) from err


def _insert(
    connection: Connection, table: Table, values: Mapping[str, object], *, override: bool = False
) -> None:
    if not values:
        connection.execute(text(f"INSERT INTO {table.sql_name} DEFAULT VALUES"))
        return
    names = list(values)
    columns = ", ".join(_quote(n) for n in names)
    params = ", ".join(f":p{i}" for i in range(len(names)))
    identity = override and any(c.automatic for c in table.columns if c.name in values)
    overriding = " OVERRIDING SYSTEM VALUE" if identity else ""
    connection.execute(
        text(f"INSERT INTO {table.sql_name} ({columns}){overriding} VALUES ({params})"),
        {f"p{i}": values[n] for i, n in enumerate(names)},
    )


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _advance_sequences(connection: Connection, table: Table) -> None:
    """Move serial/identity sequences past explicit ids, so later inserts never collide."""
    for column in table.columns:
        if not column.automatic or column.type not in ("smallint", "integer", "bigint"):
            continue
        highest = f"(SELECT max({_quote(column.name)}) FROM {table.sql_name})"
        connection.execute(
            text(
                f"SELECT setval(seq::regclass, greatest({highest}, 1)) FROM "
                "(SELECT pg_get_serial_sequence(:tbl, :col) AS seq) s WHERE seq IS NOT NULL"
            ),
            {"tbl": table.sql_name, "col": column.name},
        )


def generated_value(connection: Connection, table: Table, column: Column, n: int) -> object:
    """Return a value of ``column``'s type that its constraints are likely to accept."""
    for fk in table.foreign_keys:
        if column.name in fk.columns:
            return _referenced(
                connection, fk.target, fk.target_columns[fk.columns.index(column.name)]
            )
    if column.choices:
        return column.choices[n % len(column.choices)]
    return _by_type(column.type, f"{table.name}.{column.name}", n)


def _referenced(connection: Connection, target: str, column: str) -> object:
    schema, name = target.split(".", 1)
    value = connection.execute(
        text(f"SELECT {_quote(column)} FROM {_quote(schema)}.{_quote(name)} ORDER BY 1 LIMIT 1")
    ).scalar()
    return _IMPOSSIBLE if value is None else value


_EPOCH = dt.datetime(2025, 1, 15, 10, 0, 0)


def _by_type(kind: str, label: str, n: int) -> object:
    base = kind.split("(")[0].strip()
    if kind.endswith("[]"):
        return []
    if base in ("smallint", "integer", "bigint"):
        return n % 30000
    if base == "numeric":
        return _numeric(kind)
    if base in ("real", "double precision"):
        return 1.5
    if base == "boolean":
        return True
    if base in ("text", "character varying", "character", "citext"):
        return _text(kind, label, n)
    if base == "date":
        return _EPOCH.date() + dt.timedelta(days=n % 365)
    if base == "timestamp without time zone":
        return _EPOCH + dt.timedelta(minutes=n)
    if base == "timestamp with time zone":
        return (_EPOCH + dt.timedelta(minutes=n)).replace(tzinfo=dt.UTC)
    if base.startswith("time"):
        return dt.time(10, n % 60)
    if base == "interval":
        return dt.timedelta(days=1)
    if base == "uuid":
        return str(uuid.UUID(int=n))  # untyped literals: PostgreSQL casts to the column type
    if base in ("json", "jsonb"):
        return f'{{"generated": {n}}}'
    return _IMPOSSIBLE


def _numeric(kind: str) -> object:
    from decimal import Decimal

    if "(" not in kind:
        return Decimal("1.5")
    precision, _, scale = kind[kind.index("(") + 1 : -1].partition(",")
    whole = int(precision) - int(scale or 0)
    return Decimal("1.5") if whole >= 1 else Decimal(0)


def _text(kind: str, label: str, n: int) -> str:
    suffix = f" {n}"
    value = f"generated {label}{suffix}"
    limit = int(kind[kind.index("(") + 1 : -1]) if "(" in kind else len(value)
    if len(value) > limit:  # keep the number: it is what keeps unique columns unique
        value = (value[: max(limit - len(suffix), 0)] + suffix)[-limit:]
    return value
