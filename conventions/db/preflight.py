"""Count the rows a change would break, before the change: the house ops' data preflight.

A constraint added to a table with offending rows fails only at ``VALIDATE`` — after
the ``ADD … NOT VALID`` was committed — and PostgreSQL's error names one row at best.
Asking first gives the count and a few values while nothing has changed yet, and a
clean preflight means the VALIDATE that follows applies the very same test.

Each query is one sequential scan under ACCESS SHARE: it blocks no reader or writer
(it does wait behind a queued ACCESS EXCLUSIVE, like any read). Offending values are
gathered once, in a materialized CTE, so counting and sampling share that scan.
Identifiers are quoted (:mod:`conventions.db.sqltext`); values are bound parameters; a
CHECK condition is SQL by nature and is pasted as the op received it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.engine import Connection

from conventions.db.sqltext import ident, qualified
from conventions.errors import ConstraintViolation

DATA_HINTS = (
    "Add a data migration first that moves those rows to an allowed value "
    "(UPDATE … SET … WHERE …, in an earlier migration),",
    "or keep the value in the allowed set.",
)
CONSTRAINT_HINTS = (
    "Fix those rows first in a data migration (an earlier migration: UPDATE … or DELETE …),",
    "or change the constraint so that they pass.",
)


@dataclass(frozen=True)
class RowSample:
    count: int
    samples: tuple[object, ...]
    """Up to 5 offending values as text, most frequent first."""


@dataclass(frozen=True)
class Rejected:
    """The rows a constraint about to be added would reject, and how to show them."""

    table: str
    name: str
    source: str
    """The table as SQL (:func:`relation`)."""
    where: str
    """The condition selecting the offending rows (:func:`failing_check`, :func:`unreferenced`)."""
    shown: tuple[str, ...]
    """The columns whose values are sampled (the constraint's own columns)."""
    why: str
    """What the offending rows do, e.g. ``fail CHECK ((amount > 0))``."""
    what: str = ""
    """What cannot be done; by default ``add constraint <name> to <table>``."""
    hints: tuple[str, ...] = CONSTRAINT_HINTS

    def sample(self, conn: Connection) -> RowSample:
        if not self.shown:
            return RowSample(count(conn, self.source, self.where), ())
        return offenders(conn, self.source, self.where, shown=self.shown)

    def error(self, sample: RowSample, *, outcome: str | None = None) -> ConstraintViolation:
        return violation(
            self.table,
            self.shown[0] if self.shown else None,
            sample,
            what=self.what or f"add constraint {self.name} to {self.table}",
            why=self.why,
            hints=self.hints,
            outcome=outcome,
        )

    def check(self, conn: Connection) -> None:
        """Raise the house error if any row would be rejected; change nothing."""
        sample = self.sample(conn)
        if sample.count:
            raise self.error(sample)


def _escaped(sql: str) -> str:
    """Text pasted into a driver-level (pyformat) statement: ``%`` doubled."""
    return sql.replace("%", "%%")


def relation(
    name: str, *, schema: str | None = None, added: Mapping[str, str] | None = None
) -> str:
    """Return the table as SQL, or — with ``added`` — as it will be after ADD COLUMN.

    ``added`` maps each column about to be added to the SQL of the value existing rows
    will get (its default, or ``NULL::type``). The derived table keeps the table's
    name as its alias, so a condition written as ``orders.amount`` still resolves.
    """
    table_sql = qualified(name, schema)
    if not added:
        return table_sql
    extra = ", ".join(f"{value} AS {ident(column)}" for column, value in added.items())
    return f"(SELECT *, {extra} FROM {table_sql}) AS {ident(name)}"


def offenders(
    conn: Connection, source: str, where: str, *, shown: Sequence[str], as_text: bool = True
) -> RowSample:
    """Count rows of ``source`` matching ``where``, with samples of the ``shown`` columns.

    The one way offending rows are sampled, before a change (the preflight) and after
    the database refused one (:mod:`conventions.runtime.explain`). One column's value
    is shown as itself; several (every column of a composite key, say) as a row, e.g.
    ``(3,-1)``; none as the row's ``ctid``. ``as_text=False`` keeps the values as the
    driver returns them (``11`` rather than ``'11'``).
    """
    columns = [ident(c) for c in shown] or ["ctid"]
    value = columns[0] if len(columns) == 1 else f"ROW({', '.join(columns)})"
    return _sample(
        conn,
        f"SELECT {_escaped(value)} AS v FROM {_escaped(source)} WHERE {_escaped(where)}",
        {},
        as_text=as_text,
    )


def count(conn: Connection, source: str, where: str) -> int:
    """Count rows of ``source`` matching ``where`` (the cheap first half of a preflight)."""
    row = conn.exec_driver_sql(
        f"SELECT count(*) FROM {_escaped(source)} WHERE {_escaped(where)}", {}
    ).first()
    return int(row[0]) if row is not None else 0


def failing_check(condition: str) -> str:
    """The rows a ``CHECK (condition)`` rejects: FALSE only — NULL passes a CHECK."""
    return f"({condition}) IS FALSE"


def unreferenced(
    table: str,
    columns: Sequence[str],
    referent: str,
    referent_columns: Sequence[str],
    *,
    full_match: bool = False,
) -> str:
    """The rows of ``table`` a FOREIGN KEY rejects: an anti-join against ``referent``.

    ``table`` is the source's name (unqualified: how its columns are qualified, so a
    referenced column of the same name cannot capture them); ``referent`` is SQL.
    MATCH SIMPLE (the default) checks only rows whose key columns are all non-NULL;
    MATCH FULL also rejects a key that is NULL in some columns but not all.
    """
    local = [f"{ident(table)}.{ident(c)}" for c in columns]
    pairs = zip(local, referent_columns, strict=True)
    joined = " AND ".join(f"house_ref.{ident(r)} = {c}" for c, r in pairs)
    missing = f"NOT EXISTS (SELECT 1 FROM {referent} AS house_ref WHERE {joined})"
    present = " AND ".join(f"{c} IS NOT NULL" for c in local)
    if not full_match or len(columns) == 1:
        return f"{present} AND {missing}"
    absent = " AND ".join(f"{c} IS NULL" for c in local)
    return f"NOT ({absent}) AND (NOT ({present}) OR {missing})"


def table_has_rows(conn: Connection, name: str, *, schema: str | None = None) -> bool:
    """Whether the table has at least one row (stops at the first)."""
    row = conn.exec_driver_sql(
        f"SELECT EXISTS (SELECT 1 FROM {_escaped(qualified(name, schema))})", {}
    ).first()
    return bool(row and row[0])


def rows_longer_than(
    conn: Connection, name: str, column_name: str, length: int, *, schema: str | None = None
) -> RowSample:
    """Count rows whose value would not fit ``varchar(length)``, with samples."""
    col = _escaped(ident(column_name))
    return _sample(
        conn,
        f"SELECT {col} AS v FROM {_escaped(qualified(name, schema))}"
        f" WHERE char_length({col}::text) > %(length)s",
        {"length": length},
    )


def _sample(
    conn: Connection, offending: str, params: dict[str, object], *, as_text: bool = True
) -> RowSample:
    """Count the rows ``offending`` selects and return up to 5 values, most frequent first.

    One scan (a materialized CTE) serves both. The samples come back one per result
    row rather than as an array, so a value keeps its type when ``as_text`` is off
    (the driver cannot read an array of an enum or a record); the left join keeps one
    row, carrying the count, when nothing offends.
    """
    v = "top.v::text" if as_text else "top.v"
    rows = conn.exec_driver_sql(
        f"WITH bad AS MATERIALIZED ({offending}),"
        " top AS (SELECT v, row_number() OVER (ORDER BY count(*) DESC, v) AS i"
        " FROM bad GROUP BY v ORDER BY i LIMIT 5)"
        f" SELECT (SELECT count(*) FROM bad), {v}, top.i"
        " FROM (SELECT) AS one LEFT JOIN top ON true ORDER BY top.i",
        params,
    ).all()
    return RowSample(count=int(rows[0][0]), samples=tuple(r[1] for r in rows if r[2] is not None))


def violation(
    table: str,
    column: str | None,
    sample: RowSample,
    *,
    what: str,
    why: str,
    hints: Sequence[str] = DATA_HINTS,
    outcome: str | None = None,
) -> ConstraintViolation:
    """The house error for a failed preflight: what, how many rows, which values.

    ``outcome``: what the op did after all, when it is not "nothing" (it had added a
    NOT VALID constraint and dropped it again); by default the op changed nothing.
    """
    shown = f" (e.g. {', '.join(repr(v) for v in sample.samples)})" if sample.samples else ""
    return ConstraintViolation(
        f"Cannot {what}: {sample.count} row(s) of {table} {why}{shown}."
        + (f" {outcome}" if outcome else ""),
        table=table,
        column=column,
        count=sample.count,
        samples=sample.samples,
        hints=hints,
        unchanged=outcome is None,
    )
