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
# what env.py runs a command with). Read-only commands load neither.
WRITERS = ("conventions.runtime", "conventions.ops")
# status's drift check registers the autogenerate comparators (read-only), and they
# import the op classes from conventions.ops; the runtime stays out.
RUNTIME = ("conventions.runtime",)


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


def among(modules: list[str], prefixes: tuple[str, ...]) -> list[str]:
    return [m for m in modules if m.startswith(prefixes)]


def test_read_only_command_modules_and_the_models_load_no_writer() -> None:
    loaded = loaded_after(
        """
        import conventions.commands.status, conventions.commands.inspect
        import conventions.commands.lint
        from conventions import Choice, NAMING_CONVENTION
        import app.models
        """
    )
    assert "conventions.commands.status" in loaded  # the probe sees what it imported
    assert among(loaded, WRITERS) == []
    assert "conventions.autogen" not in loaded


def test_running_lint_loads_no_writer() -> None:
    loaded = loaded_after(
        """
        from conventions.cli import main
        assert main(["lint"]) == 0
        assert main(["lint", "--models", "app.models"]) == 0
        """
    )
    assert "conventions.lint.static" in loaded and "conventions.lint.metadata" in loaded
    assert among(loaded, WRITERS) == []


def test_running_status_and_inspect_at_head_loads_no_runtime(seeded_db: URL) -> None:
    loaded = loaded_after(
        """
        import contextlib, io
        from conventions.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            assert main(["status"]) == 0
            assert main(["inspect", "offers"]) == 0
        assert "Drift (models vs database): none" in out.getvalue(), out.getvalue()
        """,
        url=seeded_db,
    )
    assert "conventions.reports.drift" in loaded and "conventions.reports.table" in loaded
    # status loads env.py to read what it hands run() (its include_object, URL):
    # conventions.env is imported, and returns before loading the runtime.
    assert "conventions.env" in loaded
    # The op classes (and through them parts of conventions.runtime) still load here;
    # what runs migrations does not.
    running = (
        "conventions.runtime.step_runner",
        "conventions.runtime.recorder",
        "conventions.runtime.archive",
        "conventions.runtime.migrator_lock",
        "conventions.runtime.environment",
    )
    assert among(loaded, running) == []


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
