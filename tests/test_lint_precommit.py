"""The pre-commit hook, for real: a scratch git repository, the project's config, no network."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRE_COMMIT = str(ROOT / ".venv" / "bin" / "pre-commit")

PLANTED = '''"""A model written the old way."""

from sqlalchemy import BigInteger, Enum
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    state: Mapped[str] = mapped_column(Enum("open", "closed", name="ticket_state"))
'''
FINDING = (
    "app/models/planted.py:13:40: HSE001 Enum (sqlalchemy.Enum) makes a native ENUM type; "
    "use conventions.Choice (VARCHAR + named CHECK)"
)


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A git repository holding a copy of the project and its .pre-commit-config.yaml."""
    repo = tmp_path / "repo"
    repo.mkdir()
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("alembic", "app"):
        shutil.copytree(ROOT / name, repo / name, ignore=ignore)
    for name in ("alembic.ini", "pyproject.toml", ".pre-commit-config.yaml", ".squawk.toml"):
        shutil.copy(ROOT / name, repo / name)
    (repo / ".venv").symlink_to(ROOT / ".venv")  # the hooks run from .venv, as here
    (repo / ".gitignore").write_text(".venv\n__pycache__/\n")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),  # no shared cache, no clones
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        # squawk has its own test; the sample migrations' squawk state is not this test's.
        "SKIP": "conventions-squawk",
        "PLAIN_LOGS": "1",
    }
    env.pop("DATABASE_URL", None)
    git(repo, env, "init", "--quiet")
    git(repo, env, "add", "--all")
    return repo, env


def git(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    )


def pre_commit(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PRE_COMMIT, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=300
    )


def test_the_hooks_pass_on_the_project_and_fail_on_a_planted_enum(repo) -> None:
    path, env = repo
    clean = pre_commit(path, env, "run", "--all-files")
    assert clean.returncode == 0, clean.stdout + clean.stderr

    (path / "app" / "models" / "planted.py").write_text(PLANTED)
    git(path, env, "add", "app/models/planted.py")
    done = pre_commit(path, env, "run", "--all-files")
    assert done.returncode == 1, done.stdout + done.stderr
    assert FINDING in done.stdout.splitlines()
    assert "- hook id: conventions-lint\n" in done.stdout


def test_git_commit_is_refused_with_the_finding(repo) -> None:
    path, env = repo
    installed = pre_commit(path, env, "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    git(path, env, "commit", "--quiet", "-m", "the project")
    head = git(path, env, "rev-parse", "HEAD").stdout

    (path / "app" / "models" / "planted.py").write_text(PLANTED)
    git(path, env, "add", "app/models/planted.py")
    commit = subprocess.run(
        ["git", "commit", "-m", "add tickets"], cwd=path, env=env, capture_output=True, text=True
    )
    assert commit.returncode != 0
    assert FINDING in (commit.stdout + commit.stderr).splitlines()
    assert git(path, env, "rev-parse", "HEAD").stdout == head  # nothing was committed
