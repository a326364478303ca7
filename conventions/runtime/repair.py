"""Vouch for migration files: accept an intended edit (repair) or adopt a database (baseline).

Both write history rows that carry a file's current checksum, which is what the
runtime later compares against; neither runs a migration. The caller holds the
migrator lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from conventions.errors import MultipleHeads, SchemaDrift, UnknownTarget
from conventions.history import records
from conventions.history.checksums import file_checksum
from conventions.reports import drift
from conventions.runtime import recorder


def _applied(connection: Connection, script: ScriptDirectory) -> list[Script]:
    heads = MigrationContext.configure(connection).get_current_heads()
    if not heads:
        return []
    return list(reversed(list(script.iterate_revisions(heads, "base"))))


def _matches(script: Script, wanted: Sequence[str]) -> bool:
    path = Path(script.path)
    return not wanted or bool({script.revision, path.name, path.stem} & set(wanted))


def _check_targets(
    connection: Connection, script: ScriptDirectory, wanted: Sequence[str]
) -> list[Script]:
    """Return the applied scripts; refuse a name that is no migration, or one not applied.

    "Nothing to repair" for a typo would let a user believe the file they meant was
    accepted, so every name given must be an applied migration.
    """
    applied = _applied(connection, script)
    known = list(script.walk_revisions())
    unknown = [w for w in wanted if not any(_matches(s, [w]) for s in known)]
    if unknown:
        raise UnknownTarget(
            f"No migration matches {', '.join(repr(w) for w in unknown)}: repair takes revision "
            "ids or file names from the migrations directory. Nothing was recorded.",
            targets=unknown,
            hints=["List them: python -m conventions status (revision ids and file names)"],
        )
    pending = [w for w in wanted if not any(_matches(s, [w]) for s in applied)]
    if pending:
        raise UnknownTarget(
            f"{', '.join(repr(w) for w in pending)} {'is' if len(pending) == 1 else 'are'} not "
            "applied to this database, so there is no recorded checksum to repair. Nothing "
            "was recorded.",
            targets=pending,
            hints=["Apply it instead: make migrate (an edit before applying needs no repair)"],
        )
    return applied


def repair(
    connection: Connection, script: ScriptDirectory, *, only: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """Record the current checksum of each edited applied file; return (revision, file)."""
    applied = _check_targets(connection, script, only)
    recorder.ensure_tables(connection)
    recorded = records.recorded_checksums(connection)
    repaired = []
    for rev in applied:
        old, new = recorded.get(rev.revision), file_checksum(rev.path)
        if old is None or old == new or not _matches(rev, only):
            continue
        entry = recorder.Entry(rev.revision, Path(rev.path).name, "repair", checksum=new)
        entry.note = f"edit accepted: checksum {old[:12]}… → {new[:12]}…"
        recorder.record(connection, entry, success=True)
        repaired.append((rev.revision, Path(rev.path).name))
    connection.commit()
    return repaired


def _vouch(connection: Connection, scripts: list[Script], note: str) -> list[tuple[str, str]]:
    recorder.ensure_tables(connection)
    recorded = records.recorded_checksums(connection)
    done = []
    for rev in scripts:
        if rev.revision in recorded:
            continue
        entry = recorder.Entry(
            rev.revision, Path(rev.path).name, "baseline", checksum=file_checksum(rev.path)
        )
        entry.note = note
        recorder.record(connection, entry, success=True)
        done.append((rev.revision, Path(rev.path).name))
    return done


def _known_revision(script: ScriptDirectory, target: str) -> None:
    try:
        found = script.get_revision(target)
    except CommandError:
        found = None
    if found is None:
        raise UnknownTarget(
            f"There is no revision {target!r} in the migrations directory, so the database "
            "cannot be baselined there. Nothing was recorded.",
            targets=[target],
            hints=[
                "Give a revision id from python -m conventions status (or alembic history), "
                "or omit it to baseline at head.",
            ],
        )


def baseline(
    connection: Connection,
    script: ScriptDirectory,
    *,
    target: str,
    metadata: MetaData | None,
    force: bool,
) -> tuple[str | None, list[tuple[str, str]]]:
    """Adopt the database; return (revision stamped or None, files whose checksum was recorded).

    With no version yet: check the schema against the models (at head), stamp
    ``target`` and record every revision up to it. With a version already: record
    checksums for applied revisions that have none (applied by plain Alembic, or
    before the history existed).
    """
    context = MigrationContext.configure(connection)
    if target not in ("head", "heads", "base"):  # base: refused below when it matters
        _known_revision(script, target)
    if context.get_current_heads():
        done = _vouch(connection, _applied(connection, script), "checksum recorded by baseline")
        connection.commit()
        return None, done
    heads = script.get_heads()
    if target in ("head", "heads") and len(heads) > 1:
        raise MultipleHeads(heads)
    revision = script.get_revision(target)
    if revision is None:
        raise UnknownTarget(
            "baseline needs a revision, not base: the database has tables. Nothing was recorded.",
            targets=[target],
            hints=["Give the revision its schema matches, or omit it to baseline at head."],
        )
    if revision.revision in heads and metadata is not None and not force:
        differences = drift.differences(connection, metadata)
        connection.rollback()
        if differences:
            raise SchemaDrift(
                f"The database does not match the models at head ({revision.revision}), so "
                "baselining it there would make later migrations fail. Nothing was recorded.",
                differences=differences,
                hints=[
                    "Baseline at the revision it does match: python -m conventions baseline REV",
                    "Or fix the schema first; --force baselines anyway.",
                ],
            )
    context.stamp(script, revision.revision)
    scripts = list(reversed(list(script.iterate_revisions(revision.revision, "base"))))
    done = _vouch(connection, scripts, "database built outside migrations, baselined")
    connection.commit()
    return revision.revision, done
