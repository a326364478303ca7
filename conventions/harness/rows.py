"""Every row of every table, read back, and what changed between two readings.

Rows are matched by primary key; a table without one is compared as a multiset of
whole rows. Only the columns both readings share are compared, because which
columns may legitimately differ (the ones a revision adds or drops) is the
caller's decision, not this module's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

from conventions.harness.snapshot import IGNORED
from conventions.harness.tables import read_tables

Key = tuple[object, ...]


@dataclass(frozen=True)
class TableRows:
    columns: tuple[str, ...]
    key: tuple[str, ...]
    rows: tuple[Mapping[str, object], ...]

    def keyed(self, columns: Sequence[str], *, by_key: bool = True) -> dict[Key, dict[str, object]]:
        """Return rows by primary key (or by content and occurrence) on ``columns`` only."""
        if by_key and self.key and all(k in columns for k in self.key):
            return {
                tuple(row[k] for k in self.key): {c: row[c] for c in columns} for row in self.rows
            }
        seen: Counter[Key] = Counter()
        keyed = {}
        for row in self.rows:
            content = tuple(_sortable(row[c]) for c in columns)
            seen[content] += 1
            keyed[(*content, seen[content])] = {c: row[c] for c in columns}
        return keyed

    def describe_key(self, key: Key, columns: Sequence[str], *, by_key: bool = True) -> str:
        names = self.key if by_key and self.key and all(k in columns for k in self.key) else columns
        return ", ".join(f"{name}={value!r}" for name, value in zip(names, key, strict=False))


def _sortable(value: object) -> object:
    return repr(value) if isinstance(value, (dict, list)) else value


def read_rows(connection: Connection, *, ignore: tuple[str, ...] = IGNORED) -> dict[str, TableRows]:
    """Return the content of every table outside the ignore list (read-only)."""
    result = {}
    for name, table in read_tables(connection, ignore=ignore).items():
        columns = tuple(c.name for c in table.columns)
        rows = connection.execute(text(f"SELECT * FROM {table.sql_name}")).mappings().all()
        result[name] = TableRows(columns, table.key, tuple(dict(r) for r in rows))
    return result


@dataclass
class RowChanges:
    """How one table's rows differ between two readings, on the compared columns."""

    table: str
    total: int
    lost: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.lost or self.changed or self.added)


def compare_rows(
    table: str,
    before: TableRows,
    after: TableRows,
    columns: Iterable[str],
    *,
    only_keys: Iterable[Key] | None = None,
    count_added: bool = True,
) -> RowChanges:
    """Compare ``before`` with ``after`` on ``columns`` (those absent from either are skipped).

    ``only_keys`` limits the comparison to rows of an earlier reading (rows a
    migration inserts itself are not the harness's business); ``count_added`` reports
    rows that appeared, which after a downgrade means data left behind.
    """
    cols = [c for c in columns if c in before.columns and c in after.columns]
    # A key only one reading has (a migration that adds or drops the primary key) cannot
    # match rows: then both are compared as multisets of their content.
    by_key = before.key == after.key
    old, new = before.keyed(cols, by_key=by_key), after.keyed(cols, by_key=by_key)
    wanted = set(old) if only_keys is None else set(only_keys) & set(old)
    changes = RowChanges(table, total=len(wanted))
    for key in sorted(wanted, key=repr):
        label = before.describe_key(key, cols, by_key=by_key)
        if key not in new:
            changes.lost.append(label)
            continue
        for column in cols:
            if old[key][column] != new[key][column]:
                changes.changed.append(
                    f"{label}: {column} {old[key][column]!r} -> {new[key][column]!r}"
                )
    if count_added:
        appeared = sorted(set(new) - set(old), key=repr)
        changes.added = [after.describe_key(k, cols, by_key=by_key) for k in appeared]
    return changes
