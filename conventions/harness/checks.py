"""The promises every revision must keep, each checked on a database of its own.

Each check takes the connection of a database sitting just before ``revision``
and raises a :mod:`~conventions.harness.failures` error naming the revision and
the objects involved. The checks share nothing, so one broken promise never hides
another.

Where pytest-alembic already has the community's standard test (single head,
models match the DDL), the check runs that test and only adds what it lacks: the
house error, the revision's name and the fix.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.engine import Connection

from conventions.errors import MultipleHeads
from conventions.harness.declarations import exempt
from conventions.harness.failures import (
    DataNotPreserved,
    ModelsDiffer,
    NativeEnumFound,
    SchemaNotRestored,
    UpgradeNotIdempotent,
    UpgradeNotRepeatable,
)
from conventions.harness.project import Project
from conventions.harness.rows import RowChanges, TableRows, compare_rows, read_rows
from conventions.harness.snapshot import IGNORED, Snapshot, diff, take_snapshot
from conventions.harness.steps import downgrade_one, rewind_one, upgrade_one


def _snapshot(connection: Connection, ignore: tuple[str, ...]) -> Snapshot:
    snapshot = take_snapshot(connection, ignore=ignore)
    connection.rollback()
    return snapshot


def check_no_native_enum(
    label: str,
    after: Mapping[str, str],
    *,
    before: Mapping[str, str] | None = None,
    legacy: Callable[[str], bool] = lambda _name: False,
) -> None:
    """No native ENUM type is created or changed by the revision, unless it is legacy.

    ``after``/``before`` are the types at the revision and just below it; a type the
    revision neither creates nor alters was already judged at the revision that did,
    so a legacy type is reported once, where it appears, and never again.
    """
    below = before or {}
    offending = {
        name: labels
        for name, labels in after.items()
        if below.get(name) != labels and not legacy(name)
    }
    if offending:
        raise NativeEnumFound(label, offending)


def check_round_trip(
    project: Project, connection: Connection, revision: str, *, ignore: tuple[str, ...] = IGNORED
) -> None:
    """Upgrade, downgrade, upgrade: the downgrade restores the schema exactly."""
    label = project.label(revision)
    before = _snapshot(connection, ignore)
    upgrade_one(project, connection, revision)
    upgraded = _snapshot(connection, ignore)
    downgrade_one(project, connection, revision)
    differences = diff(before, _snapshot(connection, ignore))
    if differences:
        raise SchemaNotRestored(label, differences)
    upgrade_one(project, connection, revision)
    differences = diff(upgraded, _snapshot(connection, ignore))
    if differences:
        raise UpgradeNotRepeatable(label, differences)


def check_idempotent(
    project: Project, connection: Connection, revision: str, *, ignore: tuple[str, ...] = IGNORED
) -> None:
    """Run the upgrade, then run it again on top of itself: it converges, changing nothing."""
    label = project.label(revision)
    upgrade_one(project, connection, revision)
    first = _snapshot(connection, ignore)
    rewind_one(project, connection, revision)
    try:
        upgrade_one(project, connection, revision)
    except Exception as err:
        raise UpgradeNotIdempotent(label, error=err) from err
    differences = diff(first, _snapshot(connection, ignore))
    if differences:
        raise UpgradeNotIdempotent(label, differences=differences)


def check_data_survives(
    project: Project,
    connection: Connection,
    revision: str,
    *,
    ignore: tuple[str, ...] = IGNORED,
    declared: Mapping[str, object] | None = None,
) -> None:
    """Rows present before the revision survive upgrade → downgrade → upgrade.

    Exempt is only what the revision drops: a table or column its upgrade removes,
    and the columns and tables its upgrade adds (the downgrade removes those; the
    runtime's archive rule is what keeps their data), plus what the revision
    ``declared`` it changes (``{"public.t": ("col",) | "rows"}``, see
    :mod:`conventions.harness.declarations`).
    """
    declared = declared or {}
    label = project.label(revision)
    initial = _rows(connection, ignore)
    upgrade_one(project, connection, revision)
    upgraded = _rows(connection, ignore)
    downgrade_one(project, connection, revision)
    downgraded = _rows(connection, ignore)
    upgrade_one(project, connection, revision)
    again = _rows(connection, ignore)
    problems: list[tuple[str, RowChanges]] = []
    for table, rows in initial.items():
        whole, columns = exempt(declared, table)
        if table not in upgraded or whole:
            continue  # the upgrade drops this table, or says it changes its rows
        kept = [c for c in rows.columns if c in upgraded[table].columns and c not in columns]
        identity = list(rows.key) if rows.key and set(rows.key) <= set(kept) else kept
        stages = [
            ("upgrade", compare_rows(table, rows, upgraded[table], identity, count_added=False)),
        ]
        if table in downgraded:
            stages.append(("downgrade", compare_rows(table, rows, downgraded[table], kept)))
        else:
            stages.append(("downgrade", RowChanges(table, len(rows.rows), lost=["(table)"])))
        if table in again:
            # Rows of the first reading, in the upgraded reading's terms (the upgrade may
            # have given the table a primary key it lacked: then every upgraded row counts).
            same_key = rows.key == upgraded[table].key
            survivors = rows.keyed(kept).keys() if same_key else None
            stages.append(
                (
                    "upgrade after downgrade",
                    compare_rows(
                        table,
                        upgraded[table],
                        again[table],
                        kept,
                        only_keys=survivors,
                        count_added=False,
                    ),
                )
            )
        problems.extend((stage, changes) for stage, changes in stages if changes)
    if problems:
        raise DataNotPreserved(label, problems)


def _rows(connection: Connection, ignore: tuple[str, ...]) -> dict[str, TableRows]:
    rows = read_rows(connection, ignore=ignore)
    connection.rollback()
    return rows


def check_single_head(alembic_runner: Any) -> None:
    """pytest-alembic's single-head test, with the house error that says how to merge."""
    from pytest_alembic.plugin.error import AlembicTestFailure
    from pytest_alembic.tests import test_single_head_revision

    try:
        test_single_head_revision(alembic_runner)
    except AlembicTestFailure as failure:
        raise MultipleHeads(alembic_runner.heads) from failure


def check_models_match(alembic_runner: Any, project: Project) -> None:
    """pytest-alembic's models-match-DDL test, naming the head it ran at.

    It autogenerates through the project's env.py, so the comparison is Alembic's own
    with every comparator registered through ``comparators.dispatch_for`` (the house
    choice-value comparison among them) and the env's compare options.
    """
    from pytest_alembic.plugin.error import AlembicTestFailure
    from pytest_alembic.tests import test_model_definitions_match_ddl

    try:
        test_model_definitions_match_ddl(alembic_runner)
    except AlembicTestFailure as failure:
        heads = ", ".join(project.label(head) for head in project.heads())
        raise ModelsDiffer(heads, str(failure)) from failure
