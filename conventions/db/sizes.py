"""How big is a table, cheaply: the planner's estimate, or a bounded count.

The safety check asks this before every potentially dangerous plain operation, so it
must never scan a big table. ``pg_class.reltuples`` is what the planner believes
(kept by VACUUM/ANALYZE/autovacuum); it is ``-1`` for a table never analysed
(PostgreSQL 14+) and ``0`` on older servers for a table never vacuumed. In that
case a count stopped at ``cap + 1`` rows answers "bigger than the threshold?"
exactly while reading at most ``cap + 1`` rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Connection

from conventions.db import catalog
from conventions.db.sqltext import PROBE, qualified


@dataclass(frozen=True)
class TableSize:
    rows: int
    estimated: bool
    """True: the planner's estimate (reltuples); False: counted (up to a cap)."""
    capped: bool = False
    """True: counting stopped at the cap; the table holds at least ``rows`` rows."""

    def describe(self) -> str:
        if self.estimated:
            return f"about {self.rows:,} rows (planner estimate)"
        if self.capped:
            return f"more than {self.rows - 1:,} rows (counted up to the threshold)"
        return f"{self.rows:,} rows (counted)"


def table_size(conn: Connection, oid: int, *, name: str, schema: str, cap: int) -> TableSize:
    """Return the table's size: reltuples when known, else count at most ``cap + 1`` rows."""
    estimate = catalog.reltuples(conn, oid)
    if estimate > 0:
        return TableSize(estimate, estimated=True)
    # Never analysed (-1), or analysed while empty (0): a load since then is not
    # reflected yet, so count — never more than cap + 1 rows.
    limit = max(cap, 0) + 1
    counted = conn.exec_driver_sql(
        f"{PROBE}SELECT count(*) FROM (SELECT 1 FROM {qualified(name, schema)} LIMIT {limit}) AS s",
        {},
    ).scalar()
    rows = int(counted or 0)
    return TableSize(rows, estimated=False, capped=rows >= limit)
