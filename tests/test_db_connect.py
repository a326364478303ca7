"""The one connection opener: named sessions, no pool, house errors on a refused login."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from conventions.db.connect import open_connection, open_engine
from conventions.errors import CannotConnect


def _application_name(url: URL, application: str | None) -> str:
    engine = open_engine(url, application=application)
    try:
        with open_connection(engine) as connection:
            return str(connection.execute(text("SHOW application_name")).scalar())
    finally:
        engine.dispose()


def test_sessions_are_named_for_pg_stat_activity(fresh_db: URL) -> None:
    assert _application_name(fresh_db, "conventions upgrade (pid 1)") == (
        "conventions upgrade (pid 1)"
    )


def test_a_name_in_the_url_wins(fresh_db: URL) -> None:
    named = fresh_db.update_query_dict({"application_name": "billing-migrations"})
    assert _application_name(named, "conventions upgrade (pid 1)") == "billing-migrations"


def test_server_options_apply_to_every_session(fresh_db: URL) -> None:
    engine = open_engine(fresh_db, application=None, options="-c lock_timeout=1234ms")
    try:
        assert isinstance(engine.pool, NullPool)
        with open_connection(engine) as connection:
            assert connection.execute(text("SHOW lock_timeout")).scalar() == "1234ms"
    finally:
        engine.dispose()


def test_a_refused_login_is_a_house_error(fresh_db: URL) -> None:
    engine = open_engine(fresh_db.set(database="no_such_database_here"), application="t")
    try:
        with pytest.raises(CannotConnect) as raised:
            open_connection(engine)
    finally:
        engine.dispose()
    assert "no_such_database_here" in str(raised.value)
