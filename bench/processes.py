"""Wall time of whole processes, as a user at a terminal experiences them."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from sqlalchemy.engine import URL

from bench.config import ROOT

BIN = ROOT / ".venv" / "bin"


class ProcessFailed(RuntimeError):
    """A timed command exited non-zero: its time would measure the failure, not the work."""


def child_env(url: URL, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    env["DATABASE_URL"] = url.render_as_string(hide_password=False)
    env["PLAIN_LOGS"] = "1"
    env.update(extra or {})
    return env


def timed(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path = ROOT) -> float:
    """Run ``argv`` to completion and return its wall time; raise if it fails."""
    return timed_with_cpu(argv, env=env, cwd=cwd)[0]


def timed_with_cpu(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path = ROOT
) -> tuple[float, float]:
    """Return (wall time, CPU time) of ``argv`` and the processes it waited for.

    CPU time (user + system) is far less sensitive than wall time to other work on
    a shared machine, so it says where a difference in wall time comes from.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(list(argv), cwd=cwd, env=dict(env), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise ProcessFailed(f"{' '.join(argv)} exited {done.returncode}: {failure_line(done)}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def failure_line(done: subprocess.CompletedProcess[str]) -> str:
    """The line of a failed command's output that says what went wrong."""
    lines = [line.strip() for line in (done.stdout + "\n" + done.stderr).splitlines()]
    for line in lines:
        if line.startswith(("[error]", "FAILED", "❌")) or "Error:" in line:
            return line
    return next((line for line in reversed(lines) if line), f"exit status {done.returncode}")
