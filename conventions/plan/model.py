"""The hold-time model: how long the target would hold each lock, from the scratch run.

A statement's time on the target is modelled as

    scratch time + rows × per-row cost × width factor

summed over the relations it rewrote, scanned or built an index on, where

- *rows* is the target's row estimate for the table (``sizes``); a relation the
  pending migrations create has none on the target;
- *per-row cost* is measured on the scratch server, once per run, on a calibration
  table of ``CALIBRATION_ROWS`` rows (a regular, WAL-logged table; an index on
  random text keys, so the build sorts for real): a rewrite (``ALTER COLUMN … TYPE``) for
  rewrites, a ``VALIDATE CONSTRAINT`` for scans (a CHECK or NOT NULL check, a
  foreign key), a ``CREATE INDEX`` for each index built or rebuilt (a rewrite
  rebuilds every index of the table, so each rewritten index adds its cost), on
  integer keys or, for an index with collated (text) keys, on text keys;
- *width factor* is the target's heap bytes per row over the calibration table's,
  never below 1 (wider rows cost more to copy; narrower ones still cost a row);
- a catalog-only change (no rewrite, no scan, no index build) costs its scratch
  time: milliseconds, whatever the size of the table.

A lock is held from the statement that takes it until its transaction commits, so
its hold is the sum of the estimates of that statement and every later statement
in the same transaction. The model ignores the wait for the lock itself (bounded by
the runner's ``lock_timeout``), caching and I/O differences between machines: it
gives an order of magnitude to compare with a threshold, not a prediction to the
millisecond. Statements whose work depends on the data (an UPDATE backfill, a DO
block) are costed as touching every row of their tables and flagged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy.engine import URL

from conventions.harness.scratch import connect
from conventions.plan.probe import Relation
from conventions.plan.sizes import Size, TargetSizes
from conventions.plan.tracer import Traced

CALIBRATION_ROWS = 20_000
_DATA = ("UPDATE", "DELETE", "INSERT", "MERGE", "DO", "CALL", "COPY")


@dataclass(frozen=True)
class Rates:
    """Seconds per row on the scratch server, and the calibration rows' width."""

    rewrite: float
    scan: float
    index: float  # an index on integer keys
    text_index: float  # an index on collated (text) keys
    row_bytes: float
    rows: int = CALIBRATION_ROWS


def calibrate(url: URL, rows: int = CALIBRATION_ROWS) -> Rates:
    """Measure per-row costs on a throw-away table in the scratch database at ``url``."""
    conn = connect(url, application="conventions plan (calibration)")
    try:
        with conn.cursor() as cur:
            # The commit's flush is a fixed cost, not a per-row one: keep it out.
            cur.execute("SET synchronous_commit = off")
            # A regular table (not TEMP): its rewrite is WAL-logged like the target's.
            cur.execute(
                "CREATE TABLE conventions_plan_calibration (id bigint, v integer, key text)"
            )
            cur.execute(
                "INSERT INTO conventions_plan_calibration"
                " SELECT g, hashint4(g) & 2147483647, md5(g::text) FROM generate_series(1, %s) g",
                (rows,),
            )
            cur.execute("SELECT pg_relation_size('conventions_plan_calibration')")
            row = cur.fetchone()
            row_bytes = (row[0] if row else 0) / rows

            def timed(sql: str) -> float:
                started = time.perf_counter()
                cur.execute(sql)
                return (time.perf_counter() - started) / rows

            cur.execute(
                "ALTER TABLE conventions_plan_calibration ADD CONSTRAINT calibration_v"
                " CHECK (v >= 0) NOT VALID"
            )
            scan = timed(
                "ALTER TABLE conventions_plan_calibration VALIDATE CONSTRAINT calibration_v"
            )
            # Twice (there and back), keeping the faster: one noisy sample halves nothing.
            rewrite = min(
                timed("ALTER TABLE conventions_plan_calibration ALTER COLUMN v TYPE bigint"),
                timed("ALTER TABLE conventions_plan_calibration ALTER COLUMN v TYPE integer"),
            )
            # Keys in random order, so the builds sort for real; text keys compare
            # through the collation, several times slower than integers.
            index = timed(
                "CREATE INDEX conventions_plan_calibration_v ON conventions_plan_calibration (v)"
            )
            text_index = timed(
                "CREATE INDEX conventions_plan_calibration_k ON conventions_plan_calibration (key)"
            )
            cur.execute("DROP TABLE conventions_plan_calibration")
    finally:
        conn.close()
    return Rates(rewrite, scan, index, text_index, row_bytes, rows)


@dataclass
class Estimate:
    """One statement's modelled time on the target, and what it rests on."""

    seconds: float
    work: str  # "rewrite", "scan", "index build", "catalog only", "data-dependent"
    rows: float | None  # target rows of the table it works on (None: unknown)
    unknown: list[str]  # tables whose size is not known
    data_dependent: bool = False


def data_dependent(sql: str) -> bool:
    """A statement whose cost depends on which rows exist (a backfill, a DO block)."""
    words = sql.lstrip().split(None, 1)
    return bool(words) and words[0].upper() in _DATA


def table_size(relation: Relation, sizes: TargetSizes, new: set[int]) -> Size | None:
    """The target size of ``relation``'s table; zero rows for a table the plan creates."""
    if relation.table_oid in new:
        return Size(0.0, 0, 0, "new")
    return sizes.get(relation.table_schema, relation.table_name)


def estimate(traced: Traced, sizes: TargetSizes, rates: Rates | None, new: set[int]) -> Estimate:
    """Model ``traced``'s time on the target (see the module docstring)."""
    seconds = traced.seconds
    unknown: list[str] = []
    rows_seen: list[float] = []
    kinds: list[str] = []
    dependent = data_dependent(traced.sql)

    def add(relation: Relation, rate: float, kind: str, widen: bool) -> None:
        nonlocal seconds
        size = table_size(relation, sizes, new)
        if size is None or size.rows is None:
            if relation.table not in unknown:
                unknown.append(relation.table)
            return
        factor = 1.0
        if widen and rates is not None and size.row_bytes:
            factor = max(1.0, size.row_bytes / rates.row_bytes)
        seconds += size.rows * rate * factor
        rows_seen.append(size.rows)
        if kind not in kinds:
            kinds.append(kind)

    rewritten_tables = {rel.oid for rel in traced.rewritten if rel.kind != "i"}
    built = {rel.table_oid for rel in traced.created if rel.kind == "i"}
    if rates is not None:
        for rel in traced.rewritten:
            if rel.kind in ("r", "m"):
                add(rel, rates.rewrite, "rewrite", True)
            elif rel.kind == "i":
                add(rel, _index_rate(rel, rates), "rewrite", False)
        for rel in traced.created:
            if rel.kind == "i" and rel.table_oid not in new:
                add(rel, _index_rate(rel, rates), "index build", False)
        for rel in traced.scanned:
            if rel.oid in rewritten_tables or rel.oid in built:
                continue
            rate = (
                rates.rewrite
                if dependent and not traced.sql.lstrip().upper().startswith("SELECT")
                else rates.scan
            )
            add(rel, rate, "scan", True)
    work = kinds[0] if kinds else "catalog only"
    if dependent:
        work = "data-dependent"
    return Estimate(seconds, work, max(rows_seen) if rows_seen else None, unknown, dependent)


def _index_rate(index: Relation, rates: Rates) -> float:
    return rates.text_index if index.collated else rates.index


def needs_rates(statements: list[Traced]) -> bool:
    """Whether any statement rewrote, scanned or built something (calibration is needed)."""
    return any(
        s.rewritten or s.scanned or any(r.kind == "i" for r in s.created) for s in statements
    )
