"""Helpers for the runtime tests: extra revisions, background migrators, catalog reads.

The ``seeded_db`` fixture they share lives in ``tests/conftest.py``.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from conventions.harness.scratch import child_env

SEED_HEAD = "5b8e1f4a7c02"
SEED_REVISIONS = [
    ("3f1a9c2b7d10", "20250110-create-base-schema"),
    ("8b2e4d6f0a14", "20250114-add-wallet-notification-tracking"),
    ("c4d8e2a61b29", "20250129-add-loyalty-tiers-to-offers"),
    ("e7a3b5c9d131", "20250131-add-notification-campaign-fields"),
    ("1d9f7c3e5a01", "20250201-create-business-sessions-table"),
    ("5b8e1f4a7c02", "20250202-create-or-sync-business-sessions"),
]
MIGRATE = ["-m", "conventions", "migrate"]


def add_revision(
    project: Path,
    revision: str,
    *,
    down: str | None = SEED_HEAD,
    name: str | None = None,
    upgrade: str = "pass",
    downgrade: str = "pass",
) -> Path:
    """Write a revision file into a project copy; bodies are indented for you."""
    stem = name or f"20991231-runtime-test-{revision}"
    path = project / "alembic" / "versions" / f"{stem}.py"
    body = f'''"""runtime test revision {revision}"""

import os  # noqa: F401

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = {revision!r}
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade() -> None:
{textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")}


def downgrade() -> None:
{textwrap.indent(textwrap.dedent(downgrade).strip(), "    ")}
'''
    path.write_text(body)
    return path


def spawn(
    args: Sequence[str],
    *,
    url: URL,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[str]:
    """Start ``python -m conventions …`` in the background, stdout+stderr merged."""
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=cwd or Path(__file__).resolve().parents[1],
        env=child_env(url, env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def read_until(proc: subprocess.Popen[str], needle: str, *, limit: float = 60) -> str:
    """Read the child's output line by line until ``needle`` shows up (or it exits)."""
    assert proc.stdout is not None
    seen = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return "".join(seen)
    raise AssertionError(f"{needle!r} never appeared; output so far:\n{''.join(seen)}")


def wait_for(condition: Callable[[], Any], *, limit: float = 30, every: float = 0.02) -> Any:
    """Poll ``condition`` until it returns something truthy (a liveness bound, not a timing)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"condition never held within {limit}s")


def rows(url: URL, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql), dict(params or {}))]
    finally:
        engine.dispose()


def execute(url: URL, sql: str) -> None:
    """Run statements and commit (for setting up a scenario by hand)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def scalar(url: URL, sql: str, params: Mapping[str, Any] | None = None) -> Any:
    found = rows(url, sql, params)
    return found[0][0] if found else None


def version(url: URL) -> list[str]:
    if scalar(url, "SELECT to_regclass('alembic_version')") is None:
        return []
    return sorted(r[0] for r in rows(url, "SELECT version_num FROM alembic_version"))


def history(url: URL) -> list[tuple[Any, ...]]:
    """(revision, direction, success, error) for every history row, oldest first."""
    if scalar(url, "SELECT to_regclass('migration_meta.history')") is None:
        return []
    return rows(
        url, "SELECT revision, direction, success, error FROM migration_meta.history ORDER BY id"
    )


def column_names(url: URL, table: str) -> set[str]:
    found = rows(
        url,
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = :t",
        {"t": table},
    )
    return {r[0] for r in found}
