"""The lowest versions pyproject.toml declares actually work (issue 16).

A project pinning the lowest release a range allows is entitled to a working tool:
``alembic>=1.13`` was once declared while ``implementation_for(..., replace=True)``
needed 1.17.2, and every migration failed with a TypeError there. This test makes a
fresh virtualenv with exactly the lower bound of every runtime dependency, installs
the built package into it (no other dependency resolved), and runs the sample app's
history up and down, ``status`` and ``alembic check`` with it against the test server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.version import Version
from sqlalchemy.engine import URL

from conventions.harness.scratch import url_text
from tests.runtime_support import rows

ROOT = Path(__file__).resolve().parents[1]
DECLARED = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "dependencies"
]


def lowest() -> dict[str, str]:
    """Map each runtime dependency to the lower bound its range declares."""
    found = {}
    for requirement in DECLARED:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)>=([0-9][0-9.]*)(?:,<[0-9.]+)?", requirement)
        assert match, f"{requirement!r}: every runtime dependency declares a lower bound"
        found[match[1]] = match[2]
    return found


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _pip(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "pip"), *args, "--quiet", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def low_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("lowest")
    source = base / "source"  # built from a copy: no build/ or egg-info left in the repo
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "conventions", source / "conventions", ignore=shutil.ignore_patterns("__pycache__")
    )
    venv = base / "venv"
    _ok(subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True))
    _ok(_pip(venv, "install", *(f"{name}=={version}" for name, version in lowest().items())))
    _ok(_pip(venv, "install", "--no-deps", str(source)))
    _ok(_pip(venv, "check"))  # the lowest set satisfies every declared range, Mako included
    return venv


def test_the_lowest_declared_versions_migrate_and_roll_back_the_sample_app(
    low_venv: Path, tmp_path: Path, fresh_db: URL
) -> None:
    project = tmp_path / "sample"
    project.mkdir()
    shutil.copy(ROOT / "alembic.ini", project / "alembic.ini")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "alembic", project / "alembic", ignore=ignore)
    shutil.copytree(ROOT / "app", project / "app", ignore=ignore)
    env = {k: v for k, v in os.environ.items() if k not in {"CONVENTIONS_ROOT", "PYTHONPATH"}}
    env.update(DATABASE_URL=url_text(fresh_db), PLAIN_LOGS="1")
    python = str(low_venv / "bin" / "python")

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return _ok(
            subprocess.run(
                list(argv), cwd=project, env=env, capture_output=True, text=True, timeout=300
            )
        )

    versions = run(
        python,
        "-c",
        "import alembic, sqlalchemy, psycopg2, conventions; "
        "print(alembic.__version__, sqlalchemy.__version__, psycopg2.__version__.split()[0], "
        "conventions.__file__)",
    ).stdout.split()
    wanted = lowest()
    expected = [wanted["alembic"], wanted["SQLAlchemy"], wanted["psycopg2-binary"]]
    assert [Version(v) for v in versions[:3]] == [Version(v) for v in expected]
    assert "site-packages" in versions[3]  # the installed package, not the checkout's

    heads = sorted((ROOT / "alembic" / "versions").glob("*.py"))
    up = run(python, "-m", "conventions", "migrate")
    assert f"Done: {len(heads)} migration(s)" in up.stdout + up.stderr
    down = run(python, "-m", "conventions", "rollback")
    assert "Done: 1 migration(s)" in down.stdout + down.stderr
    run(python, "-m", "conventions", "migrate")
    status = json.loads(run(python, "-m", "conventions", "status", "--json").stdout)
    assert status["at_head"] is True and status["drift"] == [], status
    run(str(low_venv / "bin" / "alembic"), "check")
    directions = rows(fresh_db, "SELECT direction FROM migration_meta.history ORDER BY id")
    assert [d for (d,) in directions].count("downgrade") == 1
