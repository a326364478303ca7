"""4. A migration queued behind a long-running transaction: our runtime vs plain Alembic.

A report query holds ACCESS SHARE on the table in an open transaction. The
migration's ALTER TABLE needs ACCESS EXCLUSIVE, so it waits; and because
PostgreSQL queues every later lock request behind the waiting ALTER, the
application's single-row INSERT/UPDATE/SELECT statements wait too, for as long as
the report runs. With ``lock_timeout`` the ALTER gives up after a bounded wait,
lets the queue drain, and retries: traffic is held at most one lock timeout.

Both sides are real ``alembic upgrade head`` processes applying the same one-line
revision (``op.add_column``); only env.py differs.
"""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path

from sqlalchemy.engine import URL

from bench import comparison, db, project
from bench.context import Context
from bench.processes import ProcessFailed, failure_line
from bench.results import Section, Target
from bench.stats import duration
from bench.trial import VariantResult
from conventions.harness.scratch import run_cli

NUMBER = 4
TITLE = "A migration queued behind a long-running transaction"
PLAIN_VERSION_TABLE = "alembic_version_plain"
LOCK_TIMEOUT_VAR = "CONVENTIONS_LOCK_TIMEOUT"
SHORT_LOCK_TIMEOUT = "500ms"


class Blocker:
    """An open transaction holding ACCESS SHARE on the table, like a long report."""

    def __init__(self, url: URL) -> None:
        self.conn = db.connect(url, autocommit=False)

    def __enter__(self) -> Blocker:
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {db.TABLE} WHERE id = 1")
        return self

    def release_after(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self.conn.commit)
        timer.start()
        return timer

    def __exit__(self, *_exc: object) -> None:
        self.conn.rollback()
        self.conn.close()


class Chain:
    """One env.py's own line of revisions, each adding one column; a new one per trial.

    The first revision is an empty baseline, stamped before the trials: the table was
    built outside the migration system, which the house runtime rightly refuses to
    migrate until it is baselined.
    """

    def __init__(self, side: str, ini: Path, versions: Path) -> None:
        self.side = side
        self.ini = ini
        self.versions = versions
        self.head: str | None = None
        self.columns: list[str] = []
        self._numbers = itertools.count(0)

    def _revision(self, upgrade: list[str], downgrade: list[str]) -> str:
        number = next(self._numbers)
        revision = f"{'a0' if self.side == 'house' else 'b0'}{number:010x}"
        project.write_revision(
            self.versions,
            revision=revision,
            down_revision=self.head,
            upgrade=upgrade,
            downgrade=downgrade,
        )
        self.head = revision
        return revision

    def baseline(self, url: URL) -> None:
        self._revision(["pass"], ["pass"])
        done = run_cli(
            ["alembic", "-c", str(self.ini), "stamp", "head"], url=url, cwd=self.ini.parent
        )
        if done.returncode != 0:
            raise ProcessFailed(f"stamping the baseline failed: {failure_line(done)}")

    def next_revision(self) -> None:
        column = f"note_{self.side}_{len(self.columns) + 1}"
        self._revision(
            [f"op.add_column({db.TABLE!r}, sa.Column({column!r}, sa.Text()))"],
            [f"op.drop_column({db.TABLE!r}, {column!r})"],
        )
        self.columns.append(column)


def house_lock_timeout(env: dict[str, str] | None = None) -> float | None:
    """The lock_timeout the house runtime sets on migrations, in seconds (None: none)."""
    try:
        from conventions.runtime.limits import Limits
    except ImportError:
        return None
    return Limits.from_env({**os.environ, **(env or {})}).lock_timeout or None


def run(ctx: Context) -> Section:
    url, _writer = ctx.big_table()
    hold = ctx.config.hold_s
    work = ctx.work / "lock-queue"
    house = Chain("house", project.house_project(work / "house"), work / "house/alembic/versions")
    plain_versions = work / "plain-versions"
    plain_ini = project.plain_project(
        work / "plain", versions=plain_versions, version_table=PLAIN_VERSION_TABLE
    )
    plain = Chain("plain", plain_ini, plain_versions)
    house.baseline(url)
    plain.baseline(url)
    short_env = {LOCK_TIMEOUT_VAR: SHORT_LOCK_TIMEOUT}

    def migrate(chain: Chain, env: dict[str, str] | None = None) -> None:
        chain.next_revision()
        with Blocker(url) as blocker:
            timer = blocker.release_after(hold)
            try:
                done = run_cli(
                    ["alembic", "-c", str(chain.ini), "upgrade", "head"],
                    url=url,
                    cwd=chain.ini.parent,
                    env=env,
                    timeout=hold + 300,
                )
            finally:
                timer.join()
        if done.returncode != 0:
            raise ProcessFailed(failure_line(done))

    limits = {"ours": house_lock_timeout(), "ours-short": house_lock_timeout(short_env)}
    default = "–" if limits["ours"] is None else duration(limits["ours"])
    variants = [
        comparison.Variant(
            "ours",
            f"**ours**: house env.py, default lock_timeout ({default}) + retry",
            lambda: migrate(house),
            repeats=ctx.config.lock_repeats,
        ),
        comparison.Variant(
            "ours-short",
            f"**ours**: house env.py, `{LOCK_TIMEOUT_VAR}={SHORT_LOCK_TIMEOUT}` + retry",
            lambda: migrate(house, short_env),
            repeats=ctx.config.lock_repeats,
        ),
        comparison.Variant(
            "plain",
            "plain Alembic env.py (no lock_timeout)",
            lambda: migrate(plain),
            repeats=ctx.config.lock_repeats,
            short="plain Alembic",
        ),
    ]
    try:
        results = comparison.interleave(ctx, variants)
    finally:
        _clean_up(url, [*house.columns, *plain.columns])
    section = comparison.section(
        ctx,
        number=NUMBER,
        key="4-lock-queue",
        title=TITLE,
        how=(
            f"A transaction holds ACCESS SHARE on the table for {duration(hold)} from the moment "
            "`alembic upgrade head` starts; the revision adds a nullable column "
            "(metadata-only once it has the lock). Wall time is the whole `alembic` process, "
            "start-up included. The house runtime is run with its default settings and with a "
            "shorter lock_timeout, as a team with a busy table would set it."
        ),
        variants=variants,
        results=results,
        headlines=[
            (
                f"migration behind a long transaction, lock_timeout {default}: traffic held",
                "ours",
                "plain",
            ),
            (
                f"migration behind a long transaction, lock_timeout {SHORT_LOCK_TIMEOUT}: "
                "traffic held",
                "ours-short",
                "plain",
            ),
        ],
        limits=limits,
    )
    for key in ("ours", "ours-short"):
        section.targets.append(_lock_target(results[key], limits[key], variants))
    ours, short = results["ours"], results["ours-short"]
    if ours.ok and short.ok:
        section.notes.append(
            f"The trade-off: with `{LOCK_TIMEOUT_VAR}={SHORT_LOCK_TIMEOUT}` traffic waited "
            f"{duration(short.worst.median)} instead of {duration(ours.worst.median)}, and the "
            f"migration took {duration(short.seconds.median)} instead of "
            f"{duration(ours.seconds.median)} because it gave up and retried more often before "
            "the long transaction ended. The default keeps the promise (never longer than the "
            "lock timeout) but still holds traffic for seconds; on a busy table the shorter "
            "setting is the better trade."
        )
    return section


def _lock_target(
    result: VariantResult, limit: float | None, variants: list[comparison.Variant]
) -> Target:
    label = next(v.label for v in variants if v.key == result.variant).replace("**ours**: ", "")
    promise = f"traffic held behind a waiting migration ≤ the lock timeout ({label})"
    if limit is None:
        return Target(promise, "–", None, "the house runtime sets no lock_timeout in this checkout")
    if not result.ok:
        return Target(promise, "–", None, result.errors[0] if result.errors else "no run")
    worst = result.worst
    # A statement that queues just after the ALTER starts waiting waits one lock timeout,
    # then runs: allow it its own execution time (the 10 ms per-statement budget).
    allowed = limit + comparison.WRITER_TARGET_S
    met = worst.median <= allowed
    measured = (
        f"median {duration(worst.median)}, slowest {duration(worst.high)} "
        f"(lock_timeout {duration(limit)})"
    )
    why = "" if met else "statements waited longer than one lock timeout; see the plot"
    return Target(promise, measured, met, why)


def _clean_up(url: URL, columns: list[str]) -> None:
    statements = [f"ALTER TABLE {db.TABLE} DROP COLUMN IF EXISTS {c}" for c in columns]
    statements += [
        "DROP TABLE IF EXISTS alembic_version",
        f"DROP TABLE IF EXISTS {PLAIN_VERSION_TABLE}",
    ]
    conn = db.connect(url)
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()
