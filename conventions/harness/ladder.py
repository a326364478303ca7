"""The history climbed once, lazily, leaving a template database at every rung it needs.

Climbing is itself the "upgrade from empty to head, one revision at a time" check,
with data: after each revision the seeder fills the tables, and the state is kept
as a template. A test about revision R then clones the rung below R in a few
hundredths of a second instead of replaying the history.

Three properties keep it usable on a history of hundreds of revisions:

- **Lazy.** A rung is built when a test first asks for it, so ``pytest -k`` that
  selects three revisions climbs only as far as the newest of them.
- **One failure, one revision.** When a revision's upgrade fails on the harness's
  rows but succeeds on tables without them (a data migration a generated value
  breaks), the climb goes on from the row-less state and only that revision's
  tests fail, with the reason. Only a revision that cannot upgrade at all stops the
  climb, and then only the tests that need a rung above it fail.
- **Shared and short-lived.** Template names are keyed by the run, the revision
  and a hash of every file below it, so pytest-xdist workers of one run find each
  other's templates (a PostgreSQL advisory lock lets one climb at a time), and a
  rung no selected test still needs is dropped as soon as the last one ran.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import URL, Connection

from conventions.harness.failures import HistoryBroken, RevisionFailsOnHarnessRows
from conventions.harness.project import Project
from conventions.harness.scratch import ScratchServer, connected
from conventions.harness.seed_data import Seeder
from conventions.harness.snapshot import enum_types
from conventions.harness.steps import upgrade_one

BASE = "base"


@dataclass
class Rung:
    """The state after ``index`` revisions (0 is the empty database)."""

    index: int
    template: str | None  # None once dropped
    enums: dict[str, str]
    without_rows: str | None = None  # why it was reached on tables without the harness's rows

    def note(self, broken_next: str | None = None) -> str:
        return json.dumps(
            {"enums": self.enums, "without_rows": self.without_rows, "broken_next": broken_next}
        )


@dataclass
class _Live:
    url: URL
    index: int
    rows: bool  # the harness has put rows in it


@dataclass
class Ladder:
    """Template databases for the state before and after every revision, made on demand."""

    project: Project
    server: ScratchServer
    seeder: Seeder = field(default_factory=Seeder)
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    shared: bool = False  # templates outlive this process (pytest-xdist); dropped by the run
    # Drop a rung no test needs (see expect) once the climb is past it. Off for a bare
    # Ladder (benchmarks, build() alone): nothing has said which rungs it will clone.
    prune: bool = False
    order: list[str] = field(default_factory=list)
    rungs: dict[int, Rung] = field(default_factory=dict)
    broken: HistoryBroken | None = None
    broken_at: int | None = None  # the index of the rung that cannot be reached
    build_seconds: float = 0.0
    climbed: int = 0
    peak_templates: int = 0
    clone_seconds: list[float] = field(default_factory=list)
    needs: Counter[int] = field(default_factory=Counter)
    _hashes: list[str] = field(default_factory=list)
    _work: _Live | None = None
    _bare: _Live | None = None

    def __post_init__(self) -> None:
        self.order = [rev.revision for rev in self.project.revisions()]
        digest = hashlib.sha256(
            repr(
                (sorted(self.seeder.seed_rows.items(), key=str), self.seeder.settings.fingerprint())
            ).encode()
        )
        self._hashes = [digest.hexdigest()]
        for revision in self.order:
            digest.update(Path(self.project.revision(revision).path).read_bytes())
            self._hashes.append(digest.hexdigest())

    # --- what tests ask for -------------------------------------------------------------

    @property
    def prefix(self) -> str:
        return f"hm{self.run}_"

    def index(self, revision: str) -> int:
        """Return the rung just before ``revision`` (its position in the history)."""
        return self.order.index(revision)

    @property
    def templates(self) -> dict[str, str]:
        """Live templates by revision (``base`` for the empty database)."""
        return {
            (self.order[i - 1] if i else BASE): rung.template
            for i, rung in sorted(self.rungs.items())
            if rung.template is not None
        }

    def build(self) -> Ladder:
        """Climb the whole history now (what the full-climb test and benchmarks want)."""
        self.reach(len(self.order))
        return self

    def reach(self, index: int) -> Rung | None:
        """Return rung ``index``, climbing to it if need be; None past a broken revision.

        A rung whose template was dropped is climbed to again when asked for its
        database (``template_before``); its facts (``after``) stay known.
        """
        if index in self.rungs:
            return self.rungs[index]
        if self.broken_at is not None and index >= self.broken_at:
            return None
        key = int.from_bytes(hashlib.sha256(self.prefix.encode()).digest()[:8], "big", signed=True)
        started = time.perf_counter()
        self.server.lock(key)
        try:
            if self.shared:
                self._adopt()
            if index not in self.rungs and (self.broken_at is None or index < self.broken_at):
                self._climb_to(index)
        finally:
            self.server.unlock(key)
            self.build_seconds += time.perf_counter() - started
        return self.rungs.get(index)

    def template_before(self, revision: str) -> str:
        """Return the template holding the state just before ``revision`` is applied."""
        index = self.index(revision)
        rung = self.reach(index)
        if rung is not None and rung.template is None:  # dropped: no test was counted for it
            del self.rungs[index]
            rung = self.reach(index)
        if rung is None or rung.template is None:
            raise self._unreachable(revision)
        return rung.template

    def after(self, revision: str) -> Rung:
        """Return the rung ``revision`` leads to; raise why if the climb never got there."""
        rung = self.reach(self.index(revision) + 1)
        if rung is None:
            assert self.broken is not None
            if self.broken_at == self.index(revision) + 1:
                raise self.broken
            raise self._unreachable(revision)
        return rung

    def before(self, revision: str) -> AbstractContextManager[Connection]:
        """A connection to a fresh database, with the harness's rows, just before ``revision``.

        Raises the reason instead when ``revision`` upgrades only on tables without the
        harness's rows: every test that needs it to work on rows would fail the same way.
        """
        template = self.template_before(revision)
        reached = self.reach(self.index(revision) + 1)
        if reached is not None and reached.without_rows is not None:
            raise RevisionFailsOnHarnessRows(self.project.label(revision), reached.without_rows)
        return self.connection(template)

    @contextmanager
    def connection(self, template: str) -> Iterator[Connection]:
        """A connection to a fresh clone of ``template``, dropped afterwards."""
        started = time.perf_counter()
        with self.server.clone(template) as url:
            self.clone_seconds.append(time.perf_counter() - started)
            with connected(url) as connection:
                yield connection

    def expect(self, index: int, count: int = 1) -> None:
        """Record that ``count`` more tests will clone rung ``index``."""
        self.needs[index] += count

    def release(self, index: int) -> None:
        """One test that needed rung ``index`` is done; drop the rung if none is left.

        The highest rung is kept (the next climb starts from it), and shared templates
        stay until the run ends: another worker may still be about to clone them.
        """
        self.needs[index] -= 1
        if self.needs[index] > 0 or self.shared:
            return
        rung = self.rungs.get(index)
        if rung is None or rung.template is None or index == max(self.rungs):
            return
        self.server.drop(rung.template)
        rung.template = None

    def close(self) -> None:
        """Drop the working databases (the server drops the templates it owns)."""
        for live in (self._work, self._bare):
            if live is not None:
                self.server.drop(live.url)
        self._work = self._bare = None

    # --- climbing -------------------------------------------------------------------------

    def _name(self, index: int) -> str:
        label = self.order[index - 1][:12] if index else BASE
        return f"{self.prefix}{label}_{self._hashes[index][:12]}"

    def _adopt(self) -> None:
        """Learn the rungs other workers of this run have published (and dropped)."""
        published = self.server.databases(self.prefix)
        for rung in self.rungs.values():
            if rung.template is not None and rung.template not in published:
                rung.template = None  # another worker pruned it: never clone from it
        for index in range(len(self.order) + 1):
            name = self._name(index)
            if name not in published or index in self.rungs:
                continue
            note = json.loads(published[name] or "{}")
            self.rungs[index] = Rung(index, name, note.get("enums", {}), note.get("without_rows"))
            if note.get("broken_next") and self.broken_at is None:
                self.broken_at = index + 1
                revision = self.project.label(self.order[index])
                self.broken = HistoryBroken(note["broken_next"], revision=revision)

    def _climb_to(self, index: int) -> None:
        start = max((i for i in self.rungs if i <= index and self.rungs[i].template), default=None)
        work = self._work
        if work is None or work.index > index or (start is not None and work.index < start):
            if work is not None:
                self.server.drop(work.url)
            if start is None:
                url = self.server.create(label="ladder")
                work = self._work = _Live(url, 0, rows=False)
                self._fill(work, 0)
                self._keep(work, Rung(0, None, {}))
            else:
                template = self.rungs[start].template
                assert template is not None
                url = self.server.create(template=template, label="ladder")
                work = self._work = _Live(url, start, rows=True)
                with connected(url) as connection:
                    self.seeder.resume(connection, rung=start)
        while work.index < index:
            if not self._step(work, work.index + 1):
                return

    def _step(self, work: _Live, index: int) -> bool:
        """Upgrade ``work`` by one revision, fill it, keep it as rung ``index``."""
        revision = self.order[index - 1]
        label = self.project.label(revision)
        error = self._upgrade(work.url, revision)
        without_rows = None
        if error is not None:
            bare = self._bare_at(index - 1) if work.rows else None
            retry = self._upgrade(bare.url, revision) if bare is not None else error
            if retry is not None:
                message = f"Upgrading from empty to head stops at {label}: {_first_line(retry)}"
                self._break(index, message, label)
                return False
            assert bare is not None
            bare.index = index
            without_rows = (
                f"its upgrade fails on the rows the harness put in the tables "
                f"({_first_line(error)}), and succeeds on tables without them"
            )
            self.server.drop(work.url)
            work.url = self.server.create(template=bare.url.database, label="ladder")
            self.seeder.shapes.clear()  # the rows are gone: every table gets a new one
        work.index = index
        try:
            self._fill(work, index)
        except Exception as err:
            self._break(
                index, f"After {label}, the harness could not insert its rows: {err}", label
            )
            return False
        with connected(work.url) as connection:
            enums = enum_types(connection)
        self._keep(work, Rung(index, None, enums, without_rows))
        self.climbed += 1
        return True

    def _upgrade(self, url: URL, revision: str) -> Exception | None:
        try:
            with connected(url) as connection:
                upgrade_one(self.project, connection, revision)
            return None
        except Exception as err:  # the project's migration failed: the report says how
            return err

    def _fill(self, work: _Live, index: int) -> None:
        with connected(work.url) as connection:
            if self.seeder.fill(connection, rung=index):
                work.rows = True

    def _bare_at(self, index: int) -> _Live | None:
        """A database at rung ``index`` that never held the harness's rows (made lazily)."""
        bare = self._bare
        if bare is None or bare.index > index:
            if bare is not None:
                self.server.drop(bare.url)
            bare = self._bare = _Live(self.server.create(label="bare"), 0, rows=False)
        while bare.index < index:
            if self._upgrade(bare.url, self.order[bare.index]) is not None:
                return None
            bare.index += 1
        return bare

    def _keep(self, work: _Live, rung: Rung) -> None:
        name = self._name(rung.index)
        staging = self.server.create(
            template=work.url.database, label="staging", owned=not self.shared
        )
        assert staging.database is not None
        self.server.publish(staging.database, name, rung.note())
        rung.template = name
        self.rungs[rung.index] = rung
        if self.prune:
            self._prune(below=rung.index)
        live = sum(1 for r in self.rungs.values() if r.template is not None)
        self.peak_templates = max(self.peak_templates, live)

    def _prune(self, *, below: int) -> None:
        """Drop the templates under the new top rung that no remaining test will clone.

        The climb goes on from the working database, never from them; shared ones are
        pruned too (every worker counts the whole run's tests, so "none needs it" holds
        for all of them), under the climbing lock that the other workers take as well.
        """
        for index, rung in self.rungs.items():
            if index < below and rung.template is not None and self.needs[index] <= 0:
                self.server.drop(rung.template)
                rung.template = None

    def _break(self, index: int, message: str, label: str) -> None:
        self.broken = HistoryBroken(message, revision=label)
        self.broken_at = index
        below = self.rungs.get(index - 1)
        if below is not None and below.template is not None:
            self.server.annotate(below.template, below.note(broken_next=message))

    def _unreachable(self, revision: str) -> HistoryBroken:
        assert self.broken is not None
        return HistoryBroken(
            f"Cannot test {self.project.label(revision)}: the history never got that far. "
            f"{self.broken.message}",
            revision=self.project.label(revision),
        )


def _first_line(err: BaseException) -> str:
    """The database's own message, without SQLAlchemy's statement and help link."""
    cause = getattr(err, "orig", None) or err
    return (str(cause).strip().splitlines() or [type(err).__name__])[0]
