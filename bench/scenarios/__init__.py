"""The measurements (1-8: issue 8; 9-11: issue 14; 15: issue 15), one module each, run in order.

Each module has ``NUMBER``, ``TITLE``, ``NEEDS_TABLE`` (whether it runs on the big
table under the writer) and ``run(ctx) -> Section``. They are imported one at a
time when their turn comes, so a module that cannot be imported (a helper it
measures is broken in this checkout) fails its own measurement, not the run.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Measurement:
    number: int
    title: str
    needs_table: bool
    module: str

    def load(self) -> ModuleType:
        return importlib.import_module(f"bench.scenarios.{self.module}")


ALL: tuple[Measurement, ...] = (
    Measurement(1, "Add a choice column with its CHECK", True, "choice_column"),
    Measurement(2, "Change a column's allowed values", True, "allowed_values"),
    Measurement(3, "Create an index", True, "index"),
    Measurement(4, "A migration queued behind a long-running transaction", True, "lock_queue"),
    Measurement(5, "No-op migrate at head", False, "noop_migrate"),
    Measurement(6, "Applying 200 generated revisions", False, "many_revisions"),
    Measurement(7, "The enum lint on 1,000 model files", False, "lint"),
    Measurement(
        8, "Test harness: one test database, and the climb of a long history", False, "harness"
    ),
    # Issue 14: the safe way for the dangerous changes, on the big table under the writer.
    Measurement(9, "Set a column NOT NULL", True, "not_null"),
    Measurement(10, "Add a UNIQUE constraint", True, "unique"),
    Measurement(11, "Backfill a column on every row", True, "backfill"),
    Measurement(15, "plan over the six sample revisions", False, "plan"),
)
