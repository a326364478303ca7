"""PostgreSQL's table-level lock modes: their names and what application traffic they stop.

The conflict table is the one in PostgreSQL's documentation ("Explicit Locking",
table 13.2). Application traffic takes ACCESS SHARE to read (SELECT) and ROW
EXCLUSIVE to write (INSERT, UPDATE, DELETE, MERGE), so a migration's lock blocks
reads when it conflicts with ACCESS SHARE and writes when it conflicts with ROW
EXCLUSIVE; SHARE UPDATE EXCLUSIVE, the mode of VALIDATE CONSTRAINT and CREATE INDEX
CONCURRENTLY, conflicts with neither and only makes other DDL and VACUUM wait.
"""

from __future__ import annotations

#: pg_locks.mode -> the documentation's name, weakest first.
MODES: dict[str, str] = {
    "AccessShareLock": "ACCESS SHARE",
    "RowShareLock": "ROW SHARE",
    "RowExclusiveLock": "ROW EXCLUSIVE",
    "ShareUpdateExclusiveLock": "SHARE UPDATE EXCLUSIVE",
    "ShareLock": "SHARE",
    "ShareRowExclusiveLock": "SHARE ROW EXCLUSIVE",
    "ExclusiveLock": "EXCLUSIVE",
    "AccessExclusiveLock": "ACCESS EXCLUSIVE",
}

_ORDER = list(MODES.values())

#: mode -> the modes it conflicts with (PostgreSQL documentation, table 13.2).
CONFLICTS: dict[str, frozenset[str]] = {
    "ACCESS SHARE": frozenset({"ACCESS EXCLUSIVE"}),
    "ROW SHARE": frozenset({"EXCLUSIVE", "ACCESS EXCLUSIVE"}),
    "ROW EXCLUSIVE": frozenset({"SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}),
    "SHARE UPDATE EXCLUSIVE": frozenset(
        {"SHARE UPDATE EXCLUSIVE", "SHARE", "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE"}
    ),
    "SHARE": frozenset(
        {
            "ROW EXCLUSIVE",
            "SHARE UPDATE EXCLUSIVE",
            "SHARE ROW EXCLUSIVE",
            "EXCLUSIVE",
            "ACCESS EXCLUSIVE",
        }
    ),
    "SHARE ROW EXCLUSIVE": frozenset(
        {
            "ROW EXCLUSIVE",
            "SHARE UPDATE EXCLUSIVE",
            "SHARE",
            "SHARE ROW EXCLUSIVE",
            "EXCLUSIVE",
            "ACCESS EXCLUSIVE",
        }
    ),
    "EXCLUSIVE": frozenset(_ORDER[1:]),
    "ACCESS EXCLUSIVE": frozenset(_ORDER),
}

READS = "reads"
WRITES = "writes"


def mode_name(pg_mode: str) -> str:
    """Return the documentation's name for a ``pg_locks.mode`` value."""
    return MODES.get(pg_mode, pg_mode)


def strength(mode: str) -> int:
    """Order modes weakest (0) to strongest, for "the strongest lock on a relation"."""
    return _ORDER.index(mode) if mode in _ORDER else -1


def blocks(mode: str) -> tuple[str, ...]:
    """Return what application traffic ``mode`` makes wait: reads, writes, both or neither."""
    conflicts = CONFLICTS.get(mode, frozenset())
    found = []
    if "ACCESS SHARE" in conflicts:
        found.append(READS)
    if "ROW EXCLUSIVE" in conflicts:
        found.append(WRITES)
    return tuple(found)


def blocks_text(mode: str) -> str:
    """``reads, writes`` / ``writes`` / ``DDL only`` / ``nothing``, for the table."""
    found = blocks(mode)
    if found:
        return ", ".join(found)
    return "DDL, VACUUM" if len(CONFLICTS.get(mode, ())) > 2 else "nothing"
