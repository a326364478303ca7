"""How big and how long a benchmark run is, from the environment.

``BENCH_ROWS`` sizes the table; ``BENCH_QUICK=1`` is a smoke run (small table, few
repeats) whose report goes to ``docs/bench-raw/quick/`` so it never overwrites the
published figures. The other knobs exist so a reader can rerun one part longer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FULL_ROWS = 5_000_000
QUICK_ROWS = 100_000


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").replace("_", "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={os.environ[name]!r} is not a whole number") from None
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}")
    return value


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None


@dataclass(frozen=True)
class BenchConfig:
    """One run's sizes, repeat counts and output places."""

    rows: int
    quick: bool
    repeats: int  # each DDL variant under the writer
    rewrite_repeats: int  # the ENUM conversion, which rewrites the whole table twice per repeat
    process_repeats: int  # no-op migrate: subprocess wall times, interleaved ours/plain
    revision_count: int  # measurement 6
    revision_repeats: int
    lint_files: int  # measurement 7
    lint_repeats: int
    harness_repeats: int  # measurement 8
    hold_s: float  # how long the blocking transaction of measurement 4 stays open
    lock_repeats: int
    writer_rate: int  # writer statements per second (at most; a blocked statement delays the next)
    baseline_s: float  # quiet writer time recorded before each DDL
    tail_s: float  # writer time recorded after each DDL
    out_dir: Path  # where benchmarks.md goes
    plot_dir: Path
    raw_dir: Path
    update_readme: bool
    only: frozenset[int] = field(default_factory=frozenset)  # BENCH_ONLY=1,3: a subset

    @property
    def label(self) -> str:
        return "quick (smoke)" if self.quick else "full"


def from_env(root: Path = ROOT) -> BenchConfig:
    """Read the BENCH_* variables; quick mode shrinks everything to fit in two minutes."""
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0", "false", "no")
    rows = _int("BENCH_ROWS", QUICK_ROWS if quick else FULL_ROWS)
    raw_dir = root / "docs" / "bench-raw"
    if quick:
        out_dir = Path(os.environ.get("BENCH_OUT", raw_dir / "quick"))
    else:
        out_dir = Path(os.environ.get("BENCH_OUT", root / "docs"))
    only_raw = os.environ.get("BENCH_ONLY", "").strip()
    try:
        only = frozenset(int(part) for part in only_raw.split(",") if part.strip())
    except ValueError:
        only = frozenset({0})
    from bench.scenarios import ALL  # the measurement list is the one source of numbers

    known = sorted(m.number for m in ALL)
    if not only <= set(known):
        listed = ", ".join(map(str, known))
        raise ValueError(f"BENCH_ONLY={only_raw!r} must list measurements among {listed}, e.g. 1,3")
    default_out = out_dir.resolve() == (root / "docs").resolve()
    return BenchConfig(
        rows=rows,
        quick=quick,
        repeats=_int("BENCH_REPEATS", 2 if quick else 5),
        rewrite_repeats=_int("BENCH_REWRITE_REPEATS", 1 if quick else 3),
        process_repeats=_int("BENCH_PROCESS_REPEATS", 3 if quick else 15),
        revision_count=_int("BENCH_REVISIONS", 200),
        revision_repeats=_int("BENCH_REVISION_REPEATS", 1 if quick else 5),
        lint_files=_int("BENCH_LINT_FILES", 1000),
        lint_repeats=_int("BENCH_LINT_REPEATS", 3 if quick else 7),
        harness_repeats=_int("BENCH_HARNESS_REPEATS", 2 if quick else 10),
        hold_s=_float("BENCH_HOLD_S", 3.0 if quick else 8.0),
        lock_repeats=_int("BENCH_LOCK_REPEATS", 1 if quick else 3),
        writer_rate=_int("BENCH_WRITER_RATE", 500),
        baseline_s=_float("BENCH_BASELINE_S", 0.5 if quick else 1.5),
        tail_s=_float("BENCH_TAIL_S", 0.3 if quick else 0.5),
        out_dir=out_dir,
        plot_dir=out_dir / "bench",
        raw_dir=raw_dir,
        update_readme=default_out and not only,
        only=only,
    )
