"""The pre-commit hook, for real: a scratch git repository, the project's config, no network."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests import lint_foreign_project as foreign_project

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


# -- another repository, as it would use the published hooks ------------------------------

FOREIGN_CONFIG = """
[tool.conventions]
metadata = "shop.models:db"

[tool.conventions.lint]
paths = ["shop"]
"""


def published_as_local(site: Path) -> str:
    """.pre-commit-hooks.yaml as another repository gets it, run from this .venv.

    Cloning the hook repository needs the network; a local hook with the published
    hook's own file selection (files, types, always_run, pass_filenames) and its
    console script from .venv exercises the same selection.
    """
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    local = []
    for hook in hooks:
        hook = dict(hook)
        hook.pop("additional_dependencies", None)
        hook["entry"] = str(ROOT / ".venv" / "bin" / hook["entry"])
        hook["language"] = "system"
        local.append(hook)
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": local}]}, sort_keys=False)


@pytest.fixture
def foreign(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A Flask-Migrate-shaped repository that adopted the conventions: baseline committed."""
    repo = foreign_project.build(tmp_path / "shop-repo", pyproject=FOREIGN_CONFIG)
    site = foreign_project.site_packages(repo)
    (repo / ".pre-commit-config.yaml").write_text(published_as_local(site))
    (repo / ".gitignore").write_text("__pycache__/\n")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "PYTHONPATH": str(site),  # the project's own dependencies (flask, here a stand-in)
        "PLAIN_LOGS": "1",
    }
    env.pop("DATABASE_URL", None)
    python = str(ROOT / ".venv" / "bin" / "python")
    for args in (["--baseline"], ["--models", "--baseline"], ["--squawk", "--baseline"]):
        done = subprocess.run(
            [python, "-m", "conventions", "lint", *args],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    git(repo, env, "init", "--quiet")
    installed = pre_commit(repo, env, "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    git(repo, env, "add", "--all")
    adopted = subprocess.run(
        ["git", "commit", "-m", "adopt the conventions"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
    )
    assert adopted.returncode == 0, adopted.stdout + adopted.stderr
    return repo, env


def commit(repo: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", "-m", message], cwd=repo, env=env, capture_output=True, text=True
    )


def test_a_readme_only_commit_passes_in_a_repository_with_legacy_enums(foreign) -> None:
    repo, env = foreign
    (repo / "README.md").write_text("# shop\n\nNow with conventions.\n")
    git(repo, env, "add", "README.md")
    done = commit(repo, env, "docs")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    lines = {line.split(".")[0]: line for line in output.splitlines() if "..." in line}
    # Content checks had no staged file to read; only the manifest guard ran.
    assert lines["no Enum types in models and migrations"].endswith("(no files to check)Skipped")
    assert lines["applied migrations unchanged"].endswith("Passed")
    assert lines["no Enum columns in the model metadata"].endswith("(no files to check)Skipped")


def test_a_commit_adding_an_enum_fails_with_only_the_new_finding(foreign) -> None:
    repo, env = foreign
    head = git(repo, env, "rev-parse", "HEAD").stdout
    path = repo / "migrations" / "versions" / "4d5e6f7a8b9c_add_priority.py"
    path.write_text(
        foreign_project.revision(
            "add priority",
            "4d5e6f7a8b9c",
            "3c4d5e6f7a8b",
            'op.add_column("orders", sa.Column("priority", sa.Enum("low", "high", name="p")))',
        )
    )
    models = repo / "shop" / "models.py"
    models.write_text(
        models.read_text() + '    priority = sa.Column(sa.Enum("low", "high", name="p"))\n'
    )
    git(repo, env, "add", "--all")
    done = commit(repo, env, "priorities")
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    findings = sorted(line for line in output.splitlines() if ": HSE0" in line)
    assert findings == [
        "migrations/versions/4d5e6f7a8b9c_add_priority.py:14:51: HSE001 sa.Enum "
        "(sqlalchemy.Enum) makes a native ENUM type; use conventions.Choice (VARCHAR + named "
        "CHECK)",
        "shop/models.py:14:26: HSE001 sa.Enum (sqlalchemy.Enum) makes a native ENUM type; use "
        "conventions.Choice (VARCHAR + named CHECK)",
        "shop/models.py:14:5: HSE009 column orders.priority is Enum('low', 'high', name='p') "
        "(a native ENUM) in the metadata; use conventions.Choice",
    ]
    assert git(repo, env, "rev-parse", "HEAD").stdout == head


def test_the_models_hook_names_the_projects_import_error(foreign) -> None:
    repo, env = foreign
    (repo / "shop" / "db.py").write_text("import flask_sqlalchemy_missing\n")
    git(repo, env, "add", "--all")
    done = commit(repo, env, "break the import")
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert (
        "Cannot import shop.models to check its metadata: the project's code raised "
        "ModuleNotFoundError: No module named 'flask_sqlalchemy_missing' at shop/db.py, line 1."
    ) in output
    assert "run from the project root?" not in output


def test_the_manifest_guard_runs_on_a_commit_that_only_deletes_a_migration(foreign) -> None:
    repo, env = foreign
    python = str(ROOT / ".venv" / "bin" / "python")
    subprocess.run(
        [python, "-m", "conventions", "lint", "--update-manifest"],
        cwd=repo,
        env=env,
        check=True,
        capture_output=True,
    )
    git(repo, env, "add", "--all")
    assert commit(repo, env, "record applied migrations").returncode == 0
    git(repo, env, "rm", "--quiet", "migrations/versions/3c4d5e6f7a8b_backfill.py")
    done = commit(repo, env, "drop a migration")
    assert done.returncode != 0
    assert ": HSE011 applied migration 3c4d5e6f7a8b_backfill.py is listed here but missing" in (
        done.stdout + done.stderr
    )
