"""The lint on someone else's legacy history: baseline, configuration, their layout.

Every test builds a Flask-Migrate-shaped project in a temporary directory
(``tests/lint_foreign_project.py``) and runs ``python -m conventions lint`` in it as its
users would. None of this needs a database.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from conventions.harness.scratch import run_cli
from tests import lint_foreign_project as foreign_project

BASELINE = ".conventions-lint-baseline.json"
CONFIG = """
[tool.conventions]
metadata = "shop.models:db"

[tool.conventions.lint]
paths = ["shop"]
"""
LEGACY = [
    "migrations/versions/1a2b3c4d5e6f_initial.py:17:29: HSE001 sa.Enum (sqlalchemy.Enum) makes "
    "a native ENUM type; use conventions.Choice (VARCHAR + named CHECK)",
    "migrations/versions/2b3c4d5e6f7a_add_kind.py:14:47: HSE002 postgresql.ENUM "
    "(sqlalchemy.dialects.postgresql.ENUM) is CREATE TYPE ... AS ENUM; use conventions.Choice "
    "(VARCHAR + named CHECK)",
    "shop/models.py:12:24: HSE001 sa.Enum (sqlalchemy.Enum) makes a native ENUM type; use "
    "conventions.Choice (VARCHAR + named CHECK)",
]
NEW_REVISION = foreign_project.revision(
    "add priority",
    "4d5e6f7a8b9c",
    "3c4d5e6f7a8b",
    'op.add_column("orders", sa.Column("priority", sa.Enum("low", "high", name="prio")))',
)
NEW_FINDING = (
    "migrations/versions/4d5e6f7a8b9c_add_priority.py:14:51: HSE001 sa.Enum (sqlalchemy.Enum) "
    "makes a native ENUM type; use conventions.Choice (VARCHAR + named CHECK)"
)


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return foreign_project.build(tmp_path / "shop-project", pyproject=CONFIG)


def lint(project: Path, *args: str, env: dict[str, str] | None = None):
    site = {"PYTHONPATH": str(foreign_project.site_packages(project))}
    return run_cli(
        ["-m", "conventions", "lint", *args], url=None, cwd=project, env={**site, **(env or {})}
    )


def entries(project: Path) -> list[dict[str, object]]:
    return json.loads((project / BASELINE).read_text())["findings"]


# -- nothing to check ---------------------------------------------------------------


def test_no_paths_in_a_repository_without_app_models_is_exit_2_saying_what_was_looked_for(
    tmp_path: Path,
) -> None:
    (tmp_path / "README.md").write_text("# not an app\n")
    done = lint(tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(
        "python -m conventions lint: nothing to check: no *.py or *.sql file in app/models (the "
        "default) or the migration directories (named by alembic.ini or migrations/ (neither "
        "exists): none found). Name them"
    )
    assert '[tool.conventions.lint]\n    paths = ["myapp/models"]' in done.stderr


def test_configured_paths_holding_nothing_are_exit_2_naming_the_setting(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.conventions.lint]\npaths = ["nowhere"]\n')
    done = lint(tmp_path)
    assert done.returncode == 2
    assert (
        "no *.py or *.sql file in the configured paths "
        "(pyproject.toml [tool.conventions] lint.paths: nowhere) or the migration directories"
    ) in done.stderr
    assert "notice: configured lint path(s) not found" in done.stderr


def test_the_migrations_directory_is_found_without_configuration(shop: Path) -> None:
    (shop / "pyproject.toml").write_text("")
    done = lint(shop)
    assert done.returncode == 1, done.stderr
    # migrations/versions from migrations/alembic.ini (Flask-Migrate's), no shop/: not configured
    assert done.stdout.splitlines() == LEGACY[:2]


# -- the baseline -------------------------------------------------------------------


def test_baseline_records_todays_findings_then_only_new_ones_fail(shop: Path) -> None:
    assert lint(shop).stdout.splitlines() == LEGACY

    recorded = lint(shop, "--baseline")
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    assert "Recorded 3 files finding(s) in .conventions-lint-baseline.json" in recorded.stderr
    assert entries(shop) == [
        {
            "check": "files",
            "path": "migrations/versions/1a2b3c4d5e6f_initial.py",
            "code": "HSE001",
            "source": 'sa.Column("status", sa.Enum("new", "paid", name="order_status")),',
            "count": 1,
        },
        {
            "check": "files",
            "path": "migrations/versions/2b3c4d5e6f7a_add_kind.py",
            "code": "HSE002",
            "source": 'op.add_column("orders", sa.Column("kind", postgresql.ENUM("a", "b", '
            'name="order_kind")))',
            "count": 1,
        },
        {
            "check": "files",
            "path": "shop/models.py",
            "code": "HSE001",
            "source": 'status = sa.Column(sa.Enum("new", "paid", name="order_status"))',
            "count": 1,
        },
    ]

    clean = lint(shop)
    assert (clean.returncode, clean.stdout) == (0, ""), clean.stdout + clean.stderr
    assert "notice: 3 known finding(s) in .conventions-lint-baseline.json not shown." in (
        clean.stderr
    )

    # Lines moved: the key is the source text, not the line number.
    models = shop / "shop" / "models.py"
    models.write_text(models.read_text().replace('"""Models', '"""\n\n\nModels'))
    assert lint(shop).returncode == 0

    # A new Enum fails, alone.
    (shop / "migrations" / "versions" / "4d5e6f7a8b9c_add_priority.py").write_text(NEW_REVISION)
    before = (shop / BASELINE).read_bytes()
    new = lint(shop)
    assert new.returncode == 1
    assert new.stdout.splitlines() == [NEW_FINDING]
    assert (shop / BASELINE).read_bytes() == before  # a normal run never adds


def test_a_second_identical_legacy_line_is_new(shop: Path) -> None:
    assert lint(shop, "--baseline").returncode == 0
    models = shop / "shop" / "models.py"
    legacy = '    status = sa.Column(sa.Enum("new", "paid", name="order_status"))\n'
    models.write_text(models.read_text() + "\n\nclass Copy(db.Model):\n" + legacy)
    done = lint(shop)
    assert done.returncode == 1
    assert [line.split(": ")[0] for line in done.stdout.splitlines()] == ["shop/models.py:17:24"]


def test_a_fixed_finding_is_dropped_from_the_baseline_only_by_a_run_that_read_its_file(
    shop: Path,
) -> None:
    assert lint(shop, "--baseline").returncode == 0
    models = shop / "shop" / "models.py"
    models.write_text(
        models.read_text().replace('sa.Enum("new", "paid", name="order_status")', "sa.String(20)")
    )
    # A pre-commit style run on another file judges only that file: nothing dropped.
    other = lint(shop, "--configured-only", "migrations/versions/1a2b3c4d5e6f_initial.py")
    assert (other.returncode, other.stdout) == (0, "")
    assert len(entries(shop)) == 3

    done = lint(shop, "--configured-only", "shop/models.py", "README.md")
    assert (done.returncode, done.stdout) == (0, "")
    assert (
        "notice: 1 files finding(s) in .conventions-lint-baseline.json are gone; dropped them "
        "from the file. Commit it."
    ) in done.stderr
    assert [e["path"] for e in entries(shop)] == [
        "migrations/versions/1a2b3c4d5e6f_initial.py",
        "migrations/versions/2b3c4d5e6f7a_add_kind.py",
    ]


def test_a_deleted_file_drops_its_entries(shop: Path) -> None:
    assert lint(shop, "--baseline").returncode == 0
    (shop / "shop" / "models.py").unlink()
    done = lint(shop, "--configured-only", "README.md")  # nothing in the lint paths
    assert done.returncode == 0
    assert lint(shop).returncode == 0
    assert "shop/models.py" not in {e["path"] for e in entries(shop)}


def test_baseline_file_location_is_configurable_and_the_environment_wins(shop: Path) -> None:
    (shop / "pyproject.toml").write_text(CONFIG + 'baseline = "lint/known.json"\n')
    (shop / "lint").mkdir()
    assert lint(shop, "--baseline").returncode == 0
    assert (shop / "lint" / "known.json").is_file()
    assert not (shop / BASELINE).exists()
    moved = lint(shop, env={"CONVENTIONS_LINT_BASELINE": "other.json"})
    assert moved.returncode == 1  # other.json does not exist: every finding is new


def test_a_malformed_baseline_is_an_error_naming_the_file(shop: Path) -> None:
    (shop / BASELINE).write_text("{not json")
    done = lint(shop)
    assert done.returncode == 1
    assert ".conventions-lint-baseline.json is not a lint baseline" in done.stdout + done.stderr
    assert "python -m conventions lint --baseline" in done.stdout + done.stderr


def test_models_and_squawk_have_their_own_baseline_entries(shop: Path) -> None:
    assert lint(shop, "--models").returncode == 1
    assert lint(shop, "--models", "--baseline").returncode == 0
    assert lint(shop, "--squawk", "--baseline").returncode == 0
    assert lint(shop, "--baseline").returncode == 0
    checks = sorted({str(e["check"]) for e in entries(shop)})
    assert checks == ["files", "models", "squawk"]
    squawk_entry = next(e for e in entries(shop) if e["check"] == "squawk")
    assert "upgrade SQL line" not in str(squawk_entry["source"])  # no line numbers in keys
    for args in ((), ("--models",), ("--squawk",)):
        done = lint(shop, *args)
        assert (done.returncode, done.stdout) == (0, ""), (args, done.stdout + done.stderr)


# -- select, ignore, per-file ignores --------------------------------------------------


def test_ignore_select_and_per_file_ignores_as_ruff_reads_them(shop: Path) -> None:
    (shop / "pyproject.toml").write_text(
        CONFIG
        + 'ignore = ["HSE002"]\n'
        + '[tool.conventions.lint.per-file-ignores]\n"migrations/versions/1a*.py" = ["HSE001"]\n'
    )
    assert lint(shop).stdout.splitlines() == LEGACY[2:]
    (shop / "pyproject.toml").write_text(CONFIG + 'select = ["HSE002"]\n')
    assert lint(shop).stdout.splitlines() == LEGACY[1:2]
    (shop / "pyproject.toml").write_text(
        CONFIG
        + '[tool.conventions.lint.per-file-ignores]\n"shop/" = ["HSE"]\n"*.py" = ["HSE002"]\n'
    )
    assert lint(shop).stdout.splitlines() == LEGACY[:1]
    # The environment overrides pyproject.toml (comma-separated).
    env = lint(shop, env={"CONVENTIONS_LINT_SELECT": "HSE002,HSE010"})
    assert env.stdout == ""


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('ignore = ["HSE999"]', "lint.ignore: 'HSE999' is not a lint code"),
        ('select = "HSE001"', "lint.select: must be a list of strings"),
        ('per-file-ignores = ["x"]', "must be a table of glob = [codes]"),
    ],
)
def test_a_bad_setting_is_a_usage_error_naming_the_key(
    shop: Path, setting: str, message: str
) -> None:
    (shop / "pyproject.toml").write_text(CONFIG + setting + "\n")
    done = lint(shop)
    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr
    assert "known codes: HSE001" in done.stderr


# -- one noqa per concept ---------------------------------------------------------------


def test_noqa_for_the_static_code_also_silences_the_metadata_finding(shop: Path) -> None:
    models = shop / "shop" / "models.py"
    models.write_text(
        models.read_text().replace(
            'name="order_status"))', 'name="order_status"))  # noqa: HSE001 (legacy column)'
        )
    )
    static = lint(shop, "shop")
    assert (static.returncode, static.stdout) == (0, ""), static.stdout
    metadata = lint(shop, "--models")
    assert (metadata.returncode, metadata.stdout) == (0, ""), metadata.stdout


def test_noqa_for_the_metadata_code_also_silences_the_static_finding(shop: Path) -> None:
    models = shop / "shop" / "models.py"
    models.write_text(
        models.read_text().replace(
            '    status = sa.Column(sa.Enum("new", "paid", name="order_status"))',
            '    status = sa.Column(\n        sa.Enum("new", "paid", name="order_status"),'
            "  # noqa: HSE009\n    )",
        )
    )
    assert lint(shop, "shop").stdout == ""
    assert lint(shop, "--models").stdout == ""  # the noqa sits inside the statement


# -- the manifest notice ------------------------------------------------------------------


def test_the_not_yet_recorded_notice_is_a_count_and_the_command(shop: Path) -> None:
    versions = shop / "migrations" / "versions"
    for n in range(300):
        (versions / f"{n:04d}_old.py").write_text('"""old"""\n')
    done = lint(shop, "--manifest")
    assert done.returncode == 0
    assert done.stderr == (
        "notice: 303 migration file(s) not yet in migrations/versions/SHA256SUMS "
        "(0000_old.py, 0001_old.py, 0002_old.py and 300 more); once applied (merged), "
        "record them: python -m conventions lint --update-manifest\n"
    )


def test_the_manifest_guard_reads_the_migrations_directory(shop: Path) -> None:
    assert lint(shop, "--update-manifest").returncode == 0
    initial = shop / "migrations" / "versions" / "1a2b3c4d5e6f_initial.py"
    initial.write_text(initial.read_text() + "# edited\n")
    done = lint(shop, "--manifest")
    assert done.returncode == 1
    assert done.stdout.startswith(
        "migrations/versions/1a2b3c4d5e6f_initial.py:1:1: HSE010 applied migration "
        "1a2b3c4d5e6f_initial.py changed since migrations/versions/SHA256SUMS recorded it"
    )
    # The manifest is never baselined: restoring the file is the fix.
    baseline = lint(shop, "--baseline")
    assert baseline.returncode == 1
    assert "HSE010" in baseline.stdout


# -- --models on a Flask-shaped app ------------------------------------------------------


def test_models_finds_the_db_objects_tables_without_touching_the_proxy(shop: Path) -> None:
    done = lint(shop, "--models")  # [tool.conventions] metadata = "shop.models:db"
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == (
        "shop/models.py:12:5: HSE009 column orders.status is Enum('new', 'paid', "
        "name='order_status') (a native ENUM) in the metadata; use conventions.Choice\n"
    )
    assert "application context" not in done.stdout + done.stderr


def test_models_names_the_holder_with_module_attr(shop: Path) -> None:
    init = shop / "shop" / "__init__.py"
    init.write_text(init.read_text() + "\nfrom shop import models  # noqa: E402,F401\n")
    done = lint(shop, "--models", "shop:db")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("shop/models.py:12:5: HSE009 column orders.status")


def test_models_that_checked_no_table_never_pass(shop: Path) -> None:
    done = lint(shop, "--models", "shop:db")  # shop does not import its models
    assert done.returncode == 2
    assert (
        "lint --models shop:db: nothing to check: the module holds 1 metadata object(s) but "
        "no tables in them."
    ) in done.stderr
    empty = shop / "nothing.py"
    empty.write_text("X = 1\n")
    assert lint(shop, "--models", "nothing").returncode == 2


def test_a_model_module_that_needs_the_app_context_is_the_projects_error(shop: Path) -> None:
    (shop / "shop" / "settings.py").write_text(
        textwrap.dedent(
            """\
            from shop import current_app

            SCHEMA = current_app.config["SCHEMA"]
            """
        )
    )
    done = lint(shop, "--models", "shop.settings")
    assert done.returncode == 1
    out = done.stdout + done.stderr
    assert (
        "Cannot import shop.settings to check its metadata: the project's code raised "
        "RuntimeError: Working outside of application context. at shop/settings.py, line 3.\n"
        '    SCHEMA = current_app.config["SCHEMA"]'
    ) in out
    assert "bug in the tooling" not in out
    assert "Traceback" not in out


def test_a_parent_package_that_fails_to_import_is_not_no_such_module(shop: Path) -> None:
    (shop / "shop" / "__init__.py").write_text("import flask_sqlalchemy_not_here\n")
    done = lint(shop, "--models", "shop.models")
    assert done.returncode == 1
    out = done.stdout + done.stderr
    assert (
        "Cannot import shop.models to check its metadata: the project's code raised "
        "ModuleNotFoundError: No module named 'flask_sqlalchemy_not_here' at "
        "shop/__init__.py, line 1."
    ) in out
    assert "no module named 'shop.models'" not in out


# -- --squawk on their layout --------------------------------------------------------------


def test_squawk_reads_the_migrations_directory_and_skips_what_cannot_render(shop: Path) -> None:
    # env.py imports a module that does not exist: squawk never loads it.
    done = lint(shop, "--squawk")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout == (
        "migrations/versions/2b3c4d5e6f7a_add_kind.py:13:1: HSE012 squawk "
        "require-concurrent-index-creation: During normal index creation, table updates are "
        "blocked, but reads are still allowed. [upgrade SQL line 7: CREATE INDEX "
        "ix_orders_kind ON orders (kind);] help: Use `concurrently` to avoid blocking writes.\n"
    )
    assert (
        "notice: squawk skipped 1 revision(s) that cannot render offline: "
        "migrations/versions/3c4d5e6f7a8b_backfill.py (line 14: AttributeError: 'NoneType' "
        "object has no attribute 'fetchall')\n"
    ) in done.stderr


def test_squawk_with_files_checks_only_those_revisions(shop: Path) -> None:
    only = lint(shop, "--squawk", "migrations/versions/1a2b3c4d5e6f_initial.py")
    assert (only.returncode, only.stdout, only.stderr) == (0, "", "")
    other = lint(shop, "--squawk", "README.md")
    assert (other.returncode, other.stdout) == (0, "")


def test_squawk_honours_version_locations_from_alembic_ini(shop: Path) -> None:
    (shop / "alembic.ini").write_text(
        "[alembic]\nscript_location = migrations\n"
        "version_locations = %(here)s/migrations/versions %(here)s/extra\npath_separator = space\n"
    )
    (shop / "extra").mkdir()
    (shop / "extra" / "5e6f7a8b9c0d_more.py").write_text(
        foreign_project.revision(
            "more", "5e6f7a8b9c0d", None, 'op.create_index("ix_orders_note", "orders", ["note"])'
        )
    )
    done = lint(shop, "--squawk")
    assert done.returncode == 1
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == [
        "extra/5e6f7a8b9c0d_more.py",
        "migrations/versions/2b3c4d5e6f7a_add_kind.py",
    ]


def test_many_skipped_revisions_are_one_line_per_reason(shop: Path) -> None:
    versions = shop / "migrations" / "versions"
    for n in range(6):
        (versions / f"9{n}_needs_a_package.py").write_text("import sqlalchemy_utils_not_here\n")
    done = lint(shop, "--squawk")
    assert (
        "notice: squawk skipped 7 revision(s) that cannot render offline (name files to see "
        "each one's line: python -m conventions lint --squawk FILE ...):\n"
        "  6 × ModuleNotFoundError: No module named 'sqlalchemy_utils_not_here': "
        "90_needs_a_package.py, 91_needs_a_package.py, 92_needs_a_package.py and 3 more\n"
        "  1 × AttributeError: 'NoneType' object has no attribute 'fetchall': "
        "3c4d5e6f7a8b_backfill.py\n"
    ) in done.stderr


def test_script_location_from_tool_alembic_in_pyproject(shop: Path) -> None:
    (shop / "migrations").rename(shop / "db_migrations")
    (shop / "pyproject.toml").write_text(
        CONFIG + '\n[tool.alembic]\nscript_location = "db_migrations"\n'
    )
    done = lint(shop, "--squawk")
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("db_migrations/versions/2b3c4d5e6f7a_add_kind.py:13:1: HSE012")
    manifest = lint(shop, "--manifest")
    assert "not yet in db_migrations/versions/SHA256SUMS" in manifest.stderr


def test_the_alembic_ini_named_by_alembic_config_gives_the_migration_directories(
    shop: Path,
) -> None:
    # A package keeping its migrations inside it, alembic.ini beside env.py with
    # script_location = %(here)s: only [tool.conventions] alembic_config finds it.
    (shop / "shop" / "migration").mkdir()
    (shop / "migrations").rename(shop / "shop" / "migration" / "alembic")
    inner = shop / "shop" / "migration" / "alembic"
    (inner / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s\n")
    (shop / "pyproject.toml").write_text(
        '[tool.conventions]\nalembic_config = "shop/migration/alembic/alembic.ini"\n'
    )
    done = lint(shop)
    assert done.returncode == 1, done.stderr
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == [
        "shop/migration/alembic/versions/1a2b3c4d5e6f_initial.py",
        "shop/migration/alembic/versions/2b3c4d5e6f7a_add_kind.py",
    ]
    manifest = lint(shop, "--manifest")
    assert "not yet in shop/migration/alembic/versions/SHA256SUMS" in manifest.stderr
