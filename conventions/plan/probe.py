"""What the migrating session holds and has changed, read from inside that session.

A statement's locks are read from ``pg_locks`` right after it ran, on the same
connection (a second cursor, so the migration's own result set is untouched):
inside the revision's transaction every lock is still held until the commit, and
only that session can see the relations it created or rewrote before committing.
The same probe reads every user relation's ``relfilenode`` (a new one means the
relation was rewritten) and the transaction's sequential-scan counters
(``pg_stat_xact_user_tables``: a full scan of the table). ``now()`` is the
transaction's start time, which tells one transaction from the next.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# FirstNormalObjectId: system catalogs have lower OIDs and are never reported.
_PROBE = """
SELECT 'l', l.relation::bigint, l.mode FROM pg_locks l
 WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.granted
   AND l.relation >= 16384
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
UNION ALL
SELECT 'f', c.oid::bigint, c.relfilenode::text FROM pg_class c
 WHERE c.oid >= 16384 AND c.relkind IN ('r', 'i', 'm', 't', 'S')
UNION ALL
SELECT 's', s.relid::bigint, s.seq_scan::text FROM pg_stat_xact_user_tables s
UNION ALL
SELECT 'x', 0, now()::text
"""

_NAMES = """
SELECT c.oid::bigint, n.nspname, c.relname, c.relkind::text,
       coalesce(i.indrelid, c.oid)::bigint, tn.nspname, t.relname,
       EXISTS (SELECT 1 FROM pg_attribute a
                WHERE a.attrelid = c.oid AND a.attnum > 0 AND a.attcollation <> 0)
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN pg_index i ON i.indexrelid = c.oid
  LEFT JOIN pg_class t ON t.oid = coalesce(i.indrelid, c.oid)
  LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
 WHERE c.oid = ANY(%s)
"""


@dataclass
class Probe:
    """One reading: locks held (oid -> modes), relfilenodes, scan counters, transaction."""

    locks: dict[int, set[str]] = field(default_factory=dict)
    filenodes: dict[int, str] = field(default_factory=dict)
    scans: dict[int, int] = field(default_factory=dict)
    transaction: str = ""


@dataclass(frozen=True)
class Relation:
    oid: int
    schema: str
    name: str
    kind: str  # pg_class.relkind
    table_oid: int  # for an index, its table; else the relation itself
    table_schema: str
    table_name: str
    collated: bool = False  # an index with text keys: comparisons follow a collation

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def table(self) -> str:
        """``schema.table`` this relation belongs to (itself, unless an index)."""
        return f"{self.table_schema}.{self.table_name}"


def probe(dbapi_connection: Any) -> Probe:
    """Read the session's locks, relfilenodes, scan counters and transaction start."""
    found = Probe()
    with dbapi_connection.cursor() as cur:
        cur.execute(_PROBE)
        for kind, oid, value in cur.fetchall():
            if kind == "l":
                found.locks.setdefault(int(oid), set()).add(value)
            elif kind == "f":
                found.filenodes[int(oid)] = value
            elif kind == "s":
                found.scans[int(oid)] = int(value)
            else:
                found.transaction = value
    return found


def names(dbapi_connection: Any, oids: set[int]) -> dict[int, Relation]:
    """Resolve OIDs to relations as this session sees them (its uncommitted ones too)."""
    if not oids:
        return {}
    with dbapi_connection.cursor() as cur:
        cur.execute(_NAMES, (sorted(oids),))
        return {
            int(row[0]): Relation(
                int(row[0]),
                row[1],
                row[2],
                row[3],
                int(row[4]),
                row[5] or row[1],
                row[6] or row[2],
                bool(row[7]),
            )
            for row in cur.fetchall()
        }
