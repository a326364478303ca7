"""What a revision says about itself: one-way, or meant to change data.

Two facts the harness cannot infer and must not guess. A one-way revision (a
known bug, such as a downgrade that drops an index ``CONCURRENTLY`` inside a
transaction) is listed in configuration with its reason and reported as an
expected failure, so the rest of the history stays checked and the debt stays
visible. A data migration declares what it changes, in the revision file::

    harness_data_changes = {"services": ["status"], "tags": "rows"}

(or in ``[tool.conventions.harness.data_changes]``), and ``round_trip_keeps_data``
checks every other table and column. Entries are keyed by revision id or by file
stem; an entry naming no revision is an error, so a stale list cannot hide.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from conventions.harness.project import Project
from conventions.harness.settings import (
    ALL_ROWS,
    HarnessConfigError,
    HarnessSettings,
    parse_data_change,
)

#: the module-level attribute a revision file sets to declare its data change
ATTRIBUTE = "harness_data_changes"


def _entry(mapping: dict | object, project: Project, revision: str) -> object | None:
    assert isinstance(mapping, dict)
    stem = Path(project.revision(revision).path).stem
    return mapping.get(revision, mapping.get(stem))


def one_way_reason(settings: HarnessSettings, project: Project, revision: str) -> str | None:
    """Return why ``revision`` is allowed to be one-way, or None."""
    found = _entry(dict(settings.one_way), project, revision)
    return str(found) if found is not None else None


def legacy_reason(settings: HarnessSettings, project: Project, revision: str) -> str | None:
    """Return why ``revision`` is legacy (at or before ``legacy_until``), or None.

    A legacy revision was written, and applied, before the project took up the
    conventions: its file cannot be edited any more, so what only the conventions
    ask of it (idempotent upgrades, no native ENUM) is reported, not failed.
    """
    if settings.legacy_until is None:
        return None
    order = [script.revision for script in project.revisions()]
    until = _resolve(project, settings.legacy_until)
    if until is None or order.index(revision) > order.index(until):
        return None
    return (
        f"legacy revision (legacy_until = {settings.legacy_until}): written before the conventions"
    )


def _resolve(project: Project, name: str) -> str | None:
    for script in project.revisions():
        if name in (script.revision, Path(script.path).stem):
            return script.revision
    return None


def data_change(settings: HarnessSettings, project: Project, revision: str) -> dict[str, object]:
    """Return the declared change, tables qualified: ``{"public.t": ("col",) | "rows"}``."""
    declared: dict[str, object] = {}
    module = project.revision(revision).module
    in_file = getattr(module, ATTRIBUTE, None)
    if in_file is not None:
        declared.update(
            parse_data_change(
                in_file,
                f"{ATTRIBUTE} in {Path(project.revision(revision).path).name}",
                example=f'{ATTRIBUTE} = {{"services": ["status"], "tags": "{ALL_ROWS}"}}',
            )
        )
    configured = _entry(dict(settings.data_changes), project, revision)
    if configured is not None:
        assert isinstance(configured, dict)
        declared.update(configured)
    return {(t if "." in t else f"public.{t}"): what for t, what in declared.items()}


def check_entries(settings: HarnessSettings, project: Project) -> None:
    """Fail on one_way / data_changes entries that name no revision of the project."""
    known = set()
    for script in project.revisions():
        known.update({script.revision, Path(script.path).stem})
    for section, entries in (
        ("one_way", settings.one_way),
        ("data_changes", settings.data_changes),
    ):
        stale = sorted(set(entries) - known)
        if stale:
            raise HarnessConfigError(
                f"{section}.{stale[0]}",
                f"names no revision of the project ({len(stale)} such: {', '.join(stale)})",
                example="a revision id (3f2a1b9c0d4e) or a file stem (20250131-add-tiers)",
            )


def exempt(change: Mapping[str, object], table: str) -> tuple[bool, tuple[str, ...]]:
    """Return (whole table exempt, columns exempt) for ``table`` under ``change``."""
    what = change.get(table)
    if what is None:
        return False, ()
    if what == ALL_ROWS:
        return True, ()
    assert isinstance(what, tuple)
    return False, what
