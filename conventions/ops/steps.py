"""Decide, then do: an op's plan as a list of steps, and the one loop that runs it.

A house op reads the catalog, decides everything from what it found — which
statements, which data checks first, what to validate, what to warn about — and only
then acts. The deciding part is a pure function (catalog rows in, steps out) that
tests call with hand-made catalog rows and no database; :func:`execute` is the
short doing part, the same for every op that plans this way. Steps run in order, so
a data check placed before the first statement refuses with nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from conventions import logs
from conventions.db import preflight
from conventions.ops.runner import OpRunner


@dataclass(frozen=True)
class Run:
    """One statement, in the migration's transaction."""

    sql: str

    def __str__(self) -> str:
        return self.sql


@dataclass(frozen=True)
class Validate:
    """``VALIDATE CONSTRAINT`` each name in a transaction of its own (:meth:`OpRunner.validate`).

    ``added`` names the constraints the op has just added NOT VALID, with the rows
    each rejects, so a concurrent writer's rows drop them again and are counted.
    """

    table_sql: str
    names: tuple[str, ...]
    added: Mapping[str, preflight.Rejected] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"VALIDATE {', '.join(self.names)} (own transaction)"


@dataclass(frozen=True)
class Check:
    """A data check before DDL: raises the house error, changes nothing."""

    what: str
    test: Callable[[Connection], None]

    @classmethod
    def rows(cls, rejected: preflight.Rejected) -> Check:
        """No row may be one that ``rejected`` describes."""
        return cls(f"no rows that {rejected.why} ({rejected.name})", rejected.check)

    def __str__(self) -> str:
        return f"check: {self.what}"


@dataclass(frozen=True)
class Warn:
    """A warning to log at this point (something skipped, reused or costly)."""

    message: str

    def __str__(self) -> str:
        return f"warn: {self.message}"


Step = Run | Validate | Check | Warn


def execute(run: OpRunner, steps: Iterable[Step]) -> None:
    """Carry out a plan, step by step."""
    for step in steps:
        if isinstance(step, Run):
            run.run(step.sql)
        elif isinstance(step, Validate):
            run.validate(step.table_sql, step.names, added=step.added)
        elif isinstance(step, Check):
            step.test(run.conn)
        else:
            logs.warn(step.message)
