"""A generated 500-file repository for measurement 7: what following imports costs.

Shaped like the projects the lint meets (issue 13): a monorepo with a shared package
under ``packages/common/src`` (enums and column helpers), an application under
``src/`` whose models import them (SQLAlchemy 2 ``Mapped`` models and Flask-SQLAlchemy
``db.Column`` models through an extension instance), and an Alembic history. Source
roots come from ``[tool.conventions.lint] src``. A known number of files plant an
Enum spelling the lint must follow across files, so the run proves it looked.
"""

from __future__ import annotations

from pathlib import Path

FILES = 500
PLANT_EVERY = 25
HELPER_FINDINGS = 3  # common/types.py's own definitions: two sa.Enum, one partial (HSE003)

ENUMS = "import enum\n\n" + "".join(
    f"\n\nclass Status{i}(enum.Enum):\n    DRAFT = 'draft'\n    LIVE = 'live'\n" for i in range(40)
)

TYPES = '''\
"""Column helpers shared by every service."""

from functools import partial

import sqlalchemy as sa

EnumColumn = sa.Enum
LooseEnum = partial(sa.Enum, native_enum=False)


def enum_column(enum_class, **kw):
    return sa.Column(sa.Enum(enum_class), **kw)


def text_column(length, **kw):
    return sa.Column(sa.String(length), **kw)
'''

EXTENSIONS = """\
from flask_sqlalchemy import SQLAlchemy

db = SQLAlchemy()
"""

BASE = """\
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
"""

MAPPED_MODEL = '''\
"""Orders, region {i}."""

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from common.enums import Status{e}
from common.types import text_column
from conventions import Choice
from shop.base import Base


class Order{i}(Base):
    __tablename__ = "orders_{i}"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[Status{e}] = mapped_column(Choice(Status{e}))
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    code = text_column(20)
{plant}
'''

FLASK_MODEL = '''\
"""Flask-SQLAlchemy models, area {i}."""

from common.enums import Status{e}
from shop.extensions import db


class Ticket{i}(db.Model):
    __tablename__ = "tickets_{i}"

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(200), nullable=False)
    state = db.Column(db.String(20), default=Status{e}.DRAFT.value)
    created_at = db.Column(db.DateTime, server_default=db.func.now())
{plant}
'''

MIGRATION = '''\
"""step {i}

Revision ID: r{i:04d}
Revises: {parent}
"""

import sqlalchemy as sa
from alembic import op

revision = "r{i:04d}"
down_revision = {parent!r}


def upgrade() -> None:
    op.create_table(
        "things_{i}",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
    )
    op.create_index("ix_things_{i}_name", "things_{i}", ["name"])
    op.execute("UPDATE things_{i} SET kind = 'draft' WHERE kind IS NULL")
{plant}

def downgrade() -> None:
    op.drop_index("ix_things_{i}_name", table_name="things_{i}")
    op.drop_table("things_{i}")
'''


def generate(root: Path) -> int:
    """Write the repository under ``root``; return how many findings it plants."""
    planted = 0
    written = 0

    def put(relative: str, text: str) -> None:
        nonlocal written
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written += relative.endswith(".py")

    put("pyproject.toml", '[tool.conventions.lint]\nsrc = ["src", "packages/common/src"]\n')
    put("packages/common/src/common/__init__.py", "")
    put("packages/common/src/common/enums.py", ENUMS)
    put("packages/common/src/common/types.py", TYPES)
    put("src/shop/__init__.py", "")
    put("src/shop/models/__init__.py", "")
    put("src/shop/extensions.py", EXTENSIONS)
    put("src/shop/base.py", BASE)
    fixed = written
    models = (FILES - fixed) * 3 // 5
    migrations = FILES - fixed - models
    for i in range(models):
        plant = i % PLANT_EVERY == PLANT_EVERY - 1
        planted += plant
        e = i % 40
        if i % 2:
            extra = f"    legacy = db.Column(db.Enum(Status{e}))\n" if plant else ""
            put(f"src/shop/models/ticket_{i:04d}.py", FLASK_MODEL.format(i=i, e=e, plant=extra))
        else:
            extra = f"    legacy: Mapped[Status{e}]\n" if plant else ""
            put(f"src/shop/models/order_{i:04d}.py", MAPPED_MODEL.format(i=i, e=e, plant=extra))
    for i in range(migrations):
        plant = i % PLANT_EVERY == PLANT_EVERY - 1
        planted += plant
        extra = (
            f'    name = "kind_{i}"\n    op.execute(f"ALTER TYPE {{name}} ADD VALUE \'x\'")\n'
            if plant
            else ""
        )
        parent = f"r{i - 1:04d}" if i else None
        put(
            f"migrations/versions/{i:04d}_step.py",
            MIGRATION.format(i=i, parent=parent, plant=extra),
        )
    assert written == FILES, written
    return planted
