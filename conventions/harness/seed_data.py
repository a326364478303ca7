"""Put rows in front of every migration: the project's seed set, and generated rows.

A migration that only ever ran on empty tables has not been tested: adding a NOT
NULL column, a CHECK or a unique index is easy on no rows. The harness therefore
fills each table as it appears in the history with the project's small seed data
set (realistic values, quotes, unicode) and, for every table when it appears and
whenever its columns change, one generated row with a value in every column, so
columns added later carry data into the migrations that follow. Generation is
best effort: a row the schema rejects (an unusual CHECK, a foreign key with
nothing to point at) is skipped and reported, never forced. A table without a
primary key never gets a row identical to one it holds: a migration that
de-duplicates it must not look like it lost data.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from conventions.db import catalog
from conventions.db.sqltext import ident, qualified
from conventions.errors import ConventionsError
from conventions.harness.settings import HarnessSettings
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
    """Fill tables as the history creates and reshapes them; remembers what it filled.

    A table gets the project's seed rows when it first appears, and a generated row
    when it first appears and again whenever its columns change (so an added column
    carries a value into the migrations that follow). A table whose shape did not
    change gets nothing new: rows grow with the changes in the history, not with
    its length times its width, which keeps the climb linear. ``settings`` switches
    generated rows off, per table or for all, and shapes them (see
    :mod:`conventions.harness.settings`).
    """

    seed_rows: SeedRows = field(default_factory=dict)
    settings: HarnessSettings = field(default_factory=HarnessSettings)
    seeded: set[str] = field(default_factory=set)
    shapes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # table -> why no generated row
    ordinal: int = 9000
    inserted: int = 0  # rows the harness put in since the climb started

    def resume(self, connection: Connection, *, rung: int) -> None:
        """Continue from a database filled up to ``rung`` (a template another climb made)."""
        tables = read_tables(connection)
        self.seeded = set(tables)
        self.shapes = {name: _shape(table) for name, table in tables.items()}
        self.ordinal = _first_ordinal(rung)

    def fill(self, connection: Connection, *, rung: int | None = None) -> int:
        """Insert seed rows for new tables and a generated row per new or reshaped table.

        ``rung`` (the position in the history) fixes the generated values, so rows made
        by different workers climbing different stretches never collide. Return the
        number of rows inserted.
        """
        if rung is not None:
            self.ordinal = max(self.ordinal, _first_ordinal(rung))
        inserted = 0
        for table in insertion_order(read_tables(connection)):
            shape = _shape(table)
            changed = self.shapes.get(table.qualified) != shape
            self.shapes[table.qualified] = shape
            if table.qualified not in self.seeded:
                self.seeded.add(table.qualified)
                for row in self._rows_for(table):
                    _insert_seed_row(connection, table, row, self._next())
                    inserted += 1
                _advance_sequences(connection, table)
            if changed and self._insert_generated(connection, table):
                inserted += 1
        connection.commit()
        self.inserted += inserted
        return inserted

    def _rows_for(self, table: Table) -> Sequence[Mapping[str, object]]:
        return self.seed_rows.get(table.qualified) or (
            self.seed_rows.get(table.name, ()) if table.schema == "public" else ()
        )

    def _next(self) -> int:
        self.ordinal += 1
        return self.ordinal

    def _insert_generated(self, connection: Connection, table: Table) -> bool:
        if not self.settings.generates(table.schema, table.name):
            self.skipped[table.qualified] = "generated rows are switched off for this table"
            return False
        n = self._next()
        last_error = "a required column has no value the harness can generate"
        # Without a primary key identical rows are indistinguishable, and a migration that
        # de-duplicates them would look like data loss: try other referenced rows first.
        attempts = 1 if table.key else _DISTINCT_ATTEMPTS
        for attempt in range(attempts):
            candidates = self._candidates(connection, table, n, attempt)
            if not candidates:
                self.skipped[table.qualified] = "the project's row shaper returned None"
                return False
            for candidate in candidates:
                values = {k: v for k, v in candidate.items() if not _automatic(table, k)}
                if any(v is _IMPOSSIBLE for v in values.values()):
                    continue
                try:
                    with connection.begin_nested() as savepoint:
                        where = _insert(connection, table, values, returning=not table.key)
                        if where is not None and _duplicated(connection, table, where):
                            last_error = "every row it could generate duplicates one already there"
                            savepoint.rollback()
                            continue
                    self.skipped.pop(table.qualified, None)
                    return True
                except DBAPIError as err:
                    last_error = str(err.orig).strip().splitlines()[0]
        self.skipped[table.qualified] = last_error
        return False

    def _candidates(
        self, connection: Connection, table: Table, n: int, offset: int
    ) -> list[dict[str, object]]:
        """A row with a value in every column, then one with only the required ones."""
        rule = self.settings.rule(table.schema, table.name)
        referenced = _referenced_rows(connection, table, offset)
        full: dict[str, object] = {}
        for column in table.columns:
            if column.name in rule.values:
                value = rule.values[column.name]
            elif column.name in referenced:
                value = referenced[column.name]
            else:
                value = generated_value(connection, table, column, n)
            full[column.name] = None if value is _IMPOSSIBLE and column.nullable else value
        required = {
            c.name: full[c.name]
            for c in table.columns
            if not (c.nullable or c.has_default) or c.name in rule.values
        }
        rows = []
        for row in (full, required):
            if self.settings.shape is not None:
                shaped = self.settings.shape(table.qualified, dict(row))
                if shaped is None:
                    continue
                row = shaped
            rows.append(row)
        return rows


_DISTINCT_ATTEMPTS = 8


def _first_ordinal(rung: int) -> int:
    return 9000 + rung * 1000


def _shape(table: Table) -> tuple[str, ...]:
    return tuple(f"{c.name} {c.type} {c.nullable}" for c in table.columns)


def _referenced_rows(connection: Connection, table: Table, offset: int) -> dict[str, object]:
    """Pick one existing row per foreign key (the ``offset``-th, cycling), whole."""
    values: dict[str, object] = {}
    for fk in table.foreign_keys:
        if fk.target == table.qualified:
            continue  # a self-reference: leave it NULL (or to the generated value)
        schema, name = fk.target.split(".", 1)
        cols = ", ".join(ident(c) for c in fk.target_columns)
        source = qualified(name, schema)
        row = connection.execute(
            text(
                f"SELECT {cols} FROM {source} ORDER BY {cols} "
                f"OFFSET :k % greatest((SELECT count(*) FROM {source}), 1) LIMIT 1"
            ),
            {"k": offset},
        ).first()
        for column, target in zip(fk.columns, fk.target_columns, strict=True):
            values[column] = _IMPOSSIBLE if row is None else row[fk.target_columns.index(target)]
    return values


def _duplicated(connection: Connection, table: Table, ctid: str) -> bool:
    """Return True if the row just inserted at ``ctid`` equals another row of the table."""
    same = connection.execute(
        text(
            f"SELECT count(*) FROM {table.sql_name} x WHERE x::text = "
            f"(SELECT y::text FROM {table.sql_name} y WHERE y.ctid = CAST(:ctid AS tid))"
        ),
        {"ctid": ctid},
    ).scalar()
    return bool(same and same > 1)


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
    connection: Connection,
    table: Table,
    values: Mapping[str, object],
    *,
    override: bool = False,
    returning: bool = False,
) -> str | None:
    """Insert one row; with ``returning``, return its ``ctid`` (to compare it with the rest)."""
    tail = " RETURNING ctid::text" if returning else ""
    if not values:
        result = connection.execute(text(f"INSERT INTO {table.sql_name} DEFAULT VALUES{tail}"))
        return result.scalar() if returning else None
    names = list(values)
    columns = ", ".join(ident(n) for n in names)
    params = ", ".join(f":p{i}" for i in range(len(names)))
    identity = override and any(c.automatic for c in table.columns if c.name in values)
    overriding = " OVERRIDING SYSTEM VALUE" if identity else ""
    result = connection.execute(
        text(f"INSERT INTO {table.sql_name} ({columns}){overriding} VALUES ({params}){tail}"),
        {f"p{i}": values[n] for i, n in enumerate(names)},
    )
    return result.scalar() if returning else None


def _advance_sequences(connection: Connection, table: Table) -> None:
    """Move serial/identity sequences past explicit ids, so later inserts never collide."""
    for column in table.columns:
        if not column.automatic or column.type not in ("smallint", "integer", "bigint"):
            continue
        sequence = catalog.serial_sequence(connection, table.sql_name, column.name)
        if sequence is None:
            continue
        highest = f"(SELECT max({ident(column.name)}) FROM {table.sql_name})"
        connection.execute(
            text(f"SELECT setval(CAST(:seq AS regclass), greatest({highest}, 1))"),
            {"seq": sequence},
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
        text(f"SELECT {ident(column)} FROM {qualified(name, schema)} ORDER BY 1 LIMIT 1")
    ).scalar()
    return _IMPOSSIBLE if value is None else value


_EPOCH = dt.datetime(2025, 1, 15, 10, 0, 0)


def _by_type(kind: str, label: str, n: int) -> object:
    base = kind.split("(")[0].strip()
    if kind.endswith("[]"):
        return []
    if base == "smallint":
        return n % 30000
    if base in ("integer", "bigint"):
        return n
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
