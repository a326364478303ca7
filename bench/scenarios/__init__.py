"""The eight measurements of issue 8, one module each, run in this order.

Each module has ``NUMBER``, ``TITLE``, ``NEEDS_TABLE`` (whether it runs on the big
table under the writer) and ``run(ctx) -> Section``.
"""

from __future__ import annotations

from types import ModuleType

from bench.scenarios import (
    allowed_values,
    choice_column,
    harness,
    index,
    lint,
    lock_queue,
    many_revisions,
    noop_migrate,
)

ALL: tuple[ModuleType, ...] = (
    choice_column,
    allowed_values,
    index,
    lock_queue,
    noop_migrate,
    many_revisions,
    lint,
    harness,
)
