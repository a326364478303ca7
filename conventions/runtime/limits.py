"""How long the runtime waits, and how often it retries: environment, then pyproject.toml.

The defaults follow what keeps a busy production database responsive: a migration
waits at most 2 s for a table lock (``lock_timeout``), so application queries
queued behind its ALTER are released quickly; it then backs off and tries again a
bounded number of times. Every attempt can hold that traffic for the full lock
timeout, so shorter is kinder to the application (docs/benchmarks.md, measurement
4: 500 ms held traffic 10x less than 5 s, for a migration a second longer); 2 s
still lets a migration through ordinary multi-second transactions without
exhausting its retries. ``statement_timeout`` is generous because DDL such as an
index build or a constraint validation can legitimately take minutes.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from conventions.errors import InvalidSetting
from conventions.project.durations import parse_duration

MIGRATOR_WAIT = "CONVENTIONS_MIGRATOR_WAIT"
LOCK_TIMEOUT = "CONVENTIONS_LOCK_TIMEOUT"
STATEMENT_TIMEOUT = "CONVENTIONS_STATEMENT_TIMEOUT"
LOCK_RETRIES = "CONVENTIONS_LOCK_RETRIES"
RETRY_BACKOFF = "CONVENTIONS_RETRY_BACKOFF"

BACKOFF_CAP = 30.0
# PostgreSQL keeps lock_timeout and statement_timeout as an int of milliseconds.
PG_TIMEOUT_MAX = 2_147_483_647 / 1000
MIGRATOR_WAIT_MAX = 24 * 3600.0
LOCK_RETRIES_MAX = 100
_COUNT = re.compile(r"^[0-9]+$", re.ASCII)


def _bounded(name: str, value: str, seconds: float, *, most: float, timeout: bool) -> float:
    """Refuse a duration PostgreSQL (or common sense) cannot honour, naming the variable.

    A PostgreSQL timeout is whole milliseconds and 0 means "none": 0.0001ms would be
    rounded to 0 and silently disable the timeout, so anything between 0 and 1ms is
    refused rather than guessed.
    """
    if timeout and 0 < seconds < 0.001:
        raise InvalidSetting(
            name, value, "0 (no timeout) or at least 1ms: PostgreSQL would round it to 0"
        )
    if seconds > most:
        limit = f"{most * 1000:.0f}ms (PostgreSQL's limit)" if timeout else f"{most:g}s"
        raise InvalidSetting(name, value, f"at most {limit}")
    return seconds


def pg_duration(seconds: float) -> str:
    """Render seconds as a PostgreSQL setting value in milliseconds ('0' disables).

    Rounded up: a positive timeout must never become 0 (no timeout at all).
    """
    return f"{math.ceil(round(seconds * 1000, 6))}ms" if seconds > 0 else "0"


@dataclass(frozen=True)
class Limits:
    migrator_wait: float = 60.0
    lock_timeout: float = 2.0
    statement_timeout: float = 3600.0
    lock_retries: int = 4
    retry_backoff: float = 1.0

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, root: Path | None = None
    ) -> Limits:
        """Read each limit: its environment variable, then ``[tool.conventions.lock]``."""
        from conventions.db.settings import project_root
        from conventions.project.config import lookup

        env = os.environ if environ is None else environ
        where = root or project_root()
        default = cls()

        def raw(key: str, name: str) -> tuple[str, str]:
            found = lookup(f"lock.{key}", root=where, env=name, default="", environ=env)
            origin = name if found.source.startswith("environment") else found.source
            return str(found.value).strip(), origin

        def duration(
            key: str, name: str, fallback: float, *, most: float, timeout: bool = False
        ) -> float:
            value, origin = raw(key, name)
            if not value:
                return fallback
            return _bounded(
                origin, value, parse_duration(origin, value), most=most, timeout=timeout
            )

        retries_raw, origin = raw("retries", LOCK_RETRIES)
        if retries_raw and (not _COUNT.match(retries_raw) or int(retries_raw) > LOCK_RETRIES_MAX):
            raise InvalidSetting(
                origin, retries_raw, f"a whole number of retries from 0 to {LOCK_RETRIES_MAX}"
            )
        return cls(
            migrator_wait=duration(
                "migrator_wait", MIGRATOR_WAIT, default.migrator_wait, most=MIGRATOR_WAIT_MAX
            ),
            lock_timeout=duration(
                "lock_timeout",
                LOCK_TIMEOUT,
                default.lock_timeout,
                most=PG_TIMEOUT_MAX,
                timeout=True,
            ),
            statement_timeout=duration(
                "statement_timeout",
                STATEMENT_TIMEOUT,
                default.statement_timeout,
                most=PG_TIMEOUT_MAX,
                timeout=True,
            ),
            lock_retries=int(retries_raw) if retries_raw else default.lock_retries,
            retry_backoff=duration(
                "retry_backoff", RETRY_BACKOFF, default.retry_backoff, most=BACKOFF_CAP
            ),
        )

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based): doubling, capped."""
        return min(self.retry_backoff * 2 ** (retry - 1), BACKOFF_CAP)
