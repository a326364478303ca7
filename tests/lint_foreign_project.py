"""A project shaped like other people's: Flask-Migrate's ``migrations/``, a ``db`` object.

Written from scratch for the lint's adoption tests (never copied from a real
project): ``migrations/alembic.ini`` with no ``script_location`` (Flask-Migrate
passes it in code), an env.py that cannot be loaded outside the app (it imports a
module that does not exist here, as ``flask`` would be missing), legacy native
ENUMs in old revisions, a data migration that cannot render offline, and a
Flask-SQLAlchemy-shaped ``db`` object next to a ``current_app`` proxy that raises
on any attribute access outside an "application context", as werkzeug's does.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROXY = '''"""A stand-in for flask.current_app (werkzeug's LocalProxy), installed apart."""


class LocalProxy:
    __slots__ = ()

    def __getattr__(self, name):
        raise RuntimeError("Working outside of application context.")

    @property
    def __class__(self):  # isinstance() asks for this: werkzeug forwards it too
        raise RuntimeError("Working outside of application context.")


current_app = LocalProxy()
'''

DB = '''"""The shape of Flask-SQLAlchemy's SQLAlchemy(): db.Model, db.metadatas, a session."""

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

from fakeflask import current_app


class SQLAlchemy:
    def __init__(self):
        metadata = sa.MetaData(naming_convention={"ck": "ck_%(table_name)s_%(constraint_name)s"})
        self.Model = declarative_base(metadata=metadata)
        self.metadatas = {None: metadata}
        self.Column = sa.Column

    @property
    def session(self):  # needs the app, like the real one's scoped session
        return current_app.extensions["sqlalchemy"]

    def __getattr__(self, name):
        return getattr(current_app, name)


db = SQLAlchemy()
'''

INIT = '''"""The application package."""

from shop.db import db
from fakeflask import current_app

__all__ = ["current_app", "db"]
'''

MODELS = '''"""Models, written years ago."""

import sqlalchemy as sa

from shop import current_app, db


class Order(db.Model):
    __tablename__ = "orders"

    id = sa.Column(sa.Integer, primary_key=True)
    status = sa.Column(sa.Enum("new", "paid", name="order_status"))
    note = sa.Column(sa.String(200))
'''

ENV = '''"""Flask-Migrate's env.py needs the app: loading it here would fail."""

import flask_that_is_not_installed  # noqa: F401
'''

REVISION = '''"""{message}"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "{revision}"
down_revision = {down!r}
branch_labels = None
depends_on = None


def upgrade():
{upgrade}


def downgrade():
    pass
'''

REVISIONS = {
    "1a2b3c4d5e6f_initial.py": (
        "1a2b3c4d5e6f",
        None,
        """
        op.create_table(
            "orders",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("status", sa.Enum("new", "paid", name="order_status")),
            sa.PrimaryKeyConstraint("id", name="pk_orders"),
        )
        """,
    ),
    "2b3c4d5e6f7a_add_kind.py": (
        "2b3c4d5e6f7a",
        "1a2b3c4d5e6f",
        """
        op.add_column("orders", sa.Column("kind", postgresql.ENUM("a", "b", name="order_kind")))
        op.create_index("ix_orders_kind", "orders", ["kind"])
        """,
    ),
    "3c4d5e6f7a8b_backfill.py": (
        "3c4d5e6f7a8b",
        "2b3c4d5e6f7a",
        """
        rows = op.execute(sa.text("SELECT id FROM orders")).fetchall()
        for row in rows:
            op.execute(sa.text("UPDATE orders SET note = 'x' WHERE id = :id").bindparams(id=row.id))
        """,
    ),
}


def revision(message: str, rev: str, down: str | None, upgrade: str) -> str:
    body = textwrap.indent(textwrap.dedent(upgrade).strip(), "    ")
    return REVISION.format(message=message, revision=rev, down=down, upgrade=body)


def site_packages(root: Path) -> Path:
    """The stand-in for the project's installed dependencies (put it on PYTHONPATH)."""
    return root.parent / "site-packages"


def build(root: Path, *, pyproject: str = "") -> Path:
    """Write the foreign project under ``root`` and return ``root``."""
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "__init__.py").write_text(INIT)
    # Installed like flask would be: outside the project, in a site-packages directory.
    site = site_packages(root)
    (site / "fakeflask").mkdir(parents=True, exist_ok=True)
    (site / "fakeflask" / "__init__.py").write_text(PROXY)
    (root / "shop" / "db.py").write_text(DB)
    (root / "shop" / "models.py").write_text(MODELS)
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "migrations" / "alembic.ini").write_text(
        "[alembic]\n# script_location is passed by Flask-Migrate\n\n[loggers]\nkeys = root\n"
    )
    (root / "migrations" / "env.py").write_text(ENV)
    for name, (rev, down, upgrade) in REVISIONS.items():
        (versions / name).write_text(revision(name, rev, down, upgrade))
    shutil.copy(ROOT / ".squawk.toml", root / ".squawk.toml")
    (root / "README.md").write_text("# shop\n")
    (root / "pyproject.toml").write_text(pyproject)
    return root
