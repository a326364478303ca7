"""Adoption by an existing Alembic project: init, its layout, its env.py, its URL, its models.

Each test builds the foreign-shaped project of ``tests/foreign_project.py`` (a
``migrations/`` directory with two version locations, an app factory, a
Flask-SQLAlchemy-style ``db``, legacy ENUMs, a view excluded by ``include_object``) and
runs the commands a user runs, in a child process, against a real PostgreSQL.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import textwrap
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from conventions.harness.scratch import run_cli, url_text
from tests import foreign_project
from tests.runtime_support import rows, scalar


@pytest.fixture
def foreign(tmp_path: Path) -> Path:
    return foreign_project.build(tmp_path / "shopfront")


def _app_env(url: URL | None) -> dict[str, str]:
    """The app's own variable: DATABASE_URL stays unset, as in a foreign project."""
    return {"SHOPFRONT_DATABASE_URL": url_text(url)} if url is not None else {}


def _init(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(["-m", "conventions", "init", *args], url=None, cwd=project)


def _migrate(project: Path, url: URL) -> subprocess.CompletedProcess[str]:
    """``conventions migrate`` with the URL in the app's own variable."""
    return run_cli(["-m", "conventions", "migrate"], url=None, cwd=project, env=_app_env(url))


def _adopt_and_migrate(project: Path, url: URL) -> dict[str, str]:
    """Adopt ``project`` and migrate it to head; return the app's environment for more."""
    assert _init(project, "--yes").returncode == 0
    up = _migrate(project, url)
    assert up.returncode == 0, up.stdout + up.stderr
    return _app_env(url)


def _snapshot(project: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(project)): p.read_bytes()
        for p in sorted(project.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_init_wires_env_py_and_writes_the_rest_once(foreign: Path) -> None:
    first = _init(foreign, "--yes")
    assert first.returncode == 0, first.stdout + first.stderr
    # The diff is the command's result (stdout); what it did goes to the log.
    assert (
        "+house_run(context, target_metadata, include_object=include_object, compare_type=True)"
        in (first.stdout)
    )
    assert "-    run_migrations_online()" in first.stdout
    env_py = (foreign / "migrations" / "env.py").read_text(encoding="utf-8")
    assert "from conventions.env import run as house_run" in env_py
    assert "if context.is_offline_mode():" not in env_py
    assert "def run_migrations_online():" in env_py  # their functions stay, unused
    pyproject = (foreign / "pyproject.toml").read_text(encoding="utf-8")
    assert (
        "[tool.conventions]\n" in pyproject and 'lint.paths = ["shopfront/models.py"]' in pyproject
    )
    hooks = (foreign / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    assert "entry: python -m conventions lint" in hooks and "language: system" in hooks
    # No files: pattern to go stale: the lint keeps staged files under its configured paths.
    assert "entry: python -m conventions lint --configured-only" in hooks and "files:" not in hooks
    assert "entry: python -m conventions lint --manifest" in hooks and "always_run: true" in hooks
    harness = foreign / "tests" / "test_migrations_conventions.py"
    assert 'pytest_plugins = ["conventions.harness.plugin"]' in harness.read_text(encoding="utf-8")
    assert (foreign / ".squawk.toml").is_file()

    before = _snapshot(foreign)
    again = _init(foreign, "--yes")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "+++ b/migrations/env.py" not in again.stdout  # no diff: nothing to change
    assert "already calls the house runtime (unchanged)" in again.stderr + again.stdout
    assert _snapshot(foreign) == before

    # A finding made after adoption: init run again must not accept it into the baseline.
    baseline = foreign / ".conventions-lint-baseline.json"
    recorded = baseline.read_bytes()
    models = foreign / "shopfront" / "models.py"
    models.write_text(
        models.read_text(encoding="utf-8") + "\nNEW_KIND = sa.Enum('a', 'b', name='new_kind')\n",
        encoding="utf-8",
    )
    third = _init(foreign, "--yes")
    assert third.returncode == 0, third.stdout + third.stderr
    assert ".conventions-lint-baseline.json: exists (unchanged" in third.stderr
    assert baseline.read_bytes() == recorded


def test_init_refuses_an_env_py_it_cannot_edit_and_prints_the_lines(foreign: Path) -> None:
    env_py = foreign / "migrations" / "env.py"
    source = env_py.read_text(encoding="utf-8").replace(
        "if context.is_offline_mode():\n    run_migrations_offline()\n"
        "else:\n    run_migrations_online()\n",
        "run_migrations_offline() if context.is_offline_mode() else run_migrations_online()\n",
    )
    env_py.write_text(source, encoding="utf-8")
    result = _init(foreign, "--yes")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "migrations/env.py was not changed: env.py does not end with the usual" in output
    assert "from conventions.env import run as house_run" in output
    assert "house_run(context, target_metadata)" in output
    assert "Traceback" not in output
    assert env_py.read_text(encoding="utf-8") == source


def test_init_asks_and_never_edits_without_a_terminal_or_yes(foreign: Path) -> None:
    env_py = foreign / "migrations" / "env.py"
    source = env_py.read_text(encoding="utf-8")
    result = _init(foreign)  # stdin is not a terminal here
    assert result.returncode == 1
    assert "confirm with --yes when not on a terminal" in result.stderr + result.stdout
    assert env_py.read_text(encoding="utf-8") == source


def test_init_outside_an_alembic_project_is_a_usage_error(tmp_path: Path) -> None:
    result = _init(tmp_path, "--yes")
    assert result.returncode == 2
    assert "No Alembic project at" in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


def test_adopted_project_migrates_on_its_own_url_and_status_json_is_json_only(
    foreign: Path, fresh_db: URL
) -> None:
    env = _adopt_and_migrate(foreign, fresh_db)
    # Through the runtime: history recorded, every revision of both version locations.
    applied = rows(fresh_db, "SELECT revision FROM migration_meta.history ORDER BY started_at")
    assert [r for (r,) in applied] == [
        "a1f0c0de0001",
        "a1f0c0de0002",
        "b2e0c0de0003",
        "b2e0c0de0004",
    ]
    assert scalar(
        fresh_db, "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_orders_service_id'"
    )

    status = run_cli(["-m", "conventions", "status", "--json"], url=None, cwd=foreign, env=env)
    assert status.returncode == 0, status.stderr
    document = json.loads(status.stdout)  # stdout is the JSON document and nothing else
    assert "shopfront: creating the app" in status.stderr
    assert document["at_head"] is True
    assert document["drift"] == []  # the view is excluded by their include_object
    assert document["drift_note"] is None
    assert document["enum_types"] == ["service_state (active, retired)"]
    assert [r["file"] for r in document["revisions"]] == [
        "0001_create_services",
        "0002_create_orders_and_report",
        "0003_uppercase_codes",
        "0004_engine_from_config",
    ]


def test_status_drift_renders_server_defaults_as_sql_and_unnamed_keys_by_columns(
    foreign: Path, fresh_db: URL
) -> None:
    env = _adopt_and_migrate(foreign, fresh_db)
    models = foreign / "shopfront" / "models.py"
    text = models.read_text(encoding="utf-8")
    text = text.replace('server_default=sa.text("0")', 'server_default=sa.text("1")')
    text = text.replace(
        "    amount = sa.Column(sa.Numeric(10, 2)",
        "    parent_id = sa.Column(sa.Integer, nullable=True)\n"
        '    __table_args__ = (sa.ForeignKeyConstraint(["parent_id"], ["orders.id"], name=None),)\n'
        "    amount = sa.Column(sa.Numeric(10, 2)",
    )
    models.write_text(text, encoding="utf-8")
    status = run_cli(["-m", "conventions", "status", "--json"], url=None, cwd=foreign, env=env)
    drift = json.loads(status.stdout)["drift"]
    assert "column orders.amount: server default is 0 in the database, 1 in the models" in drift
    assert "column orders.parent_id: in the models only" in drift
    assert not [line for line in drift if "object at 0x" in line or "fk None" in line]


def test_autogenerate_on_a_legacy_history_writes_their_file_name_and_refuses_only_new_enums(
    foreign: Path, fresh_db: URL
) -> None:
    env = _adopt_and_migrate(foreign, fresh_db)
    models = foreign / "shopfront" / "models.py"
    base = models.read_text(encoding="utf-8")
    models.write_text(
        base.replace(
            "import sqlalchemy as sa\n",
            "import sqlalchemy as sa\n\nfrom conventions import Choice\n",
        )
        + '\n\nOrder.channel = sa.Column(Choice(["web", "shop"]), nullable=True)\n',
        encoding="utf-8",
    )
    versions = foreign / "migrations" / "versions"
    before = set(versions.iterdir())
    made = run_cli(
        ["alembic", "revision", "--autogenerate", "-m", "add order channel"],
        url=None,
        cwd=foreign,
        env=env,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    (written,) = set(versions.iterdir()) - before
    # Their file_template (YYYYMMDD_rev_slug), not the house name.
    assert written.name.endswith("_add_order_channel.py") and written.name[8] == "_"
    source = written.read_text(encoding="utf-8")
    assert "op.add_choice_column" in source
    assert "service_report" not in source  # their include_object
    assert "Enum" not in source and "ENUM" not in source

    written.unlink()
    models.write_text(
        base + '\n\nOrder.kind = sa.Column(sa.Enum("a", "b", name="order_kind"))\n',
        encoding="utf-8",
    )
    refused = run_cli(
        ["alembic", "revision", "--autogenerate", "-m", "add kind"], url=None, cwd=foreign, env=env
    )
    output = refused.stdout + refused.stderr
    assert refused.returncode == 255, output  # alembic's FAILED
    assert "Autogenerate would write an Enum type for orders.kind." in output
    assert "services.state" not in output  # the legacy column is not this change
    assert set(versions.iterdir()) == before


def test_config_shows_each_setting_and_its_source(foreign: Path) -> None:
    with (foreign / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write('\n[tool.conventions]\nmetadata = "shopfront.extensions:db"\n')
        f.write('[tool.conventions.lock]\nlock_timeout = "5s"\nretries = 2\n')
    result = run_cli(
        ["-m", "conventions", "config", "--json"],
        url=None,
        cwd=foreign,
        env={"CONVENTIONS_LOCK_RETRIES": "7"},
    )
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["metadata"] == {
        "value": "shopfront.extensions:db",
        "source": "pyproject.toml [tool.conventions] metadata",
    }
    assert (
        shown["lock.lock_timeout"]["source"]
        == "pyproject.toml [tool.conventions] lock.lock_timeout"
    )
    assert shown["lock.retries"] == {"value": "7", "source": "environment CONVENTIONS_LOCK_RETRIES"}
    assert shown["alembic.version_locations"]["value"] == [
        str((foreign / "migrations" / "legacy").resolve()),
        str((foreign / "migrations" / "versions").resolve()),
    ]
    assert (
        shown["alembic.file_template"]["value"] == "%(year)d%(month).2d%(day).2d_%(rev)s_%(slug)s"
    )
    text = run_cli(["-m", "conventions", "config"], url=None, cwd=foreign)
    assert (
        "lock.lock_timeout" in text.stdout and "# pyproject.toml [tool.conventions]" in text.stdout
    )


def test_config_knows_the_harness_and_lint_keys_and_flags_a_misspelt_one(foreign: Path) -> None:
    """What init writes ([tool.conventions.harness] legacy_until) is never "not read"."""
    with (foreign / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write('\n[tool.conventions.lint]\nignore = ["HSE013"]\nbaseline = "lint.json"\n')
        f.write('[tool.conventions.harness]\nlegacy_until = "0002"\nlegacy_untill = "0003"\n')
        f.write("[tool.conventions.harness.tables.services]\ngenerate = false\n")
        f.write('[tool.conventions.harness.one_way]\n"0003" = "drops CONCURRENTLY"\n')
    result = run_cli(["-m", "conventions", "config", "--json"], url=None, cwd=foreign)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["harness.legacy_until"] == {
        "value": "0002",
        "source": "pyproject.toml [tool.conventions] harness.legacy_until",
    }
    assert shown["harness.tables"]["value"] == {"services": {"generate": False}}
    assert shown["harness.one_way"]["value"] == {"0003": "drops CONCURRENTLY"}
    assert shown["lint.ignore"]["value"] == ["HSE013"]
    assert shown["lint.baseline"]["value"] == "lint.json"
    assert shown["harness.generated_rows"] == {"value": True, "source": "default"}
    not_read = sorted(k for k, v in shown.items() if "unknown key: not read" in v["source"])
    assert not_read == ["harness.legacy_untill"]


def test_a_bad_lock_setting_in_pyproject_is_named_and_nothing_runs(
    foreign: Path, fresh_db: URL
) -> None:
    assert _init(foreign, "--yes").returncode == 0
    with (foreign / "pyproject.toml").open("a", encoding="utf-8") as f:
        f.write('\n[tool.conventions.lock]\nlock_timeout = "soon"\n')
    result = _migrate(foreign, fresh_db)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "lock.lock_timeout" in output and "soon" in output
    assert "Traceback" not in output
    assert scalar(fresh_db, "SELECT to_regclass('public.services')") is None


def test_an_error_in_the_projects_code_names_its_module_and_line(
    foreign: Path, fresh_db: URL
) -> None:
    assert _init(foreign, "--yes").returncode == 0
    models = foreign / "shopfront" / "models.py"
    text = models.read_text(encoding="utf-8").replace(
        'current_app.config["CODE_LENGTH"]', 'current_app.config["CODE_LENGHT"]'
    )
    models.write_text(text, encoding="utf-8")
    line = (
        text.splitlines().index(
            'CODE_LENGTH = current_app.config["CODE_LENGHT"]  # needs the app pushed'
        )
        + 1
    )
    result = _migrate(foreign, fresh_db)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert (
        f"The project's code raised KeyError: 'CODE_LENGHT' — in shopfront.models "
        f"(shopfront/models.py, line {line})."
    ) in output
    assert "bug in the tooling" not in output and "Traceback" not in output
    assert scalar(fresh_db, "SELECT to_regclass('public.services')") is None


SQLITE_ENV = """
from alembic import context
from sqlalchemy import MetaData

from conventions.env import run

run(context, MetaData())
"""

SQLITE_REVISION = '''
"""{name}"""
import sqlalchemy as sa
from alembic import op

import conventions  # noqa: F401

revision = "{rev}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
    {body}


def downgrade():
    pass
'''


def _sqlite_project(root: Path) -> Path:
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/migrations\n"
        f"sqlalchemy.url = sqlite:///{root / 'dev.db'}\n",
        encoding="utf-8",
    )
    (root / "migrations" / "env.py").write_text(SQLITE_ENV, encoding="utf-8")
    shutil_copy = (Path(__file__).resolve().parents[1] / "alembic" / "script.py.mako").read_text()
    (root / "migrations" / "script.py.mako").write_text(shutil_copy, encoding="utf-8")
    body = 'op.create_table("notes", sa.Column("id", sa.Integer, primary_key=True))'
    (root / "migrations" / "versions" / "r1.py").write_text(
        SQLITE_REVISION.format(name="notes", rev="r1", down=None, body=body), encoding="utf-8"
    )
    return root


def test_a_sqlite_url_runs_plain_alembic_with_one_notice(tmp_path: Path) -> None:
    project = _sqlite_project(tmp_path)
    result = run_cli(["alembic", "upgrade", "head"], url=None, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    notices = [line for line in result.stderr.splitlines() if line.startswith("notice:")]
    assert notices == [
        f"notice: sqlite:///{project / 'dev.db'} is not PostgreSQL: plain Alembic semantics "
        "(no migrator lock, lock timeouts, retries or history); house ops refuse here."
    ]
    with sqlite3.connect(project / "dev.db") as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
        version = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert "notes" in tables and version == [("r1",)]


def test_a_house_op_on_sqlite_refuses_clearly_and_changes_nothing(tmp_path: Path) -> None:
    project = _sqlite_project(tmp_path)
    assert run_cli(["alembic", "upgrade", "head"], url=None, cwd=project).returncode == 0
    body = 'op.add_choice_column("notes", "kind", ["a", "b"])'
    (project / "migrations" / "versions" / "r2.py").write_text(
        SQLITE_REVISION.format(name="kind", rev="r2", down="r1", body=body), encoding="utf-8"
    )
    result = run_cli(["alembic", "upgrade", "head"], url=None, cwd=project)
    output = result.stdout + result.stderr
    assert result.returncode == 255, output  # alembic's FAILED
    assert (
        "House operations (op.add_choice_column, op.alter_choices, …) need PostgreSQL; " in output
    )
    assert "this migration runs on sqlite. Nothing was changed by this operation." in output
    with sqlite3.connect(project / "dev.db") as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(notes)")]
        version = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert columns == ["id"] and version == [("r1",)]


def test_run_composes_their_configure_options_with_the_house_ones(
    project_copy: Path, fresh_db: URL
) -> None:
    env_py = project_copy / "alembic" / "env.py"
    env_py.write_text(
        textwrap.dedent(
            """
            from pathlib import Path

            from alembic import context

            from app.models import Base
            from conventions.env import run


            def theirs(context_, revision, directives):
                Path(context.config.get_main_option("here"), "theirs-ran").write_text(
                    context.config.get_main_option("sqlalchemy.url")
                )


            run(context, Base, process_revision_directives=theirs, user_module_prefix="mytypes.")
            """
        ),
        encoding="utf-8",
    )
    made = run_cli(["alembic", "revision", "-m", "composed hooks"], url=fresh_db, cwd=project_copy)
    assert made.returncode == 0, made.stdout + made.stderr
    # Theirs ran, and saw sqlalchemy.url set to the URL in use; the house name applied too.
    assert (project_copy / "theirs-ran").read_text() == url_text(fresh_db)
    assert [p for p in (project_copy / "alembic" / "versions").glob("*-composed-hooks.py")]


def test_run_refuses_keywords_the_runtime_owns(project_copy: Path, fresh_db: URL) -> None:
    env_py = project_copy / "alembic" / "env.py"
    env_py.write_text(
        env_py.read_text(encoding="utf-8").replace(
            "run(context, Base.metadata)",
            "run(context, Base.metadata, transaction_per_migration=False)",
        ),
        encoding="utf-8",
    )
    result = run_cli(["alembic", "upgrade", "head"], url=fresh_db, cwd=project_copy)
    output = result.stdout + result.stderr
    assert result.returncode == 255, output  # alembic's FAILED
    assert "run() sets transaction_per_migration itself; env.py cannot pass it." in output
    assert scalar(fresh_db, "SELECT to_regclass('public.alembic_version')") is None


ONLINE_ONLY = """
from alembic import context
from sqlalchemy import create_engine, pool

url = context.config.get_main_option("sqlalchemy.url")
target_metadata = None
migrate_args = {"compare_type": True}


def include_object(object, name, type_, reflected, compare_to):
    return True


def run_migrations_online():
    connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            **migrate_args,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
"""


def test_init_rewrites_an_online_only_env_py_keeping_a_module_level_mapping() -> None:
    from conventions.project.env_rewrite import rewrite

    result = rewrite(ONLINE_ONLY)
    assert isinstance(result, str)
    assert result.endswith(
        "house_run(context, target_metadata, include_object=include_object, **migrate_args)\n"
    )
    assert "\nrun_migrations_online()\n" not in result
    compile(result, "env.py", "exec")


def test_init_refuses_configure_keywords_that_name_function_locals() -> None:
    from conventions.project.env_rewrite import Refusal, rewrite

    local = ONLINE_ONLY.replace(
        "    connectable = create_engine", "    extra = {}\n    connectable = create_engine"
    ).replace("**migrate_args,", "**extra,")
    result = rewrite(local)
    assert isinstance(result, Refusal)
    assert result.reason == (
        "context.configure(..., **extra) in run_migrations_online() uses extra defined "
        "inside the function"
    )


@pytest.mark.parametrize("driver", ["psycopg", "asyncpg", "pg8000", "psycopg2"])
def test_a_project_url_naming_another_postgresql_driver_runs_on_psycopg2(driver: str) -> None:
    from conventions.db.settings import parse_url

    url = parse_url(f"postgresql+{driver}://app:pw@db.internal:5432/shop")
    assert url.drivername == "postgresql+psycopg2"
    assert (url.host, url.database, url.password) == ("db.internal", "shop", "pw")


def test_init_records_an_alembic_ini_kept_inside_a_package(foreign: Path) -> None:
    """A package that keeps Flask-Migrate's directory inside it (pkg/migrations/)."""
    inner = foreign / "shopfront" / "migrations"
    (foreign / "migrations").rename(inner)
    ini = (foreign / "alembic.ini").read_text(encoding="utf-8")
    ini = ini.replace("script_location = %(here)s/migrations\n", "")
    ini = ini.replace("%(here)s/migrations/", "%(here)s/")
    (inner / "alembic.ini").write_text(ini, encoding="utf-8")
    (foreign / "alembic.ini").unlink()

    lost = _init(foreign, "--yes")
    assert lost.returncode == 2 and "No Alembic project at" in lost.stdout + lost.stderr
    assert "name an alembic.ini kept elsewhere with --alembic-config PATH" in lost.stderr
    done = _init(foreign, "--yes", "--alembic-config", "shopfront/migrations/alembic.ini")
    assert done.returncode == 0, done.stdout + done.stderr
    # The lint reads the same alembic.ini, so the baseline covers its revisions.
    assert "Lint baseline recorded" in done.stderr, done.stderr
    baseline = json.loads((foreign / ".conventions-lint-baseline.json").read_text())
    files = {str(entry["path"]) for entry in baseline["findings"]}
    assert any(name.startswith("shopfront/migrations/") for name in files), baseline
    assert 'alembic_config = "shopfront/migrations/alembic.ini"' in (
        foreign / "pyproject.toml"
    ).read_text(encoding="utf-8")
    shown = json.loads(
        run_cli(["-m", "conventions", "config", "--json"], url=None, cwd=foreign).stdout
    )
    assert shown["alembic.script_location"]["value"] == str(inner.resolve())
    assert "house_run(" in (inner / "env.py").read_text(encoding="utf-8")


def test_init_reads_names_bound_inside_a_module_level_try() -> None:
    """env.py files that run with and without a Flask app bind target_metadata in a try."""
    from conventions.project.env_rewrite import rewrite

    source = ONLINE_ONLY.replace(
        "target_metadata = None\n",
        "try:\n    from flask import current_app\n\n"
        "    target_metadata = current_app.extensions['migrate'].db.metadata\n"
        "except RuntimeError:\n    target_metadata = None\n",
    )
    result = rewrite(source)
    assert isinstance(result, str) and "house_run(context, target_metadata," in result
