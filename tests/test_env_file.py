"""A DATABASE_URL given but unusable is an error, never the embedded server (issue 11, 10).

Falling back silently migrated a local database while the user believed staging was
migrated, with exit 0. Each case checks the message (naming the file and line, or the
environment), exit 1, that no embedded server was started for the project, and that the
database the user meant is unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from conventions.db.url_source import given_url
from conventions.harness.scratch import run_cli, url_text
from tests.runtime_support import MIGRATE, SEED_HEAD, version

COMMANDS = (MIGRATE, ["alembic", "upgrade", "head"], ["-m", "conventions", "status"])


def _refused(project: Path, env: dict[str, str] | None = None) -> list[str]:
    """Run each command in ``project`` with no DATABASE_URL but ``env``; return stderr+stdout."""
    outputs = []
    for argv in COMMANDS:
        done = run_cli(argv, url=None, cwd=project, env=env)
        output = done.stdout + done.stderr
        assert done.returncode not in (0, 2), output
        assert "Traceback" not in output and "bug in the tooling" not in output
        outputs.append(output)
    assert not (project / ".pgdata").exists()  # the embedded server was never started
    return outputs


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            'DATABASE_URL="postgresql://app@db.example/app\nOTHER=1\n',
            ".env, line 1: python-dotenv cannot parse",
        ),
        (
            '# staging\n{"DATABASE_URL": "postgresql://app@db.example/app"}\n',
            ".env, line 2: python-dotenv cannot parse",
        ),
        ("DATABASE_URL=${UNDEFINED_FOR_ISSUE_11}\n", "expands ${UNDEFINED_FOR_ISSUE_11}"),
        ("OTHER=1\nDATABASE_URL=\n", ".env, line 2 is empty: the value is empty"),
        ('DATABASE_URL=""\n', ".env, line 1 is empty"),
    ],
)
def test_a_broken_or_empty_env_file_is_an_error_naming_file_and_line(
    project_copy: Path, seeded_db: URL, content: str, expected: str
) -> None:
    (project_copy / ".env").write_text(content)
    for output in _refused(project_copy):
        assert expected in output
        assert str(project_copy / ".env") in output
        assert "Nothing was run" in output
    assert version(seeded_db) == [SEED_HEAD]


def test_a_non_utf8_env_file_names_file_and_line(project_copy: Path) -> None:
    (project_copy / ".env").write_bytes(b"# ok\nDATABASE_URL=postgresql://app:caf\xe9@db/app\n")
    for output in _refused(project_copy):
        assert f"{project_copy / '.env'}, line 2: not UTF-8 (byte 0xe9)" in output
        assert "UnicodeDecodeError" not in output


def test_an_empty_database_url_in_the_environment_is_an_error(project_copy: Path) -> None:
    for value in ("", "   "):
        for output in _refused(project_copy, env={"DATABASE_URL": value}):
            assert "DATABASE_URL is set in the environment but empty" in output


def test_a_bad_url_says_where_it_came_from(project_copy: Path) -> None:
    (project_copy / ".env").write_text("\n\nDATABASE_URL=postgresql://app@db.example:54x2/app\n")
    for output in _refused(project_copy):
        assert "port that is not a number" in output
        assert f"It came from {project_copy / '.env'}, line 3." in output


def test_a_good_env_file_is_used_and_expands_variables(project_copy: Path, fresh_db: URL) -> None:
    """The strictness does not break what worked: a valid .env, ${VAR} expansion, comments."""
    base = url_text(fresh_db)
    (project_copy / ".env").write_text(
        "# local\nexport OTHER='x y'\nDATABASE_URL=${ISSUE11_BASE}  # the test database\n"
    )
    done = run_cli(MIGRATE, url=None, cwd=project_copy, env={"ISSUE11_BASE": base})
    assert done.returncode == 0, done.stdout + done.stderr
    assert version(fresh_db) == [SEED_HEAD]
    assert not (project_copy / ".pgdata").exists()


def test_no_env_file_and_no_variable_still_means_the_embedded_server(tmp_path: Path) -> None:
    assert given_url(tmp_path, environ={}) is None
    (tmp_path / ".env").write_text("OTHER=1\n# DATABASE_URL=commented out\n")
    assert given_url(tmp_path, environ={}) is None
    given = given_url(tmp_path, environ={"DATABASE_URL": " postgresql://a@b/c "})
    assert given is not None and given.value == "postgresql://a@b/c"


def test_a_migration_url_wins_over_database_url(project_copy: Path, fresh_db: URL) -> None:
    """CONVENTIONS_MIGRATION_URL (environment or .env) or [tool.conventions] migration_url."""
    elsewhere = url_text(fresh_db.set(database="no_such_database_for_the_app"))
    (project_copy / "pyproject.toml").write_text(
        f'[tool.conventions]\nmigration_url = "{url_text(fresh_db)}"\n'
    )
    done = run_cli(MIGRATE, url=elsewhere, cwd=project_copy)
    assert done.returncode == 0, done.stderr
    assert version(fresh_db) == [SEED_HEAD]
    (project_copy / "pyproject.toml").write_text("[tool.conventions]\nmigration_url = 5\n")
    refused = run_cli(MIGRATE, url=url_text(fresh_db), cwd=project_copy)
    assert refused.returncode == 1
    assert "[tool.conventions] migration_url must be a non-empty string" in refused.stderr
    (project_copy / "pyproject.toml").unlink()
    (project_copy / ".env").write_text(f"CONVENTIONS_MIGRATION_URL={url_text(fresh_db)}\n")
    status = run_cli(["-m", "conventions", "status", "--json"], url=elsewhere, cwd=project_copy)
    assert status.returncode == 0, status.stderr
    for output in _refused(project_copy, env={"CONVENTIONS_MIGRATION_URL": ""}):
        assert "CONVENTIONS_MIGRATION_URL is set in the environment but empty" in output
