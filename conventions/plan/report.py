"""A plan as data: per revision, per statement, per lock; what render and the gate read.

Built from the scratch trace (``tracer``), the target's sizes (``sizes``) and the
hold-time model (``model``). Locks on relations the pending migrations create are
kept but block nobody: no application query can use a table that does not exist
on the target yet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from conventions.plan.locks import blocks
from conventions.plan.model import Estimate, Rates, estimate
from conventions.plan.sizes import TargetSizes
from conventions.plan.tracer import Traced, ignored

_KINDS = {
    "r": "table",
    "i": "index",
    "m": "materialized view",
    "t": "TOAST",
    "S": "sequence",
    "p": "partitioned table",
}
SHORT = 72


def shorten(sql: str, width: int = SHORT) -> str:
    """One line, whitespace collapsed, cut with an ellipsis."""
    flat = re.sub(r"\s+", " ", sql).strip().rstrip(";")
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


@dataclass
class LockPlan:
    relation: str
    table: str  # the table an index belongs to (the relation itself for a table)
    kind: str
    mode: str
    blocks: tuple[str, ...]  # of application traffic on the target: reads, writes
    new: bool  # created by the pending migrations: blocks nobody on the target
    target_rows: float | None
    hold_seconds: float  # estimated: from this statement until its transaction commits

    @property
    def blocking(self) -> tuple[str, ...]:
        return () if self.new else self.blocks


@dataclass
class StatementPlan:
    sql: str
    transaction: str  # "revision", "after commit", "autocommit"
    scratch_seconds: float
    estimate: Estimate
    locks: list[LockPlan] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)
    scanned: list[str] = field(default_factory=list)
    observed: bool = True
    error: str | None = None

    @property
    def short(self) -> str:
        return shorten(self.sql)


@dataclass
class RevisionPlan:
    revision: str
    label: str  # file stem (revision id)
    statements: list[StatementPlan] = field(default_factory=list)
    failed: StatementPlan | None = None  # the statement that could not run on scratch
    failure: str | None = None  # why it (or the revision) could not run
    skipped: str | None = None  # not run: an earlier revision failed

    def blocking(self) -> list[tuple[StatementPlan, LockPlan]]:
        """Every (statement, lock) that blocks application reads or writes, longest first."""
        found = [(s, lock) for s in self.statements for lock in s.locks if lock.blocking]
        return sorted(found, key=lambda pair: (-pair[1].hold_seconds, pair[1].kind != "table"))


@dataclass
class Plan:
    revisions: list[RevisionPlan]
    sizes: TargetSizes
    rates: Rates | None
    threshold: float
    start: tuple[str, ...] = ()  # the revision the scratch database was built at
    scratch_version: str | None = None
    scratch_seconds: float = 0.0  # building the scratch database at the target's revision
    trace_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return all(r.failure is None and r.skipped is None for r in self.revisions)


def revision_plan(
    revision: str,
    label: str,
    traced: list[Traced],
    sizes: TargetSizes,
    rates: Rates | None,
    new: set[int],
) -> RevisionPlan:
    """Turn one revision's traced statements into statement and lock plans."""
    plan = RevisionPlan(revision, label)
    kept = [t for t in traced if t.error is None and not t.bookkeeping]
    estimates = [estimate(t, sizes, rates, new) for t in kept]
    first_txn: str | None = None
    committed = False
    for index, (t, est) in enumerate(zip(kept, estimates, strict=True)):
        if t.autocommit:
            hold = est.seconds
            where = "autocommit"
            committed = True
        else:
            hold = sum(
                e.seconds
                for later, e in zip(kept[index:], estimates[index:], strict=True)
                if later.transaction == t.transaction and not later.autocommit
            )
            first_txn = first_txn or t.transaction
            committed = committed or t.transaction != first_txn
            where = "after commit" if committed else "revision"
        locks = []
        for lock in t.locks:
            if ignored(lock.relation):
                continue
            rel = lock.relation
            new_rel = rel.table_oid in new or rel.oid in new
            size = sizes.get(rel.table_schema, rel.table_name)
            rows = 0.0 if new_rel else (size.rows if size is not None else None)
            locks.append(
                LockPlan(
                    rel.qualified,
                    rel.table,
                    _KINDS.get(rel.kind, rel.kind),
                    lock.mode,
                    blocks(lock.mode),
                    new_rel,
                    rows,
                    hold,
                )
            )
        plan.statements.append(
            StatementPlan(
                t.sql,
                where,
                t.seconds,
                est,
                locks,
                [r.qualified for r in t.rewritten if r.kind != "t"],
                [r.qualified for r in t.scanned],
                t.observed,
            )
        )
    failed = [t for t in traced if t.error is not None]
    if failed:
        t = failed[-1]
        plan.failed = StatementPlan(
            t.sql, "revision", t.seconds, Estimate(0.0, "not run", None, []), error=t.error
        )
    return plan


def lock_json(lock: LockPlan) -> dict[str, Any]:
    return {
        "relation": lock.relation,
        "table": lock.table,
        "kind": lock.kind,
        "mode": lock.mode,
        "blocks": list(lock.blocking),
        "new_relation": lock.new,
        "target_rows": lock.target_rows,
        "estimated_hold_seconds": round(lock.hold_seconds, 6),
    }


def statement_json(s: StatementPlan) -> dict[str, Any]:
    return {
        "sql": s.sql.strip(),
        "short": s.short,
        "transaction": s.transaction,
        "locks": [lock_json(lock) for lock in s.locks],
        "locks_observed": s.observed,
        "rewrites": s.rewritten,
        "scans": s.scanned,
        "work": s.estimate.work,
        "data_dependent": s.estimate.data_dependent,
        "target_rows": s.estimate.rows,
        "unknown_sizes": s.estimate.unknown,
        "scratch_seconds": round(s.scratch_seconds, 6),
        "estimated_seconds": round(s.estimate.seconds, 6),
        "error": s.error,
    }
