"""``lint --squawk``: squawk over each revision's offline upgrade SQL, no database."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from conventions.harness.scratch import run_cli

ROOT = Path(__file__).resolve().parents[1]

HEAD = '''"""{message}"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = {down!r}
branch_labels = None
depends_on = None
{extra}

def upgrade() -> None:
{body}


def downgrade() -> None:
    pass
'''


def write(project: Path, name: str, revision: str, down: object, body: str, extra: str = ""):
    text = HEAD.format(
        message=name,
        revision=revision,
        down=down,
        extra=extra,
        body=textwrap.indent(textwrap.dedent(body).strip(), "    "),
    )
    path = project / "alembic" / "versions" / f"{name}.py"
    path.write_text(text)
    return path


@pytest.fixture
def project(project_copy: Path) -> Path:
    """A project copy with the committed squawk config and three small migrations."""
    for old in (project_copy / "alembic" / "versions").glob("*.py"):
        old.unlink()
    shutil.copy(ROOT / ".squawk.toml", project_copy / ".squawk.toml")
    write(
        project_copy,
        "20300101-create-things",
        "a00000000001",
        None,
        """
        op.create_table(
            "things",
            sa.Column("id", sa.BigInteger(), primary_key=True),
            sa.Column("status", sa.String(20), nullable=False),
            sa.CheckConstraint("status IN ('a', 'b')", name="ck_things_status"),
        )
        op.create_index("ix_things_status", "things", ["status"])
        """,
    )
    write(
        project_copy,
        "20300102-index-things-kind",
        "a00000000002",
        "a00000000001",
        """
        op.add_column("things", sa.Column("kind", sa.String(20)))
        op.create_index("ix_things_kind", "things", ["kind"])
        """,
    )
    write(
        project_copy,
        "20300103-check-things-kind",
        "a00000000003",
        "a00000000002",
        """
        op.create_check_constraint("ck_things_kind", "things", "kind IN ('x')")
        """,
        extra="# squawk-ignore-file: constraint-missing-not-valid  (things is empty everywhere)\n",
    )
    return project_copy


def test_squawk_reports_an_unsafe_revision_against_its_file(project: Path) -> None:
    done = run_cli(["-m", "conventions", "lint", "--squawk"], url=None, cwd=project)
    assert done.returncode == 1, done.stdout + done.stderr
    # Only the plain CREATE INDEX on an existing table: the new table's VARCHAR and
    # BIGSERIAL are house policy (excluded in .squawk.toml), the index on a table
    # created in the same revision blocks nobody, and revision 3 opted out in a comment.
    # One line per finding, like every lint finding: path:line:col: CODE message.
    # (Line 11: the safety check's "-- WARNING (conventions safety, …)" comments come first.)
    assert done.stdout == (
        "alembic/versions/20300102-index-things-kind.py:12:1: HSE012 squawk "
        "require-concurrent-index-creation: During normal index creation, table updates "
        "are blocked, but reads are still allowed. "
        "[upgrade SQL line 7: CREATE INDEX ix_things_kind ON things (kind);] "
        "help: Use `concurrently` to avoid blocking writes.\n"
    )


def test_squawk_passes_when_every_revision_is_safe(project: Path) -> None:
    (project / "alembic" / "versions" / "20300102-index-things-kind.py").write_text(
        HEAD.format(
            message="add kind",
            revision="a00000000002",
            down="a00000000001",
            extra="",
            body='    op.add_column("things", sa.Column("kind", sa.String(20)))',
        )
    )
    done = run_cli(["-m", "conventions", "lint", "--squawk"], url=None, cwd=project)
    assert (done.returncode, done.stdout) == (0, ""), done.stdout + done.stderr


def test_squawk_without_the_config_applies_every_rule(project: Path) -> None:
    (project / ".squawk.toml").unlink()
    done = run_cli(["-m", "conventions", "lint", "--squawk"], url=None, cwd=project)
    assert done.returncode == 1
    assert ": HSE012 squawk prefer-text-field: " in done.stdout


def test_a_merge_revision_is_checked_alone_not_with_the_other_branch(project: Path) -> None:
    write(
        project,
        "20300104-branch-note",
        "b00000000001",
        "a00000000001",
        'op.add_column("things", sa.Column("note", sa.Text()))',
    )
    write(
        project,
        "20300105-merge",
        "c00000000001",
        ("a00000000003", "b00000000001"),
        'op.create_index("ix_things_note", "things", ["note"])',
    )
    done = run_cli(["-m", "conventions", "lint", "--squawk"], url=None, cwd=project)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert [line.split(" [")[0] for line in lines] == [
        "alembic/versions/20300102-index-things-kind.py:12:1: HSE012 squawk "
        "require-concurrent-index-creation: During normal index creation, table updates "
        "are blocked, but reads are still allowed.",
        "alembic/versions/20300105-merge.py:12:1: HSE012 squawk "
        "require-concurrent-index-creation: "
        "During normal index creation, table updates are blocked, but reads are still allowed.",
    ]
    assert "[upgrade SQL line 5: CREATE INDEX ix_things_note ON things (note);]" in lines[1]
