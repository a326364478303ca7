"""The choice comparators in process: every form a CHECK takes in the catalog, every
kind of difference, and what ``make status`` says about it.

Tier 2 (a real, fresh PostgreSQL per test): tables are made by hand-written SQL the
way migrations of any age left them, the models are built in the test, and the
result of Alembic's ``produce_migrations`` (what ``alembic revision`` writes) and
``compare_metadata`` (what ``alembic check`` and ``make status`` read) is asserted.
Tier 1 (no database): rendering, the Enum guard and the import hook.
"""

from __future__ import annotations

import enum
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata, produce_migrations, render_python_code
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from sqlalchemy import ARRAY, Column, Integer, MetaData, String, Table, Text
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

import conventions  # noqa: F401  (registers the comparators)
from conventions.autogen.imports import drop_unused_template_imports
from conventions.autogen.rewrite import is_enum, refuse_enums
from conventions.choice import Choice
from conventions.errors import EnumNotAllowed, InvalidChoices
from conventions.naming import NAMING_CONVENTION
from conventions.operations.choice import describe
from conventions.reports import drift


def metadata(*columns: Column[Any], name: str = "t") -> MetaData:
    md = MetaData(naming_convention=NAMING_CONVENTION)
    Table(name, md, Column("id", Integer, primary_key=True), *columns)
    return md


def make(engine: Engine, sql: str) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql(sql.replace("%", "%%"))


def diffs(engine: Engine, md: MetaData) -> list[Any]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, md)


def rendered(engine: Engine, md: MetaData) -> tuple[str, str]:
    """(upgrade, downgrade) as autogenerate writes them, one op per line."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "target_metadata": md}
        )
        script = produce_migrations(context, md)

    def body(container: ops.OpContainer) -> str:
        text = render_python_code(container)
        lines = [line.strip() for line in text.splitlines()]
        return "\n".join(line for line in lines if line and not line.startswith("#"))

    return body(script.upgrade_ops), body(script.downgrade_ops)


# --- the live definition, in every form PostgreSQL prints it ---------------------------


@pytest.mark.parametrize(
    ("ddl", "values"),
    [
        ("kind varchar(20) CONSTRAINT ck_t_kind CHECK (kind IN ('b', 'a'))", ["a", "b"]),
        (
            "kind varchar(20) CONSTRAINT ck_t_kind CHECK (kind = ANY (ARRAY['a'::text, 'b']))",
            ["b", "a"],
        ),
        ("kind varchar(20) CONSTRAINT ck_t_kind CHECK (kind = 'a')", ["a"]),
        (
            "kind varchar(20) CONSTRAINT ck_t_kind CHECK (kind = 'a' OR kind = 'b')",
            ["a", "b"],
        ),
        (
            "kind varchar(20) CONSTRAINT ck_t_kind"
            " CHECK (kind IN ('it''s', E'back\\\\slash', '\"q\"', 'a, b', '50%', 'ü ✓', ' x '))",
            ["it's", "back\\slash", '"q"', "a, b", "50%", "ü ✓", " x "],
        ),
    ],
    ids=["in-list", "any-array", "one-value", "or-chain", "quotes-escapes-unicode"],
)
def test_equal_sets_in_any_catalog_form_are_no_change(
    engine: Engine, ddl: str, values: list[str]
) -> None:
    make(engine, f"CREATE TABLE t (id int PRIMARY KEY, {ddl})")
    assert diffs(engine, metadata(Column("kind", Choice(values, length=20)))) == []


def test_quoted_column_name_is_compared(engine: Engine) -> None:
    make(
        engine,
        'CREATE TABLE t (id int PRIMARY KEY, "Kind" varchar(20)'
        " CONSTRAINT \"ck_t_Kind\" CHECK (\"Kind\" IN ('a', 'b')))",
    )
    assert diffs(engine, metadata(Column("Kind", Choice(["a", "b"])))) == []
    changed = diffs(engine, metadata(Column("Kind", Choice(["a", "c"]))))
    assert changed == [[("modify_choices", None, "t", "Kind", {}, ("a", "b"), ("a", "c"))]]


def test_changed_set_is_one_alter_choices_and_status_names_the_values(engine: Engine) -> None:
    make(
        engine,
        "CREATE TABLE t (id int PRIMARY KEY,"
        " kind varchar(20) CONSTRAINT ck_t_kind CHECK (kind IN ('a', 'b')))",
    )
    md = metadata(Column("kind", Choice(["b", "c"])))
    upgrade, downgrade = rendered(engine, md)
    assert upgrade == "op.alter_choices('t', 'kind', ['b', 'c'], existing_values=['a', 'b'])"
    assert downgrade == "op.alter_choices('t', 'kind', ['a', 'b'], existing_values=['b', 'c'])"
    with engine.connect() as conn:
        (found,) = drift.differences(conn, md)  # what `make status` lists under Drift
    assert "t.kind" in found and "'c'" in found


def test_narrower_length_renders_alter_choices_with_length(engine: Engine) -> None:
    make(
        engine,
        "CREATE TABLE t (id int PRIMARY KEY,"
        " kind varchar(30) CONSTRAINT ck_t_kind CHECK (kind IN ('a', 'b')))",
    )
    md = metadata(Column("kind", Choice(["a", "b"], length=10)))
    assert diffs(engine, md) == [[("modify_length", None, "t", "kind", {}, 30, 10)]]
    upgrade, downgrade = rendered(engine, md)
    assert upgrade == (
        "op.alter_choices('t', 'kind', ['a', 'b'], length=10, existing_values=['a', 'b'],"
        " existing_length=30)"
    )
    assert downgrade == (
        "op.alter_choices('t', 'kind', ['a', 'b'], length=30, existing_values=['a', 'b'],"
        " existing_length=10)"
    )


# --- a column becoming, or ceasing to be, a choice column --------------------------------


def test_varchar_without_check_gains_one(engine: Engine) -> None:
    make(engine, "CREATE TABLE t (id int PRIMARY KEY, kind varchar(20))")
    md = metadata(Column("kind", Choice(["a", "b"])))
    assert diffs(engine, md) == [("modify_choices", None, "t", "kind", {}, None, ("a", "b"))]
    upgrade, downgrade = rendered(engine, md)
    assert upgrade == "op.alter_choices('t', 'kind', ['a', 'b'])"
    assert downgrade == "op.drop_constraint(op.f('ck_t_kind'), 't', type_='check')"


def test_text_column_becomes_varchar_then_gains_its_check(engine: Engine) -> None:
    make(engine, "CREATE TABLE t (id int PRIMARY KEY, kind text)")
    upgrade, downgrade = rendered(engine, metadata(Column("kind", Choice(["a", "b"]))))
    assert upgrade.splitlines()[0] == "op.alter_column('t', 'kind',"
    assert "type_=sa.String(length=20)," in upgrade
    assert upgrade.splitlines()[-1] == "op.alter_choices('t', 'kind', ['a', 'b'])"
    assert downgrade.splitlines()[0] == "op.drop_constraint(op.f('ck_t_kind'), 't', type_='check')"
    assert "type_=sa.TEXT()," in downgrade
    assert "Choice" not in upgrade + downgrade


def test_check_of_the_house_name_that_is_not_a_value_set_is_swapped_and_restored(
    engine: Engine,
) -> None:
    make(
        engine,
        "CREATE TABLE t (id int PRIMARY KEY,"
        " kind varchar(20) CONSTRAINT ck_t_kind CHECK (char_length(kind) > 0))",
    )
    upgrade, downgrade = rendered(engine, metadata(Column("kind", Choice(["a", "b"]))))
    assert upgrade == "op.alter_choices('t', 'kind', ['a', 'b'])"
    assert downgrade.splitlines() == [
        "op.drop_constraint(op.f('ck_t_kind'), 't', type_='check')",
        "op.add_check_constraint(op.f('ck_t_kind'), 't', '(char_length((kind)::text) > 0)')",
    ]


def test_choice_turned_back_into_a_plain_string_drops_its_check(engine: Engine) -> None:
    make(
        engine,
        "CREATE TABLE t (id int PRIMARY KEY,"
        " kind varchar(20) CONSTRAINT ck_t_kind CHECK (kind IN ('a', 'b')))",
    )
    upgrade, downgrade = rendered(engine, metadata(Column("kind", String(20))))
    assert upgrade == "op.drop_constraint(op.f('ck_t_kind'), 't', type_='check')"
    assert downgrade == "op.alter_choices('t', 'kind', ['a', 'b'])"


def test_hand_written_checks_are_left_alone(engine: Engine) -> None:
    """Alembic does not compare CHECKs; neither do we, unless one is a Choice's."""
    make(
        engine,
        "CREATE TABLE t (id int PRIMARY KEY, score int CONSTRAINT positive CHECK (score > 0),"
        " grade varchar(1) CONSTRAINT ck_t_grade CHECK (grade IN ('a', 'b')))",
    )
    from sqlalchemy import CheckConstraint

    md = metadata(
        Column("score", Integer),
        Column("grade", String(1)),
        CheckConstraint("grade IN ('a', 'b', 'c')", name="grade"),
    )
    assert diffs(engine, md) == []


def test_dropped_table_is_recreated_on_downgrade_with_a_python_check(engine: Engine) -> None:
    make(
        engine,
        "CREATE TABLE old (id int PRIMARY KEY,"
        " st varchar(20) CONSTRAINT ck_old_st CHECK (st IN ('a :b', '50%', 'it''s')))",
    )
    upgrade, downgrade = rendered(engine, MetaData(naming_convention=NAMING_CONVENTION))
    assert upgrade == "op.drop_table('old')"
    assert (
        "sa.CheckConstraint(sa.column('st').in_(['a :b', '50%', \"it's\"]),"
        " name=op.f('ck_old_st'))," in downgrade
    )


def test_dropped_column_with_a_default_it_cannot_recreate_stays_alembics(engine: Engine) -> None:
    make(
        engine,
        "CREATE TABLE t (id int PRIMARY KEY, kind varchar(20) DEFAULT upper('a')"
        " CONSTRAINT ck_t_kind CHECK (kind IN ('a', 'A')))",
    )
    upgrade, downgrade = rendered(engine, metadata())
    assert upgrade == "op.drop_column('t', 'kind')"
    assert downgrade.startswith("op.add_column('t', sa.Column('kind', sa.VARCHAR(length=20)")


# --- tier 1: rendering, the Enum guard, the import hook ---------------------------------


class Mood(enum.Enum):
    HAPPY = "happy"


class Wrapped(TypeDecorator[Any]):
    impl = SAEnum("a", name="wrapped")
    cache_ok = True


@pytest.mark.parametrize(
    "type_",
    [
        SAEnum("a", "b", name="x"),
        SAEnum(Mood, native_enum=False),
        postgresql.ENUM("a", name="y"),
        Wrapped(),
        ARRAY(postgresql.ENUM("a", name="z")),
        String().with_variant(SAEnum("a", name="v"), "postgresql"),
    ],
    ids=["sa.Enum", "non-native", "postgresql.ENUM", "decorator", "array", "variant"],
)
def test_every_enum_spelling_is_refused(type_: Any) -> None:
    assert is_enum(type_)
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("mood", type_))
    script = ops.MigrationScript(
        "abc",
        ops.UpgradeOps([ops.CreateTableOp.from_table(table)]),
        ops.DowngradeOps([ops.DropTableOp.from_table(table)]),
    )
    with pytest.raises(EnumNotAllowed) as refused:
        refuse_enums(None, None, [script])
    assert refused.value.columns == ("t.mood",)
    assert "conventions.Choice" in str(refused.value)


def test_choice_and_plain_types_are_not_enums() -> None:
    assert not is_enum(Choice(["a"]))
    assert not is_enum(Text())
    assert not is_enum(None)


TEMPLATE = '''"""m"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import conventions  # noqa: F401

revision: str = "x"


def upgrade() -> None:
    {body}


def downgrade() -> None:
    pass
'''


def test_import_hook_drops_only_unused_template_imports_of_autogenerated_files() -> None:
    marker = "# ### commands auto generated by Alembic - please adjust! ###\n    "
    empty = TEMPLATE.format(body=marker + "pass")
    cleaned = drop_unused_template_imports(empty)
    assert "import sqlalchemy as sa" not in cleaned and "from alembic import op" not in cleaned
    assert "from collections.abc import Sequence\n\nimport conventions" in cleaned
    assert "\n\n\ndef upgrade" in cleaned  # two blank lines between defs are kept

    uses_op = TEMPLATE.format(body=marker + "op.alter_choices('t', 'c', ['a'])")
    assert drop_unused_template_imports(uses_op) == uses_op.replace("import sqlalchemy as sa\n", "")
    hand_written = TEMPLATE.format(body="pass")
    assert drop_unused_template_imports(hand_written) == hand_written


def test_describe_says_what_the_models_add_and_remove() -> None:
    assert describe(("modify_length", None, "t", "c", {}, 20, 40)) == (
        "column t.c: VARCHAR(20) in the database, 40 in the models"
    )
    assert describe(("modify_choices", None, "t", "c", {}, None, ("a",))) == (
        "column t.c: its choice CHECK is missing in the database"
    )
    assert describe(("add_column", None, "t", None)) is None


def test_new_choice_column_default_given_as_sql_text_is_read_as_its_value(engine: Engine) -> None:
    from sqlalchemy import func, text

    make(engine, "CREATE TABLE t (id int PRIMARY KEY)")
    column = Column("kind", Choice(["a", "b"]), server_default=text("'b'"), nullable=False)
    upgrade, downgrade = rendered(engine, metadata(column))
    assert upgrade == (
        "op.add_choice_column('t', 'kind', ['a', 'b'], length=20, nullable=False,"
        " server_default='b')"
    )
    assert downgrade == "op.drop_choice_column('t', 'kind')"

    computed = Column("kind", Choice(["a", "b"]), server_default=func.lower("A"))
    with pytest.raises(InvalidChoices, match=r"server_default of t\.kind must be one of its"):
        rendered(engine, metadata(computed))
