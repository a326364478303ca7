"""Build the Alembic ``Config`` our commands and tests share."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from conventions.db.settings import project_root
from conventions.project import layout


def alembic_config(root: Path | None = None, *, url: str | None = None) -> Config:
    """Return the project's Alembic config; ``url`` overrides DATABASE_URL resolution.

    The project's own ``script_location`` and ``version_locations`` (alembic.ini or
    ``[tool.alembic]``) are kept: see :mod:`conventions.project.layout`.
    """
    config = layout.config(root or project_root())
    if url is not None:
        config.attributes["url"] = url
    return config
