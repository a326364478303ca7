"""The history climbed once per session, leaving a template database at every rung.

Climbing is itself the "upgrade from empty to head, one revision at a time" check,
with data: after each revision the seeder fills the tables, and the state is kept
as a template. A test about revision R then clones the rung below R in a few
hundredths of a second instead of replaying the history.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from conventions.harness.databases import ScratchServer, engine_for
from conventions.harness.failures import HistoryBroken
from conventions.harness.project import Project
from conventions.harness.seed_data import Seeder
from conventions.harness.snapshot import Snapshot, take_snapshot
from conventions.harness.steps import upgrade_one

BASE = "base"


@dataclass
class Ladder:
    """Template databases for the state before and after every revision."""

    project: Project
    server: ScratchServer
    seeder: Seeder = field(default_factory=Seeder)
    templates: dict[str, str] = field(default_factory=dict)  # revision (or base) -> db name
    snapshots: dict[str, Snapshot] = field(default_factory=dict)  # revision -> schema at it
    order: list[str] = field(default_factory=list)
    broken: HistoryBroken | None = None
    build_seconds: float = 0.0
    clone_seconds: list[float] = field(default_factory=list)

    def build(self) -> Ladder:
        started = time.perf_counter()
        self.order = [rev.revision for rev in self.project.revisions()]
        work = self.server.create(label="ladder")
        engine = engine_for(work)
        try:
            self.templates[BASE] = self._keep(work.database, BASE)
            for revision in self.order:
                with engine.connect() as connection:
                    if not self._climb(connection, revision):
                        break
                self.templates[revision] = self._keep(work.database, revision)
        finally:
            engine.dispose()
            self.server.drop(work)
        self.build_seconds = time.perf_counter() - started
        return self

    def _climb(self, connection: Connection, revision: str) -> bool:
        label = self.project.label(revision)
        try:
            upgrade_one(self.project, connection, revision)
        except Exception as err:
            self.broken = HistoryBroken(
                f"Upgrading from empty to head stops at {label}: {err}", revision=label
            )
            return False
        try:
            self.seeder.fill(connection)
        except Exception as err:
            self.broken = HistoryBroken(
                f"After {label}, the harness could not insert its rows: {err}", revision=label
            )
            return False
        self.snapshots[revision] = take_snapshot(connection)
        connection.rollback()
        return True

    def _keep(self, database: str, label: str) -> str:
        url = self.server.create(template=database, label=f"tpl_{label[:12]}")
        assert url.database is not None
        return url.database

    def template_before(self, revision: str) -> str:
        """Return the template holding the state just before ``revision`` is applied."""
        index = self.order.index(revision)
        below = self.order[index - 1] if index else BASE
        if below not in self.templates:
            assert self.broken is not None
            raise HistoryBroken(
                f"Cannot test {self.project.label(revision)}: the history never got that far. "
                f"{self.broken.message}",
                revision=self.project.label(revision),
            )
        return self.templates[below]

    @contextmanager
    def connection(self, template: str) -> Iterator[Connection]:
        """A connection to a fresh clone of ``template``, dropped afterwards."""
        started = time.perf_counter()
        with self.server.clone(template) as url:
            self.clone_seconds.append(time.perf_counter() - started)
            engine = engine_for(url)
            try:
                with engine.connect() as connection:
                    yield connection
            finally:
                engine.dispose()

    def before(self, revision: str) -> AbstractContextManager[Connection]:
        """A connection to a fresh database in the state just before ``revision``."""
        return self.connection(self.template_before(revision))
