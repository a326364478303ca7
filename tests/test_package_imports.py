"""What importing ``conventions`` loads: read-only commands never load what changes the database.

Each check runs in a fresh interpreter: this test process has long since imported
everything, so only a new ``sys.modules`` can say what an import or a command pulls in.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy.engine import URL

from conventions.harness.scratch import run_cli
from conventions.lazy_ops import HOUSE_OPS

ROOT = Path(__file__).resolve().parents[1]

# The code that changes the database lives under two prefixes: the op implementations
# and the migration runtime (step runner, history recorder, archive, migrator lock,
# what env.py runs a command with). Read-only commands load neither: what they need
# of the ops (autogenerate's comparators build op objects) is declared read-side, in
# conventions.operations.
WRITERS = ("conventions.runtime", "conventions.ops")


def loaded_after(code: str, *, url: URL | str | None = None) -> list[str]:
    """Run ``code`` in a fresh interpreter; return the conventions modules it loaded."""
    script = textwrap.dedent(code) + textwrap.dedent(
        """
        import json as _json, sys as _sys
        print(_json.dumps(sorted(m for m in _sys.modules if m.startswith("conventions"))))
        """
    )
    done = run_cli(["-c", script], url=url, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def writers(loaded: list[str]) -> list[str]:
    """The loaded modules under a writer prefix (the packages themselves included)."""
    return [m for m in loaded if any(m == p or m.startswith(p + ".") for p in WRITERS)]


def test_read_only_command_modules_and_the_models_load_no_writer() -> None:
    loaded = loaded_after(
        """
        import conventions.commands.status, conventions.commands.inspect
        import conventions.commands.lint, conventions.commands.config
        import conventions.commands.plan
        from conventions import Choice, NAMING_CONVENTION
        import app.models
        """
    )
    assert "conventions.commands.status" in loaded  # the probe sees what it imported
    assert writers(loaded) == []
    assert "conventions.autogen" not in loaded


def test_the_op_declarations_and_autogenerate_load_no_writer() -> None:
    loaded = loaded_after(
        """
        import conventions.operations, conventions.autogen
        from conventions.reports.drift import load_comparators
        load_comparators()
        """
    )
    assert "conventions.operations.choice" in loaded and "conventions.autogen.compare" in loaded
    assert writers(loaded) == []


def test_running_lint_loads_no_writer() -> None:
    loaded = loaded_after(
        """
        from conventions.cli import main
        assert main(["lint"]) == 0
        assert main(["lint", "--models", "app.models"]) == 0
        """
    )
    assert "conventions.lint.static" in loaded and "conventions.lint.metadata" in loaded
    assert writers(loaded) == []


def test_running_config_loads_no_writer() -> None:
    loaded = loaded_after(
        """
        import contextlib, io
        from conventions.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert main(["config"]) == 0
        assert "[tool.conventions]" in out.getvalue() or out.getvalue(), out.getvalue()
        """
    )
    assert "conventions.commands.config" in loaded
    assert writers(loaded) == []


def test_running_status_at_head_loads_no_writer(seeded_db: URL) -> None:
    loaded = loaded_after(
        """
        import contextlib, io, json
        from conventions.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert main(["status"]) == 0
        assert "Drift (models vs database): none" in out.getvalue(), out.getvalue()
        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert main(["status", "--json"]) == 0
        json.loads(out.getvalue())
        """,
        url=seeded_db,
    )
    # status loads env.py to read what it hands run() (its include_object, URL):
    # conventions.env is imported, and returns before loading the runtime; the drift
    # check registers the comparators, which build op declarations only.
    assert "conventions.reports.drift" in loaded and "conventions.env" in loaded
    assert "conventions.autogen.compare" in loaded
    assert writers(loaded) == []


def test_running_inspect_loads_no_writer(seeded_db: URL) -> None:
    loaded = loaded_after(
        """
        import contextlib, io
        from conventions.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert main(["inspect", "offers"]) == 0
        assert "offers" in out.getvalue(), out.getvalue()
        """,
        url=seeded_db,
    )
    assert "conventions.reports.table" in loaded
    assert writers(loaded) == []


def test_running_archive_list_loads_no_writer(seeded_db: URL) -> None:
    loaded = loaded_after(
        """
        import contextlib, io, json
        from conventions.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert main(["archive", "list", "--json"]) == 0
        assert json.loads(out.getvalue()) == [], out.getvalue()
        """,
        url=seeded_db,
    )
    assert "conventions.history.archives" in loaded
    assert writers(loaded) == []


def test_plan_reading_the_target_loads_no_writer(seeded_db: URL, tmp_path: Path) -> None:
    stats = tmp_path / "stats.json"
    loaded = loaded_after(
        f"""
        import json
        from conventions.cli import main
        assert main(["plan", "--export-stats", {str(stats)!r}]) == 0
        assert json.loads(open({str(stats)!r}).read())
        """,
        url=seeded_db,
    )
    assert "conventions.plan.run" in loaded
    assert writers(loaded) == []


def test_import_conventions_registers_every_house_op_name_and_no_other() -> None:
    probe = """
        import json
        from alembic.operations import Operations
        before = set(dir(Operations))
        import conventions
        from conventions import lazy_ops as op_names
        named = sorted(set(dir(Operations)) - before)
        assert all(op_names.is_placeholder(name) for name in named)
        import conventions.ops
        registered = sorted(set(dir(Operations)) - before)
        assert not any(op_names.is_placeholder(name) for name in registered)
        print(json.dumps([named, registered]))
        """
    script = textwrap.dedent(probe)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    named, registered = json.loads(done.stdout)
    assert named == sorted(HOUSE_OPS)
    assert registered == named  # conventions.ops registers exactly the names listed


def test_a_migration_calls_a_house_op_after_import_conventions_alone() -> None:
    """What a migration file does: ``import conventions``, then ``op.add_comment``."""
    loaded = loaded_after(
        """
        import io
        from alembic import op
        from alembic.operations import Operations
        from alembic.runtime.migration import MigrationContext
        import conventions, sys
        assert "conventions.ops" not in sys.modules
        buffer = io.StringIO()
        context = MigrationContext.configure(
            dialect_name="postgresql", opts={"as_sql": True, "output_buffer": buffer}
        )
        with Operations.context(context):
            op.add_comment("offers", "first call loads the ops")
            op.add_comment("offers", "the second runs them directly", column_name="id")
        assert buffer.getvalue().split(";")[:2] == [
            "COMMENT ON TABLE offers IS 'first call loads the ops'",
            "\\n\\nCOMMENT ON COLUMN offers.id IS 'the second runs them directly'",
        ], buffer.getvalue()
        """
    )
    assert "conventions.ops" in loaded


def test_a_house_op_runs_when_autogenerate_registered_the_declarations_first() -> None:
    """env.py imports ``conventions.autogen``: ``op.<name>`` is then the declaration's own
    classmethod, not a placeholder, and its first call still loads the implementations."""
    loaded = loaded_after(
        """
        import io, sys
        from alembic import op
        from alembic.operations import Operations
        from alembic.runtime.migration import MigrationContext
        import conventions, conventions.autogen
        from conventions import lazy_ops
        assert not any(lazy_ops.is_placeholder(name) for name in lazy_ops.HOUSE_OPS)
        assert "conventions.ops" not in sys.modules
        buffer = io.StringIO()
        context = MigrationContext.configure(
            dialect_name="postgresql", opts={"as_sql": True, "output_buffer": buffer}
        )
        with Operations.context(context):
            op.set_not_null("offers", "title")
        assert "ALTER COLUMN title SET NOT NULL" in buffer.getvalue(), buffer.getvalue()
        """
    )
    assert "conventions.ops.not_null_ops" in loaded
