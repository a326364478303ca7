"""How big each table is where the migration will run: read-only, taking no table locks.

Everything comes from the catalog and the statistics collector: ``pg_class.reltuples``
(the planner's row estimate, kept by VACUUM and ANALYZE), ``relpages`` of the table,
its TOAST table and its indexes (bytes), and ``pg_stat_user_tables.n_live_tup`` when
the table was never analysed. None of these opens a user table. Functions such as
``pg_total_relation_size`` are not used on purpose: they open the relation under
ACCESS SHARE, which would queue behind a migration holding ACCESS EXCLUSIVE (and
queue others behind it). The connection is read-only (``default_transaction_read_only``)
with a short ``lock_timeout``, so even a mistake here cannot write or wait long.

The same figures can come from a file exported on production (``--export-stats``)
or from ``--rows TABLE=N`` when CI has no access to production.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, Connection

from conventions.db import catalog
from conventions.db.connect import open_engine
from conventions.errors import ConventionsError

FORMAT = "conventions-plan-stats/1"
READ_ONLY_OPTIONS = (
    "-c default_transaction_read_only=on -c lock_timeout=500ms -c statement_timeout=10s"
)


class StatsFileError(ConventionsError):
    """A ``--stats`` file cannot be read as an exported statistics file."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        super().__init__(
            f"Cannot use {path} as a statistics file: {detail}.",
            hints=[
                "Export one on the target with `python -m conventions plan --export-stats FILE`."
            ],
        )


class BadRowCount(ConventionsError):
    """A ``--rows`` argument is not ``TABLE=N``."""

    def __init__(self, given: str) -> None:
        self.given = given
        super().__init__(
            f"--rows {given!r} is not TABLE=N (for example offers=2000000, public.offers=2.5M).",
            hints=["Give one TABLE=N per table; N is a row count (k, M and G suffixes allowed)."],
        )


@dataclass(frozen=True)
class Size:
    """A table's size on the target: rows (None when unknown), bytes (heap + TOAST + indexes)."""

    rows: float | None
    total_bytes: int | None = None
    heap_bytes: int | None = None
    source: str = "catalog"

    @property
    def row_bytes(self) -> float | None:
        """Average heap bytes per row, when both are known."""
        if not self.rows or not self.heap_bytes:
            return None
        return self.heap_bytes / self.rows


@dataclass
class TargetSizes:
    """Sizes by ``schema.table``, the revision they were read at, and where they came from."""

    tables: dict[str, Size]
    revision: tuple[str, ...] | None
    source: str  # "database NAME", "stats file PATH", "--rows"
    server_version: str | None = None
    database: str | None = None  # the target's URL, password masked

    def get(self, schema: str, name: str) -> Size | None:
        return self.tables.get(f"{schema}.{name}")

    def override(self, rows: Mapping[str, float]) -> None:
        for key, value in rows.items():
            self.tables[key] = Size(value, source="--rows")

    def to_json(self, database: str | None) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "database": database,
            "server_version": self.server_version,
            "revision": list(self.revision or ()),
            "tables": {
                key: {"rows": size.rows, "bytes": size.total_bytes, "heap_bytes": size.heap_bytes}
                for key, size in sorted(self.tables.items())
            },
        }


def read_only_engine(url: URL) -> Any:
    """An engine whose sessions cannot write and give up on any lock after 500 ms."""
    return open_engine(url, application="conventions plan (read-only)", options=READ_ONLY_OPTIONS)


def read_sizes(connection: Connection) -> dict[str, Size]:
    """Return every user table's size from the catalog and statistics (no table is opened)."""
    found = {}
    for schema, name, reltuples, live, total, heap in catalog.relation_sizes(connection):
        rows = reltuples if reltuples is not None and reltuples >= 0 else live
        source = "catalog" if reltuples is not None and reltuples >= 0 else "statistics"
        if rows is None:
            source = "unknown (never analysed)"
        found[f"{schema}.{name}"] = Size(rows, int(total or 0), int(heap or 0), source)
    return found


def load(path: Path) -> TargetSizes:
    """Read a file written by ``plan --export-stats``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StatsFileError(path, "it does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise StatsFileError(path, f"it is not JSON ({err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise StatsFileError(path, f'it has no "format": "{FORMAT}"')
    tables = {}
    for key, entry in (data.get("tables") or {}).items():
        if not isinstance(entry, dict) or "." not in key:
            raise StatsFileError(path, f"table entry {key!r} is not schema.table with rows")
        rows = entry.get("rows")
        tables[key] = Size(
            float(rows) if rows is not None else None,
            entry.get("bytes"),
            entry.get("heap_bytes"),
            "stats file",
        )
    revision = tuple(data.get("revision") or ())
    return TargetSizes(
        tables, revision, f"stats file {path}", data.get("server_version"), data.get("database")
    )


_COUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmMgG]?)\s*$")
_SCALE = {"": 1, "k": 1e3, "m": 1e6, "g": 1e9}


def parse_rows(given: list[str]) -> dict[str, float]:
    """``["offers=2M", "app.users=10000"]`` -> ``{"public.offers": 2e6, "app.users": 1e4}``."""
    found = {}
    for item in given:
        table, sep, count = item.partition("=")
        match = _COUNT.match(count.replace("_", "").replace(",", ""))
        if not sep or not table.strip() or match is None:
            raise BadRowCount(item)
        key = table.strip() if "." in table else f"public.{table.strip()}"
        found[key] = float(match.group(1)) * _SCALE[match.group(2).lower()]
    return found
