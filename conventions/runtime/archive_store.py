"""The archives a downgrade left behind: list them, put the data back, purge them.

Restoring is an explicit, separate step because the data can only go back once an
upgrade has recreated the column or table it came from; the archive command runs
it under the migrator lock like any other schema change.

By then the application may have written to the recreated column or table, so a
restore only fills what nobody has touched since: a column value that is still NULL
or still the column's default, a table row whose key is not taken. Everything else
is newer than the archive and is kept (and counted). An archive is restored once;
again only with ``force``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.engine import Connection

from conventions.db import catalog
from conventions.db.sqltext import ident, qualified
from conventions.errors import ArchiveError
from conventions.history.archives import Archive, find
from conventions.history.schema import ARCHIVE_INDEX, ARCHIVE_SCHEMA
from conventions.runtime.archive import every_row, find_relation


def _column_types(connection: Connection, schema: str, table: str) -> dict[str, str]:
    """Column name -> type of a table now, in order; generated columns left out (not writable)."""
    found = catalog.table(connection, table, schema=schema)
    if found is None:
        return {}
    return {
        c.name: c.type for c in catalog.columns(connection, found.oid).values() if not c.generated
    }


def _columns(connection: Connection, schema: str, table: str) -> list[str]:
    return list(_column_types(connection, schema, table))


@dataclass(frozen=True)
class Restored:
    """What a restore did: rows written, and rows left alone because they hold newer data."""

    archive: Archive
    written: int
    kept: int

    def describe(self) -> str:
        newer = (
            "neither NULL nor the column default"
            if self.archive.source_column
            else "a row with the same key exists"
        )
        return (
            f"Restored {self.written} row(s) from {ARCHIVE_SCHEMA}.{self.archive.name}; "
            f"skipped {self.kept} row(s) holding newer data ({newer})."
        )


@dataclass(frozen=True)
class RestorePlan:
    """The statements that restore one archive, decided from the catalog before any write.

    A column archive is an UPDATE of the rows still untouched, then two counts (rows
    holding newer data, rows matched at all); a table archive is an INSERT of the rows
    whose key is free, then a count of the archive's rows, and its serial/identity
    sequences are moved past the restored ids.
    """

    archive: Archive
    write: str
    count_kept: str  # column: rows whose value differs; table: all archived rows
    count_matched: str | None  # column archives only: rows matched by key at all
    sequence_columns: tuple[str, ...]  # table archives: columns whose sequences may move
    mark_restored: str = f"UPDATE {ARCHIVE_INDEX} SET restored_at = now() WHERE archive_table = :n"


def plan_restore(
    archive: Archive,
    *,
    types: dict[str, str],
    archived: list[str],
    default: str | None,
    force: bool = False,
) -> RestorePlan:
    """Return how to restore ``archive``, or raise ArchiveError saying why it cannot be.

    ``types``: the source table's writable columns now (name -> type, in order);
    ``archived``: the archive table's columns; ``default``: the source column's default
    expression when comparing with it is harmless (``_plain_default``).
    """
    name = archive.name
    if archive.restored_at is not None and not force:
        raise ArchiveError(
            f"{name} was already restored at {archive.restored_at:%Y-%m-%d %H:%M:%S %Z}; "
            "nothing was done.",
            name=name,
            hints=[
                "To restore it again anyway (still only into values that are NULL or the "
                f"column default): python -m conventions archive restore {name} --force",
            ],
        )
    if not archive.present:
        raise ArchiveError(
            f"Cannot restore {name}: its table {ARCHIVE_SCHEMA}.{name} (or its column) is gone.",
            name=name,
            hints=[f"Purge the entry: python -m conventions archive purge {name}"],
        )
    present = list(types)
    wanted = [archive.source_column] if archive.source_column else []
    missing = [c for c in [*wanted, *archive.key_columns] if c not in present]
    if not present or missing:
        what = archive.source if not present else ", ".join(missing)
        raise ArchiveError(
            f"Cannot restore {name}: {what} does not exist in the database now.",
            name=name,
            hints=[
                f"Upgrade past revision {archive.revision} first (python -m conventions "
                f"migrate), so the "
                f"{'column' if archive.source_column else 'table'} exists again, then restore.",
            ],
        )
    source = qualified(archive.source_table, archive.source_schema)
    stored = qualified(name, ARCHIVE_SCHEMA)
    if archive.source_column:
        if not archive.key_columns:
            raise ArchiveError(
                f"Cannot restore {name} automatically: {archive.source_table} had no primary "
                "key to match rows on.",
                name=name,
                hints=[f"The whole rows are in {ARCHIVE_SCHEMA}.{name}; restore them by hand."],
            )
        column = ident(archive.source_column)
        # The archive may hold the value as text (a type the downgrade dropped): cast back
        # to what the column is now, keys too.
        match = " AND ".join(
            f"t.{ident(k)} = CAST(a.{ident(k)} AS {types[k]})" for k in archive.key_columns
        )
        value = f"CAST(a.{column} AS {types[archive.source_column]})"
        differs = f"t.{column} IS DISTINCT FROM {value}"
        untouched = f"t.{column} IS NULL" + (f" OR t.{column} = ({default})" if default else "")
        return RestorePlan(
            archive,
            write=f"UPDATE {source} AS t SET {column} = {value} FROM {stored} AS a"
            f" WHERE {match} AND {differs} AND COALESCE({untouched}, false)",
            count_kept=f"SELECT count(*) FROM {source} AS t JOIN {stored} AS a ON {match}"
            f" WHERE {differs}",
            count_matched=f"SELECT count(*) FROM {source} AS t JOIN {stored} AS a ON {match}",
            sequence_columns=(),
        )
    common = [c for c in present if c in archived]
    into = ", ".join(ident(c) for c in common)
    values = ", ".join(f"CAST({ident(c)} AS {types[c]})" for c in common)
    return RestorePlan(
        archive,
        write=f"INSERT INTO {source} ({into}) OVERRIDING SYSTEM VALUE"
        f" SELECT {values} FROM {stored} ON CONFLICT DO NOTHING",
        count_kept=f"SELECT count(*) FROM {stored}",
        count_matched=None,
        sequence_columns=tuple(present),
    )


def restore(connection: Connection, name: str, *, force: bool = False) -> Restored:
    """Put an archive's data back where nothing newer was written; say what it did."""
    archive = find(connection, name)
    types = _column_types(connection, archive.source_schema, archive.source_table)
    column = archive.source_column
    source = qualified(archive.source_table, archive.source_schema)
    plan = plan_restore(
        archive,
        types=types,
        archived=[] if column else _columns(connection, ARCHIVE_SCHEMA, name),
        default=_plain_default(connection, source, column) if column and types else None,
        force=force,
    )
    relation = find_relation(connection, archive.source_schema, archive.source_table)
    assert relation is not None  # its columns were just read
    # Under the archive's own guard: a row-level security policy would hide rows from
    # the UPDATE and refuse the INSERT of other tenants' rows.
    with every_row(connection, relation, restoring=True):
        written = int(connection.execute(text(plan.write)).rowcount)
        counted = int(connection.execute(text(plan.count_kept)).scalar() or 0)
        if plan.count_matched is not None:
            kept = counted
            matched = connection.execute(text(plan.count_matched)).scalar()
            if not written and not matched:
                raise _nothing_matched(archive)
        else:
            kept = counted - written
            _advance_sequences(connection, archive, plan.sequence_columns)
    connection.execute(text(plan.mark_restored), {"n": name})
    return Restored(archive, written, kept)


def _nothing_matched(archive: Archive) -> ArchiveError:
    """A column archive none of whose keys is in the table: restoring it now restores nothing."""
    return ArchiveError(
        f"Nothing of {archive.name} could be restored: none of its {archive.row_count} row(s) "
        f"matches a row of {archive.source_schema}.{archive.source_table} by "
        f"{', '.join(archive.key_columns)}. It was not marked restored.",
        name=archive.name,
        hints=[
            "If the rows themselves were archived too (the table was dropped), restore that "
            "archive first, or both in one command: python -m conventions archive restore "
            "TABLE_ARCHIVE " + archive.name,
        ],
    )


def restore_order(connection: Connection, names: list[str]) -> list[str]:
    """Order archives so each restore can succeed: referenced tables before the tables that
    reference them, whole tables before columns (a column archive fills rows a table
    archive may put back)."""
    found = {name: find(connection, name) for name in dict.fromkeys(names)}
    tables = [a for a in found.values() if a.source_column is None]
    columns = [a.name for a in found.values() if a.source_column is not None]
    parents: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for child, parent in catalog.foreign_key_edges(connection):
        parents.setdefault(child, set()).add(parent)
    ordered: list[str] = []
    done: set[str] = set()

    def visit(archive: Archive, path: tuple[str, ...]) -> None:
        if archive.name in done or archive.name in path:
            return  # a cycle of foreign keys: keep the given order for the rest
        for other in tables:
            key = (other.source_schema, other.source_table)
            if key in parents.get((archive.source_schema, archive.source_table), set()):
                visit(other, (*path, archive.name))
        done.add(archive.name)
        ordered.append(archive.name)

    for archive in tables:
        visit(archive, ())
    return ordered + columns


_SEQUENCE_DEFAULT = re.compile(r"\bnextval\s*\(", re.IGNORECASE)


def _plain_default(connection: Connection, source: str, column: str) -> str | None:
    """Return the column's default expression, if comparing rows with it is harmless.

    The upgrade that recreated the column gave every existing row its default, so a
    row still holding it has not been written since. A nextval() default is left
    out: evaluating it per row would consume the sequence (and never match anyway).
    """
    found = catalog.resolve_table(connection, source)
    described = catalog.column(connection, found.oid, column) if found is not None else None
    expression = described.default if described is not None else None
    if not expression or _SEQUENCE_DEFAULT.search(expression):
        return None
    # It goes into text(): a colon (e.g. in '12:00'::time) must not read as a parameter.
    return str(expression).replace(":", "\\:")


def _advance_sequences(connection: Connection, archive: Archive, columns: tuple[str, ...]) -> None:
    """Move serial/identity sequences past restored ids, so new inserts do not collide."""
    source = qualified(archive.source_table, archive.source_schema)
    for column in columns:
        sequence = catalog.serial_sequence(connection, source, column)
        if sequence is None:
            continue
        top = connection.execute(text(f"SELECT max({ident(column)}) FROM {source}"))
        value = top.scalar()
        if value is not None:
            connection.execute(text("SELECT setval(:s, :v)"), {"s": sequence, "v": value})


def purge(connection: Connection, name: str) -> Archive:
    """Drop an archive's table and its index entry; return what was purged."""
    archive = find(connection, name)
    connection.execute(text(f"DROP TABLE IF EXISTS {qualified(name, ARCHIVE_SCHEMA)}"))
    connection.execute(text(f"DELETE FROM {ARCHIVE_INDEX} WHERE archive_table = :n"), {"n": name})
    return archive
