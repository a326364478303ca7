"""The ``--check`` gate: fail when a statement would block traffic on the target too long.

A lock fails the gate when it blocks application reads or writes (``locks.blocks``)
on a relation that exists on the target and its estimated hold (``model``) exceeds
``max_blocking`` (default 1 s; ``[tool.conventions.plan] max_blocking`` in
pyproject.toml, ``CONVENTIONS_PLAN_MAX_BLOCKING`` over it). A statement that
rewrites, scans or builds on a blocking lock for a table of unknown size fails too:
the gate cannot vouch for what it cannot size. Each failure names the statement
and the online way to do the same thing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from conventions.errors import InvalidSetting
from conventions.plan.report import LockPlan, Plan, RevisionPlan, StatementPlan
from conventions.project.config import lookup
from conventions.project.durations import parse_duration

ENV = "CONVENTIONS_PLAN_MAX_BLOCKING"
DEFAULT = 1.0

# (pattern on the statement, the online alternative), first match wins.
_ALTERNATIVES: tuple[tuple[str, str], ...] = (
    (
        r"\bCREATE\s+(UNIQUE\s+)?INDEX\b(?!\s+CONCURRENTLY)",
        "op.add_index(..., postgresql_concurrently=True) builds it under SHARE UPDATE EXCLUSIVE; "
        "writes continue",
    ),
    (
        r"\bALTER\s+COLUMN\b.*\bTYPE\b",
        "add a new column, backfill it in batches (op.backfill) and switch to it "
        "(op.change_column_type), or a type change PostgreSQL does without a rewrite "
        "(widening a VARCHAR)",
    ),
    (
        r"\bSET\s+NOT\s+NULL\b",
        "op.set_not_null: a NOT VALID CHECK validated first lets SET NOT NULL skip its scan",
    ),
    (
        r"\bFOREIGN\s+KEY\b",
        "op.add_foreign_key: NOT VALID, commit, then VALIDATE under SHARE UPDATE EXCLUSIVE",
    ),
    (
        r"\b(UNIQUE|PRIMARY\s+KEY)\b",
        "op.add_unique_constraint: build the unique index CONCURRENTLY, then attach it "
        "(ADD CONSTRAINT … USING INDEX)",
    ),
    (
        r"\bCHECK\b",
        "op.add_check_constraint (or op.add_choice_column): NOT VALID, commit, then VALIDATE "
        "under SHARE UPDATE EXCLUSIVE",
    ),
    (
        r"\bADD\s+(COLUMN\b)?",
        "add the column without a volatile default (a constant default is catalog-only), "
        "then backfill it in batches (op.backfill)",
    ),
    (
        r"^\s*(UPDATE|DELETE|INSERT)\b",
        "op.backfill: batches of rows, each in its own short transaction",
    ),
)
_GENERIC = (
    "split the change so the long part runs under SHARE UPDATE EXCLUSIVE (NOT VALID + "
    "VALIDATE, CONCURRENTLY), or run it in a maintenance window"
)


def max_blocking(root: Path) -> float:
    """The configured threshold in seconds (see the module docstring)."""
    setting = lookup("plan.max_blocking", root=root, env=ENV, default=DEFAULT)
    value = setting.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        name = (
            ENV
            if setting.source.startswith("environment")
            else "[tool.conventions.plan] max_blocking"
        )
        seconds = parse_duration(name, str(value))
    if seconds < 0:
        raise InvalidSetting(setting.source, str(value), "a duration of 0 or more")
    return seconds


def alternative(sql: str) -> str:
    """The online way to do what ``sql`` does."""
    for pattern, advice in _ALTERNATIVES:
        if re.search(pattern, sql, re.IGNORECASE | re.DOTALL):
            return advice
    return _GENERIC


@dataclass
class Failure:
    revision: RevisionPlan
    statement: StatementPlan
    lock: LockPlan | None  # None: the revision could not be planned
    reason: str
    advice: str


def failures(plan: Plan) -> list[Failure]:
    """Everything that fails the gate, in plan order."""
    found = []
    for rev in plan.revisions:
        pairs = [(s, lk) for s in rev.statements for lk in s.locks]
        # One failure per statement: its table's lock first, then its indexes'.
        pairs.sort(key=lambda pair: pair[1].kind != "table")
        named: set[int] = set()
        for statement, lock in pairs:
            if not lock.blocking or id(statement) in named:
                continue
            if lock.hold_seconds > plan.threshold:
                reason = (
                    f"blocks {' and '.join(lock.blocking)} on {lock.relation} for "
                    f"~{seconds_text(lock.hold_seconds)} (> {seconds_text(plan.threshold)})"
                )
            elif statement.estimate.unknown and statement.estimate.work != "catalog only":
                reason = (
                    f"blocks {' and '.join(lock.blocking)} on {lock.relation} while it works "
                    f"through {', '.join(statement.estimate.unknown)}, whose size is unknown "
                    "(pass --rows or --stats)"
                )
            else:
                continue
            named.add(id(statement))
            found.append(Failure(rev, statement, lock, reason, alternative(statement.sql)))
        if rev.failure is not None:
            placeholder = rev.failed or StatementPlan("", "revision", 0.0, _none())
            found.append(
                Failure(
                    rev,
                    placeholder,
                    None,
                    f"could not be planned: {rev.failure}",
                    "make the revision run on a database built from the history",
                )
            )
    return found


def _none():  # an empty estimate for a revision that never ran
    from conventions.plan.model import Estimate

    return Estimate(0.0, "not run", None, [])


def verdict(rev: RevisionPlan, threshold: float) -> tuple[bool, str]:
    """(ok, one line) for a revision."""
    if rev.skipped:
        return False, f"not planned: {rev.skipped}"
    if rev.failure:
        return False, f"could not run on the scratch database: {rev.failure}"
    worst = rev.blocking()
    if not worst:
        return True, "nothing blocks application reads or writes"
    statement, lock = worst[0]
    text = (
        f"longest block: {' and '.join(lock.blocking)} on {lock.relation} for "
        f"~{seconds_text(lock.hold_seconds)} ({lock.mode}, {statement.short})"
    )
    slow = lock.hold_seconds > threshold or (
        statement.estimate.unknown and statement.estimate.work != "catalog only"
    )
    return not slow, text


def seconds_text(seconds: float) -> str:
    """``0.4 ms``, ``12 ms``, ``1.3 s``, ``4.2 min``."""
    if seconds < 0.001:
        return f"{seconds * 1000:.2f} ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
