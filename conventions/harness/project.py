"""The Alembic project under test: its config, its revisions in order, their names.

The harness never hard-codes a revision: everything it checks comes from Alembic's
own ``ScriptDirectory``, so a revision added tomorrow is covered the moment its
file exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from alembic.config import Config
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import URL, Connection

from conventions.db.settings import project_root
from conventions.harness.scratch import url_text
from conventions.project.alembic_config import alembic_config


@dataclass
class Project:
    """One Alembic project (``alembic.ini`` + ``alembic/``) rooted at ``root``."""

    root: Path = field(default_factory=project_root)

    def config(self, *, connection: Connection | None = None, url: URL | None = None) -> Config:
        """Return a fresh Alembic config; ``connection`` is what env.py migrates with.

        A new config per run keeps one run's attributes (the connection) from leaking
        into the next.
        """
        config = alembic_config(self.root, url=url_text(url) if url is not None else None)
        if connection is not None:
            config.attributes["connection"] = connection
        return config

    @cached_property
    def script(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self.config())

    def revisions(self) -> list[Script]:
        """Return every revision oldest first (a topological order for branched graphs)."""
        newest_first = list(self.script.revision_map.iterate_revisions("heads", "base"))
        return [rev for rev in reversed(newest_first) if isinstance(rev, Script)]

    def heads(self) -> tuple[str, ...]:
        return tuple(self.script.get_heads())

    def revision(self, revision_id: str) -> Script:
        found = self.script.get_revision(revision_id)
        assert isinstance(found, Script), revision_id
        return found

    def label(self, revision_id: str) -> str:
        """Return ``20250131-add-notification-campaign-fields (e7a3b5c9d131)``."""
        return f"{self.stem(revision_id)} ({revision_id})"

    def stem(self, revision_id: str) -> str:
        return Path(self.revision(revision_id).path).stem


def revision_ids(root: Path | None = None) -> list[str]:
    """Return the project's revision ids, oldest first: what tests parametrize over."""
    return [rev.revision for rev in Project(root or project_root()).revisions()]


def revision_stems(root: Path | None = None) -> list[str]:
    """Return the file stems in the same order, for readable test ids."""
    project = Project(root or project_root())
    return [Path(rev.path).stem for rev in project.revisions()]
