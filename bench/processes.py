"""Wall time of whole processes, as a user at a terminal experiences them."""

from __future__ import annotations

import os
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
    started = time.perf_counter()
    done = subprocess.run(list(argv), cwd=cwd, env=dict(env), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise ProcessFailed(f"{' '.join(argv)} exited {done.returncode}: {failure_line(done)}")
    return elapsed


def failure_line(done: subprocess.CompletedProcess[str]) -> str:
    """The line of a failed command's output that says what went wrong."""
    lines = [line.strip() for line in (done.stdout + "\n" + done.stderr).splitlines()]
    for line in lines:
        if line.startswith(("[error]", "FAILED", "❌")) or "Error:" in line:
            return line
    return next((line for line in reversed(lines) if line), f"exit status {done.returncode}")
