"""Locating a project's metadata, and its errors told as its own (issue 16).

One locator (:mod:`conventions.project.metadata`) serves env.py's ``run()``,
``status`` and ``lint --models``: these tests hold each of them to the same answers
on modules shaped like a Flask app's (a ``current_app`` proxy that raises on any
attribute, a Flask-SQLAlchemy-style ``db``), and check that what fails in the
project's code or models is named as the project's, with where to look.

The ForeignKey case reproduces what cgwire/zou showed (``CONVENTIONS_METADATA`` naming
an app's ``db`` whose models point at a table defined in a module nobody imported):
SQLAlchemy's NoReferencedTableError, raised while comparing, was "a bug in the tooling".
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import MetaData
from sqlalchemy.engine import URL

from conventions.errors import ForeignKeyTargetMissing, MetadataNotFound, ProjectCodeError
from conventions.harness.scratch import run_cli, url_text
from conventions.lint.metadata import lint_models
from conventions.project import metadata as locator
from tests import foreign_project

PROXY = """
    class LocalProxy:
        '''Any attribute access outside an app context raises, like flask.current_app.'''

        def __getattr__(self, name):
            raise RuntimeError("Working outside of application context.")

        def __class_getitem__(cls, item):
            raise RuntimeError("Working outside of application context.")


    current_app = LocalProxy()
"""

DB = """
    import sqlalchemy as sa
    from sqlalchemy.orm import DeclarativeBase

    from {package}.proxy import current_app


    class SQLAlchemy:
        '''Flask-SQLAlchemy 3's shape: db.Model, one MetaData per bind, metadata a property.'''

        def __init__(self):
            class Model(DeclarativeBase):
                pass

            self.Model = Model
            self.metadatas = {{None: Model.metadata}}

        @property
        def metadata(self):
            return current_app.extensions["sqlalchemy"].metadata  # would need the app


    db = SQLAlchemy()


    class Ticket(db.Model):
        __tablename__ = "tickets"
        id = sa.Column(sa.Integer, primary_key=True)
        state = sa.Column(sa.Enum("open", "closed", name="ticket_state"))
"""


@pytest.fixture
def package(tmp_path: Path) -> Iterator[str]:
    """A throwaway importable package, removed from sys.modules afterwards."""
    name = f"adoptpkg_{tmp_path.name.replace('-', '_')}"
    root = tmp_path / "src"
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text("", encoding="utf-8")
    (root / name / "proxy.py").write_text(textwrap.dedent(PROXY), encoding="utf-8")
    (root / name / "models.py").write_text(
        textwrap.dedent(DB.format(package=name)), encoding="utf-8"
    )
    sys.path.insert(0, str(root))
    try:
        yield name
    finally:
        sys.path.remove(str(root))
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]


def test_env_status_and_lint_find_the_same_metadata_without_touching_the_proxy(
    package: str, tmp_path: Path
) -> None:
    by_module = locator.from_module(f"{package}.models")
    by_reference = locator.from_reference(f"{package}.models:db")
    module = sys.modules[f"{package}.models"]
    by_run = locator.locate(vars(module)["db"])  # what env.py's run(context, db) uses
    assert isinstance(by_module, MetaData)
    assert by_module is by_reference is by_run
    assert set(by_module.tables) == {"tickets"}
    # lint --models walks every global (the proxy among them) and finds the same table.
    findings = lint_models(f"{package}.models", roots=[tmp_path])
    assert [f.code for f in findings] == ["HSE009"]
    assert "column tickets.state" in findings[0].message


def test_a_models_module_that_raises_is_the_projects_error_with_module_and_line(
    package: str, tmp_path: Path
) -> None:
    broken = tmp_path / "src" / package / "broken.py"
    broken.write_text("import os\n\nLIMIT = int(os.environ['NO_SUCH_SETTING_X'])\n")
    with pytest.raises(ProjectCodeError) as caught:
        locator.from_reference(f"{package}.broken:db", root=tmp_path / "src")
    assert caught.value.module == f"{package}.broken"
    assert caught.value.line == 3
    assert "KeyError: 'NO_SUCH_SETTING_X'" in str(caught.value)
    assert "not the tooling" in str(caught.value)


def test_a_missing_models_module_says_where_it_looked(package: str) -> None:
    with pytest.raises(MetadataNotFound) as caught:
        locator.from_module(f"{package}.nowhere")
    assert f"No module named {package}.nowhere" in str(caught.value)


def test_an_unresolvable_foreign_key_names_column_and_target() -> None:
    import sqlalchemy as sa

    metadata = MetaData()
    sa.Table(
        "comments",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket_id", sa.ForeignKey("tickets.id")),
        sa.Column("author_id", sa.ForeignKey("people.id")),
    )
    from sqlalchemy.exc import NoReferenceError

    with pytest.raises(NoReferenceError) as raised:
        for table in metadata.sorted_tables:
            for fk in table.foreign_keys:
                fk.column  # noqa: B018
    error = locator.unresolved_foreign_keys(raised.value, metadata)
    assert isinstance(error, ForeignKeyTargetMissing)
    assert set(error.missing) == {
        ("comments.ticket_id", "tickets.id"),
        ("comments.author_id", "people.id"),
    }
    # Without the metadata, the one SQLAlchemy named.
    alone = locator.unresolved_foreign_keys(raised.value)
    assert len(alone.missing) == 1 and alone.missing[0][0].startswith("comments.")


# --- the zou shape, end to end ---------------------------------------------------------

COMMENTS = """
    import sqlalchemy as sa

    from shopfront.extensions import db


    class Comment(db.Model):
        '''Points at tickets, defined in shopfront/tickets.py, which nothing imports.'''

        __tablename__ = "comments"
        id = sa.Column(sa.Integer, primary_key=True)
        ticket_id = sa.Column(sa.Integer, sa.ForeignKey("tickets.id"), nullable=False)
"""


def test_a_foreign_key_to_a_table_missing_from_their_metadata_is_theirs(
    tmp_path: Path, fresh_db: URL
) -> None:
    project = foreign_project.build(tmp_path / "shopfront")
    env = {"SHOPFRONT_DATABASE_URL": url_text(fresh_db)}
    init = run_cli(["-m", "conventions", "init", "--yes"], url=None, cwd=project)
    assert init.returncode == 0, init.stdout + init.stderr
    up = run_cli(["-m", "conventions", "migrate"], url=None, cwd=project, env=env)
    assert up.returncode == 0, up.stdout + up.stderr
    (project / "shopfront" / "comments.py").write_text(textwrap.dedent(COMMENTS), encoding="utf-8")
    models = project / "shopfront" / "models.py"
    models.write_text(
        models.read_text(encoding="utf-8") + "\nimport shopfront.comments  # noqa: E402,F401\n",
        encoding="utf-8",
    )

    # status: the rest is shown, drift is "not checked" with the project's reason.
    status = run_cli(
        ["-m", "conventions", "status", "--json"],
        url=None,
        cwd=project,
        env={**env, "CONVENTIONS_METADATA": "shopfront.models:db"},
    )
    assert status.returncode == 0, status.stdout + status.stderr
    document = json.loads(status.stdout)
    assert document["at_head"] is True
    note = document["drift_note"]
    assert note.startswith("not checked: The project's models cannot be compared"), note
    assert "comments.ticket_id → tickets.id" in note
    assert "Import every models module" in note
    assert "bug in the tooling" not in status.stdout + status.stderr

    # alembic check compares the same metadata through env.py: FAILED with the same reason.
    check = run_cli(["alembic", "check"], url=None, cwd=project, env=env)
    output = check.stdout + check.stderr
    assert check.returncode != 0, output  # alembic exits 255 on a CommandError
    assert "FAILED: The project's models cannot be compared" in output
    assert "comments.ticket_id → tickets.id" in output
    assert "Traceback" not in output and "bug in the tooling" not in output
