"""Build the Alembic ``Config`` our commands and tests share."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from conventions.settings import project_root


def alembic_config(root: Path | None = None, *, url: str | None = None) -> Config:
    """Return the project's Alembic config; ``url`` overrides DATABASE_URL resolution."""
    root = root or project_root()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "alembic"))
    if url is not None:
        config.attributes["url"] = url
    return config
