"""One timed operation on the big table while the writer keeps writing.

A trial records the writer's quiet baseline, runs the operation and notes its start
and end, then waits until every statement that overlapped the operation has
finished, so a statement stuck behind a lock is counted with its whole wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bench.lockwatch import LockWatch
from bench.stats import Spread, percentile
from bench.writer import Sample, Writer, clock


@dataclass
class Trial:
    variant: str
    start: float
    end: float
    baseline: list[Sample]
    during: list[Sample]
    after: list[Sample]
    error: str | None = None
    lock_wait: float = 0.0  # the writer's longest wait on a lock during the operation (sampled)
    extra: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def worst(self) -> float:
        """The writer's slowest statement overlapping the operation, in seconds."""
        return max((s.latency for s in self.during), default=float("nan"))

    def worst_of(self, kinds: tuple[str, ...]) -> float:
        """The slowest overlapping statement among these kinds (insert, update, select)."""
        return max((s.latency for s in self.during if s.kind in kinds), default=float("nan"))

    @property
    def baseline_worst(self) -> float:
        return max((s.latency for s in self.baseline), default=float("nan"))

    def timeline(self) -> list[tuple[float, float, str]]:
        """(start relative to the operation's start, latency, kind) of every sample."""
        return [
            (s.start - self.start, s.latency, s.kind)
            for s in (*self.baseline, *self.during, *self.after)
        ]

    def summary(self) -> dict[str, object]:
        return {
            "variant": self.variant,
            "seconds": self.seconds,
            "worst": self.worst,
            "baseline_worst": self.baseline_worst,
            "lock_wait": self.lock_wait,
            "during_count": len(self.during),
            "during_failed": sum(not s.ok for s in self.during),
            "error": self.error,
            **self.extra,
        }


def run_trial(
    writer: Writer,
    variant: str,
    action: Callable[[], None],
    *,
    baseline_s: float,
    tail_s: float,
) -> Trial:
    """Time ``action`` while the writer runs; an exception is recorded, not raised."""
    writer.wait_until(clock(), timeout=60)  # the previous clean-up may still hold it up
    with LockWatch(writer.url) as watch:
        quiet_from = clock()
        time.sleep(baseline_s)
        error = None
        start = clock()
        try:
            action()
        except Exception as err:  # a failed variant is reported as failed, next to the others
            first = str(err).strip().splitlines()[0] if str(err).strip() else ""
            error = f"{type(err).__name__}: {first}"
        end = clock()
        time.sleep(tail_s)
        writer.wait_until(clock(), timeout=120)
    samples = writer.between(quiet_from, clock())
    return Trial(
        variant=variant,
        start=start,
        end=end,
        baseline=[s for s in samples if s.end <= start],
        during=[s for s in samples if s.start < end and s.end > start],
        after=[s for s in samples if s.start >= end],
        error=error,
        lock_wait=watch.longest_wait(start, end),
    )


@dataclass(frozen=True)
class VariantResult:
    """Every repeat of one variant, summarised the way the report prints it."""

    variant: str
    trials: tuple[Trial, ...]

    @property
    def ok(self) -> list[Trial]:
        return [t for t in self.trials if t.error is None]

    @property
    def seconds(self) -> Spread:
        return Spread.of([t.seconds for t in self.ok])

    @property
    def worst(self) -> Spread:
        return Spread.of([t.worst for t in self.ok])

    def worst_of(self, kinds: tuple[str, ...]) -> Spread:
        return Spread.of([t.worst_of(kinds) for t in self.ok])

    @property
    def lock_wait(self) -> Spread:
        return Spread.of([t.lock_wait for t in self.ok])

    @property
    def errors(self) -> list[str]:
        return [t.error for t in self.trials if t.error]

    def representative(self) -> Trial | None:
        """The run whose writer-worst is the median one: the run the plot shows."""
        ok = sorted(self.ok, key=lambda t: t.worst)
        return ok[(len(ok) - 1) // 2] if ok else (self.trials[0] if self.trials else None)


def baseline_stats(results: Sequence[VariantResult]) -> dict[str, float]:
    """The writer's latencies with no DDL running, pooled over every trial's quiet window."""
    latencies = [s.latency for r in results for t in r.trials for s in t.baseline]
    windows = [t.baseline_worst for r in results for t in r.trials if t.baseline]
    return {
        "count": float(len(latencies)),
        "windows": float(len(windows)),
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies, default=float("nan")),
        # The like-for-like noise floor: the worst statement of one quiet window about
        # as long as an operation, typically.
        "window_worst": Spread.of(windows).median,
    }
