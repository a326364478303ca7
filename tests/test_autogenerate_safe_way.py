"""Autogenerate writes the safe-way house ops for model changes on an existing table.

NOT NULL → ``op.set_not_null``, a type change → ``op.change_column_type``, a new
unique constraint → ``op.add_unique_constraint``; the downgrade is their reverse;
the revision upgrades, leaves no drift, and downgrades.
"""

from __future__ import annotations

from tests.test_autogenerate import (  # noqa: F401  (fixtures)
    Scratch,
    base,
    scratch,
    ticket_models,
)


def test_model_changes_on_an_existing_table_render_the_house_ops(scratch: Scratch) -> None:  # noqa: F811
    scratch.execute("INSERT INTO tickets (id, kind, score, grade) VALUES (1, 'bug', 3, 'a')")
    source = (
        ticket_models()
        .replace(
            "score: Mapped[int | None] = mapped_column(Integer)",
            "score: Mapped[int] = mapped_column(BigInteger)",
        )
        .replace(
            "grade: Mapped[str | None] = mapped_column(String(1))",
            "grade: Mapped[str | None] = mapped_column(String(5), unique=True)",
        )
    )
    scratch.write_models(source)
    migration = scratch.autogenerate("tighten tickets")
    upgrade = migration.body("upgrade").splitlines()
    assert "op.set_not_null('tickets', 'score')" in upgrade
    assert (
        "op.change_column_type('tickets', 'score', sa.BigInteger(), existing_type=sa.INTEGER())"
        in upgrade
    )
    assert (
        "op.change_column_type('tickets', 'grade', sa.String(length=5), "
        "existing_type=sa.VARCHAR(length=1))" in upgrade
    )
    assert "op.add_unique_constraint(op.f('uq_tickets_grade'), 'tickets', ['grade'])" in upgrade
    assert not any("alter_column" in line or "create_unique" in line for line in upgrade)
    downgrade = migration.body("downgrade").splitlines()
    assert "op.drop_not_null('tickets', 'score')" in downgrade
    assert (
        "op.change_column_type('tickets', 'score', sa.INTEGER(), existing_type=sa.BigInteger())"
        in downgrade
    )
    assert "op.drop_constraint(op.f('uq_tickets_grade'), 'tickets', type_='unique')" in downgrade
    # squawk reads the offline SQL: ALTER … TYPE is what change_column_type does in place
    # (or refuses on a busy table), so its rule stays visible for the reviewer.
    scratch.assert_lint_clean(migration, squawk={"changing-column-type"})
    scratch.ok("alembic", "upgrade", "head")
    scratch.assert_check_clean()
    scratch.ok("alembic", "downgrade", "-1")
    scratch.ok("alembic", "upgrade", "head")
