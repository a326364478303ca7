"""Flask-Migrate for real: ``flask db …`` on an app-factory project wired by ``conventions init``.

The project is what a Flask user has: an app factory, Flask-SQLAlchemy's ``db``,
Flask-Migrate's ``migrations/`` made by ``flask db init`` (its own env.py and an
alembic.ini inside ``migrations/``), and its URL in the app's config only —
``DATABASE_URL`` is never set. ``python -m conventions init --yes`` wires the env.py;
then ``flask db migrate`` and ``flask db upgrade`` must go through the house runtime.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from conventions.harness.scratch import url_text
from tests.runtime_support import rows, scalar

FACTORY = """
    import os

    from flask import Flask
    from flask_migrate import Migrate
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()
    migrate = Migrate()


    def create_app():
        app = Flask(__name__)
        # The app's own setting: the only place the URL is.
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["SHOP_DATABASE_URL"]
        db.init_app(app)
        migrate.init_app(app, db)
        from shop import models  # noqa: F401

        return app
"""

MODELS = """
    from shop import db


    class Service(db.Model):
        __tablename__ = "services"
        id = db.Column(db.Integer, primary_key=True)
        name = db.Column(db.String(80), nullable=False)
"""

ENUM_COLUMN = (
    '    state = db.Column(db.Enum("active", "retired", name="service_state"), nullable=True)\n'
)


@dataclass
class FlaskProject:
    root: Path
    url: URL

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        """Run ``flask …`` or ``python …`` from the test's venv, with no DATABASE_URL."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "CONVENTIONS_ROOT", "PYTHONPATH"}
        }
        env.update(FLASK_APP="shop:create_app", SHOP_DATABASE_URL=url_text(self.url))
        env["PLAIN_LOGS"] = "1"
        binary = Path(sys.executable).with_name(argv[0]) if argv[0] == "flask" else sys.executable
        return subprocess.run(
            [str(binary), *argv[1:]],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture
def flask_project(tmp_path: Path, fresh_db: URL) -> Iterator[FlaskProject]:
    root = tmp_path / "shopapp"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text(textwrap.dedent(FACTORY), encoding="utf-8")
    (root / "shop" / "models.py").write_text(textwrap.dedent(MODELS), encoding="utf-8")
    project = FlaskProject(root, fresh_db)
    _ok(project.run("flask", "db", "init"))
    assert (root / "migrations" / "env.py").is_file()
    wired = _ok(project.run("python", "-m", "conventions", "init", "--yes"))
    assert "from conventions.env import run as house_run" in wired.stdout
    yield project


def test_flask_db_migrate_and_upgrade_go_through_the_runtime_on_the_apps_url(
    flask_project: FlaskProject,
) -> None:
    migrated = _ok(flask_project.run("flask", "db", "migrate", "-m", "create services"))
    (written,) = (flask_project.root / "migrations" / "versions").glob("*.py")
    assert written.name.endswith("-create-services.py"), migrated.stderr  # the house name
    upgraded = _ok(flask_project.run("flask", "db", "upgrade"))
    output = upgraded.stdout + upgraded.stderr
    assert "[1/1] " + written.stem + " ok" in output, output
    # DATABASE_URL was unset: the runtime used the app's SQLALCHEMY_DATABASE_URI, and
    # recorded the run in the house history there.
    history = rows(
        flask_project.url, "SELECT direction, success, file_name FROM migration_meta.history"
    )
    assert [(d, s) for d, s, _ in history] == [("upgrade", True)]
    assert scalar(flask_project.url, "SELECT to_regclass('public.services')::text") == "services"
    assert not (flask_project.root / ".pgdata").exists()  # no embedded server was started


def test_flask_db_migrate_refuses_an_enum_and_the_message_reaches_the_user(
    flask_project: FlaskProject,
) -> None:
    _ok(flask_project.run("flask", "db", "migrate", "-m", "create services"))
    _ok(flask_project.run("flask", "db", "upgrade"))
    models = flask_project.root / "shop" / "models.py"
    models.write_text(models.read_text(encoding="utf-8") + ENUM_COLUMN, encoding="utf-8")
    before = sorted((flask_project.root / "migrations" / "versions").glob("*.py"))

    refused = flask_project.run("flask", "db", "migrate", "-m", "add state")

    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert (
        "Autogenerate would write an Enum type for services.state. House policy: enumerated "
        "values are VARCHAR + a named CHECK, never a native ENUM. No migration was written."
    ) in refused.stderr
    assert "conventions.Choice" in refused.stderr
    assert "Autogenerate would write" not in refused.stdout  # errors go to stderr
    assert sorted((flask_project.root / "migrations" / "versions").glob("*.py")) == before
