"""Progress lines for a migration run: ``[3/7] 20250131-add-… ✅ 0.21s``."""

from __future__ import annotations

import time
from pathlib import Path

from conventions import logs


def step_name(step: object) -> str:
    """Return the file stem of a migration step, the name people know it by."""
    revision = getattr(step, "revision", None)
    path = getattr(revision, "path", None)
    if path:
        return Path(path).stem
    return str(getattr(revision, "revision", step))


class Progress:
    """Count and time steps; ``total`` is known only once Alembic has planned the run."""

    def __init__(self) -> None:
        self.total = 0
        self.index = 0
        self.started = time.perf_counter()
        self._step_started = self.started

    def plan(self, total: int, direction: str) -> None:
        self.total = total
        if total:
            verb = "to roll back" if direction == "downgrade" else "to apply"
            logs.start(f"Starting {direction}: {total} migration(s) {verb}")

    def begin_step(self) -> None:
        self._step_started = time.perf_counter()

    def end_step(self, step: object, *, is_upgrade: bool) -> float:
        self.index += 1
        elapsed = time.perf_counter() - self._step_started
        arrow = "" if is_upgrade else " (downgrade)"
        mark = logs.mark("done")
        logs.info(f"[{self.index}/{self.total}] {step_name(step)}{arrow} {mark} {elapsed:.2f}s")
        return elapsed

    def finish(self, up_to_date_message: str) -> None:
        if self.total == 0:
            logs.done(up_to_date_message)
            return
        total = time.perf_counter() - self.started
        logs.finish(f"Done: {self.index} migration(s) in {total:.2f}s")
