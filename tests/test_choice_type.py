"""Choice, the model type: VARCHAR(n) + ck_<table>_<column>, validated in Python first."""

from __future__ import annotations

import enum

import pytest
from sqlalchemy import BigInteger, Column, MetaData, String, Table, insert, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.schema import CreateTable

from app import models
from conventions import Choice
from conventions.choice import constraint_name, default_length
from conventions.errors import ConventionsError, InvalidChoices, ValueNotAllowed
from conventions.naming import NAMING_CONVENTION

TRICKY = ("it's", 'say "hi"', "a,b", "back\\slash", "100%", "ünïcødé ✓", " lead", "trail ", ":x")


class Tier(enum.Enum):
    BRONZE = "bronze"
    GOLD = "gold's"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    status: Mapped[str] = mapped_column(Choice(["open", "closed"]), server_default="open")
    tier: Mapped[Tier | None] = mapped_column(Choice(Tier))
    label: Mapped[str | None] = mapped_column(Choice(TRICKY, length=30))


def ddl(table: Table) -> str:
    return str(CreateTable(table).compile(dialect=postgresql.dialect(paramstyle="named")))


def test_renders_varchar_and_a_check_named_by_the_convention() -> None:
    sql = ddl(Ticket.__table__)
    assert "status VARCHAR(20) DEFAULT 'open' NOT NULL" in sql
    assert "CONSTRAINT ck_tickets_status CHECK (status IN ('open', 'closed'))" in sql
    assert "CONSTRAINT ck_tickets_tier CHECK (tier IN ('bronze', 'gold''s'))" in sql
    assert "ENUM" not in sql.upper() and "CREATE TYPE" not in sql.upper()


def test_values_and_length_are_public() -> None:
    choice = Choice(["a", "bb"], length=7)
    assert choice.values == ("a", "bb") and choice.length == 7
    assert Ticket.__table__.c.tier.type.values == ("bronze", "gold's")
    assert repr(choice) == "Choice(['a', 'bb'], length=7)"


def test_default_length_covers_the_longest_value_with_headroom() -> None:
    assert default_length(["a"]) == 20
    assert default_length(["x" * 21]) == 30
    assert default_length(["x" * 30]) == 30
    assert Choice(["y" * 45]).length == 50


@pytest.mark.parametrize(
    ("values", "kwargs", "message"),
    [
        ([], {}, "No choices given: list at least one value."),
        (["a", "b", "a"], {}, "Duplicate choices: 'a'."),
        (["a", 3], {}, "Choices must be strings; got 3."),
        ("abc", {}, "must be a list of strings, not the single string 'abc'"),
        (
            ["short", "much longer"],
            {"length": 5},
            "longer than the column (VARCHAR(5)): 'much longer'",
        ),
        (["nul\x00"], {}, "cannot contain NUL characters"),
    ],
)
def test_unusable_value_sets_are_refused(values: object, kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidChoices) as err:
        Choice(values, **kwargs)  # type: ignore[arg-type]
    assert message in str(err.value)
    assert isinstance(err.value, ConventionsError) and isinstance(err.value, ValueError)


def test_assignment_outside_the_set_fails_naming_column_and_values() -> None:
    ticket = Ticket(status="open")
    with pytest.raises(ValueNotAllowed) as err:
        ticket.status = "reopened"
    assert str(err.value) == "tickets.status must be one of: 'open', 'closed'; got 'reopened'."
    assert (err.value.column, err.value.value) == ("tickets.status", "reopened")
    assert err.value.allowed == ("open", "closed")
    assert ticket.status == "open"  # the bad value never landed
    with pytest.raises(ValueNotAllowed, match=r"tickets\.status must be one of"):
        Ticket(status="OPEN")  # exact match: case matters
    with pytest.raises(ValueNotAllowed, match=r"tickets\.tier"):
        Ticket(tier="silver")


def test_none_is_left_to_the_database_and_enum_values_become_members() -> None:
    ticket = Ticket(status=None, tier="gold's")
    assert ticket.status is None
    assert ticket.tier is Tier.GOLD
    ticket.tier = Tier.BRONZE
    assert ticket.tier is Tier.BRONZE


def test_round_trip_on_postgresql_stores_enum_values_and_loads_members(engine: Engine) -> None:
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(
            [
                Ticket(id=1, tier=Tier.GOLD),
                *(Ticket(id=10 + i, label=v) for i, v in enumerate(TRICKY)),
            ]
        )
        session.commit()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT tier FROM tickets WHERE id = 1")).scalar() == "gold's"
        labels = conn.execute(text("SELECT label FROM tickets WHERE id >= 10 ORDER BY id"))
        assert tuple(labels.scalars()) == TRICKY
        kinds = conn.execute(text("SELECT count(*) FROM pg_type WHERE typtype = 'e'")).scalar()
        assert kinds == 0  # no native ENUM was created
    with Session(engine) as session:
        loaded = session.get(Ticket, 1)
        assert loaded is not None and loaded.tier is Tier.GOLD and loaded.status == "open"


def test_the_database_enforces_the_set_when_python_is_bypassed(engine: Engine) -> None:
    Base.metadata.create_all(engine)
    for near_miss in ("it''s", "back\\\\slash", "lead", "100"):
        with engine.connect() as conn, pytest.raises(IntegrityError, match="ck_tickets_label"):
            conn.execute(insert(Ticket.__table__).values(id=2, label=near_miss))
    with engine.connect() as conn:
        assert conn.execute(select(Ticket.__table__.c.id)).all() == []


def test_metadata_without_a_convention_still_gets_the_house_name() -> None:
    table = Table("plain", MetaData(), Column("kind", Choice(["x"])))
    assert "CONSTRAINT ck_plain_kind CHECK (kind IN ('x'))" in ddl(table)


def test_long_names_are_shortened_like_sqlalchemy_does() -> None:
    long_table = "t" * 40
    table = Table(
        long_table, MetaData(naming_convention=NAMING_CONVENTION), Column("c" * 30, Choice(["x"]))
    )
    name = constraint_name(long_table, "c" * 30)
    assert len(name) <= 63
    assert f"CONSTRAINT {name} CHECK" in ddl(table)


def test_copied_columns_get_their_own_check() -> None:
    source = Table("a", MetaData(), Column("k", Choice(["x", "y"])), Column("s", String(5)))
    copy = source.to_metadata(MetaData())
    checks = [c for c in copy.constraints if c.__class__.__name__ == "CheckConstraint"]
    assert len(checks) == 1
    assert "CONSTRAINT ck_a_k CHECK (k IN ('x', 'y'))" in ddl(copy)


@pytest.mark.parametrize(
    ("model", "column", "length", "values"),
    [
        (models.NotificationCampaign, "campaign_type", 50, 6),
        (models.NotificationCampaign, "status", 20, 5),
        (models.Offer, "min_loyalty_tier", 20, 4),
        (models.WalletNotification, "delivery_status", 20, 4),
        (models.BusinessSession, "status", 20, 3),
    ],
)
def test_sample_models_use_choice(model: type, column: str, length: int, values: int) -> None:
    col = model.__table__.c[column]
    assert isinstance(col.type, Choice)
    assert (col.type.length, len(col.type.values)) == (length, values)
    names = {c.name for c in model.__table__.constraints}
    assert f"ck_{model.__tablename__}_{column}" in names
