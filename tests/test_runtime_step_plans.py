"""The decisions before a step or a restore runs, tested offline (no database)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from conventions.errors import ArchiveError
from conventions.runtime.archive_store import Archive, plan_restore
from conventions.runtime.limits import Limits
from conventions.runtime.step_plan import plan_step

PATH = "/p/alembic/versions/20250101-add-badge-ab12.py"
STEP = SimpleNamespace(revision=SimpleNamespace(revision="ab12", path=PATH))


def _checksum(path: str) -> str:
    return f"sha256-of-{path.rsplit('/', 1)[-1]}"


def test_an_upgrade_step_is_recorded_with_its_file_and_checksum() -> None:
    plan = plan_step(STEP, ("ab12", PATH), direction="upgrade", limits=Limits(), checksum=_checksum)
    assert plan.revision == "ab12"
    assert plan.name == "20250101-add-badge-ab12"
    assert plan.file_name == "20250101-add-badge-ab12.py"
    assert plan.checksum == "sha256-of-20250101-add-badge-ab12.py"
    assert not plan.archive_drops


def test_a_downgrade_archives_its_drops_and_vouches_for_no_file() -> None:
    plan = plan_step(
        STEP, ("ab12", PATH), direction="downgrade", limits=Limits(), checksum=_checksum
    )
    assert plan.archive_drops
    assert plan.checksum is None


def test_a_stamp_without_a_file_has_no_checksum() -> None:
    plan = plan_step(STEP, ("base", None), direction="stamp", limits=Limits(), checksum=_checksum)
    assert (plan.revision, plan.file_name, plan.checksum) == ("base", None, None)


@pytest.mark.parametrize(("timeout", "interval"), [(0.3, 0.1), (6.0, 1.0), (0.0, 1.0)])
def test_blockers_are_looked_for_three_times_per_lock_timeout(
    timeout: float, interval: float
) -> None:
    plan = plan_step(
        STEP,
        ("ab12", PATH),
        direction="upgrade",
        limits=Limits(lock_timeout=timeout),
        checksum=_checksum,
    )
    assert plan.watch_interval == pytest.approx(interval)


def _archive(**changes: object) -> Archive:
    fields: dict[str, object] = {
        "name": "offers__badge__c4d8",
        "source_schema": "public",
        "source_table": "offers",
        "source_column": "badge",
        "key_columns": ["id"],
        "revision": "ab12",
        "row_count": 3,
        "archived_at": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        "restored_at": None,
    }
    fields.update(changes)
    return Archive(**fields)  # type: ignore[arg-type]


TYPES = {"id": "integer", "badge": "text"}


def test_a_column_restore_fills_only_untouched_values() -> None:
    plan = plan_restore(_archive(), types=TYPES, archived=[], default="'none'::text")
    assert plan.write == (
        "UPDATE public.offers AS t SET badge = CAST(a.badge AS text)"
        " FROM migration_archive.offers__badge__c4d8 AS a"
        " WHERE t.id = CAST(a.id AS integer) AND t.badge IS DISTINCT FROM CAST(a.badge AS text)"
        " AND COALESCE(t.badge IS NULL OR t.badge = ('none'::text), false)"
    )
    assert plan.count_matched is not None and "JOIN" in plan.count_matched
    assert plan.sequence_columns == ()


def test_a_table_restore_inserts_the_columns_both_sides_have() -> None:
    archive = _archive(source_column=None, name="offers__c4d8")
    plan = plan_restore(
        archive,
        types={"id": "integer", "title": "text", "added": "text"},
        archived=["id", "title", "dropped_since"],
        default=None,
    )
    assert plan.write == (
        "INSERT INTO public.offers (id, title) OVERRIDING SYSTEM VALUE"
        " SELECT CAST(id AS integer), CAST(title AS text)"
        " FROM migration_archive.offers__c4d8 ON CONFLICT DO NOTHING"
    )
    assert plan.count_kept == "SELECT count(*) FROM migration_archive.offers__c4d8"
    assert plan.count_matched is None
    assert plan.sequence_columns == ("id", "title", "added")


def test_identifiers_are_quoted_where_postgresql_needs_it() -> None:
    archive = _archive(source_table="Offers", source_column="order", key_columns=["Id"])
    plan = plan_restore(
        archive, types={"Id": "integer", "order": "text"}, archived=[], default=None
    )
    assert 'UPDATE public."Offers" AS t SET "order" = CAST(a."order" AS text)' in plan.write
    assert 't."Id" = CAST(a."Id" AS integer)' in plan.write


@pytest.mark.parametrize(
    ("archive", "types", "message"),
    [
        (
            _archive(restored_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC)),
            TYPES,
            "offers__badge__c4d8 was already restored at 2025-02-01 00:00:00 UTC; "
            "nothing was done.",
        ),
        (
            _archive(present=False),
            TYPES,
            "Cannot restore offers__badge__c4d8: its table migration_archive.offers__badge__c4d8 "
            "(or its column) is gone.",
        ),
        (
            _archive(),
            {},
            "Cannot restore offers__badge__c4d8: public.offers.badge does not exist in the "
            "database now.",
        ),
        (
            _archive(),
            {"id": "integer"},
            "Cannot restore offers__badge__c4d8: badge does not exist in the database now.",
        ),
        (
            _archive(key_columns=[]),
            TYPES,
            "Cannot restore offers__badge__c4d8 automatically: offers had no primary key to "
            "match rows on.",
        ),
    ],
)
def test_a_restore_that_cannot_work_is_refused_before_any_write(
    archive: Archive, types: dict[str, str], message: str
) -> None:
    with pytest.raises(ArchiveError) as raised:
        plan_restore(archive, types=types, archived=[], default=None)
    assert raised.value.message == message


def test_force_restores_again() -> None:
    archive = _archive(restored_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC))
    assert plan_restore(archive, types=TYPES, archived=[], default=None, force=True).write
