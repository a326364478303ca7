"""Catalog queries the tests assert against (the seed's "verify" SQL, as code)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine


def tables(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).scalars()
        return set(rows)


def columns(engine: Engine, table: str) -> dict[str, tuple[str, bool]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT column_name, data_type, is_nullable = 'YES' FROM information_schema.columns"
                " WHERE table_schema = 'public' AND table_name = :t"
            ),
            {"t": table},
        )
        return {name: (kind, nullable) for name, kind, nullable in rows}


def indexes(engine: Engine, table: str) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = :t"),
            {"t": table},
        ).scalars()
        return set(rows)


def constraints(engine: Engine, table: str) -> dict[str, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE conrelid = to_regclass(:t)"
            ),
            {"t": f"public.{table}"},
        )
        return dict(rows.all())
