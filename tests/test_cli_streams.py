"""stdout is for results: every house command, given bad input, fails on stderr.

``status --json | jq`` must work on failure too: with ``--json`` stdout is exactly
one JSON document (``{"error": …}``), without it stdout is empty; the error, its
hints and any log line go to stderr. No database is needed: each input is refused
before one is reached (a URL on a closed port, a malformed URL, a missing name).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conventions.cli import COMMANDS
from conventions.harness.scratch import child_env

ROOT = Path(__file__).resolve().parents[1]
CLOSED = "postgresql://app:Pa55-never-shown@127.0.0.1:1/nodb"  # nothing listens on port 1

# (argv after `python -m conventions`, DATABASE_URL, run in an empty directory?, error text)
CASES: list[tuple[list[str], str, bool, str]] = [
    (["status"], CLOSED, False, "Cannot connect to the database"),
    (["status", "--json"], CLOSED, False, "Cannot connect to the database"),
    (["inspect", "offers"], CLOSED, False, "Cannot connect to the database"),
    (["inspect", "offers", "--json"], CLOSED, False, "Cannot connect to the database"),
    (["lint", "--models", "no.such.module"], CLOSED, False, "no module named 'no.such.module'"),
    (["plan", "deadbeef"], CLOSED, False, "No revision 'deadbeef'"),
    (["plan", "deadbeef", "--json"], CLOSED, False, "No revision 'deadbeef'"),
    (["config"], CLOSED, True, "doesn't exist"),
    (["config", "--json"], CLOSED, True, "doesn't exist"),
    (["archive", "restore"], CLOSED, False, "Name the archive(s) to restore."),
    (["archive", "list", "--json"], CLOSED, False, "Cannot connect to the database"),
    (["repair", "nosuch"], CLOSED, False, "Cannot connect to the database"),
    (["baseline", "nosuch"], CLOSED, False, "Cannot connect to the database"),
    (["migrate"], CLOSED, False, "Cannot connect to the database"),
    (["rollback"], CLOSED, False, "Cannot connect to the database"),
    (["db", "url"], "notaurl", False, "DATABASE_URL is malformed"),
    (["init"], CLOSED, True, "No Alembic project"),
]


def test_every_command_has_a_bad_input_case() -> None:
    assert {argv[0] for argv, *_ in CASES} == set(COMMANDS)


@pytest.mark.parametrize(
    ("argv", "url", "empty_dir", "error"), CASES, ids=[" ".join(c[0]) for c in CASES]
)
def test_a_failing_command_keeps_stdout_for_its_result(
    argv: list[str], url: str, empty_dir: bool, error: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "conventions", *argv],
        cwd=tmp_path if empty_dir else ROOT,
        env=child_env(url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode in (1, 2), result.stdout + result.stderr
    assert error in result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "Pa55-never-shown" not in result.stdout + result.stderr
    if "--json" in argv:
        document = json.loads(result.stdout)  # one document, nothing around it
        assert error in json.dumps(document["error"])
    else:
        assert result.stdout == ""
