"""Open a connection to the project's database for a command, with house errors.

Read-only commands (status, inspect) use this too, so it must stay free of anything
that changes the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from conventions.db.diagnose import connection_error, statement_error
from conventions.db.settings import database_url
from conventions.errors import ConventionsError


@contextmanager
def connected(url: URL | None = None, *, application: str) -> Iterator[tuple[Engine, Connection]]:
    """Yield (engine, connection) on ``url`` (default: DATABASE_URL / embedded server)."""
    url = url or database_url()
    connect_args = {} if "application_name" in url.query else {"application_name": application}
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        try:
            connection = engine.connect()
        except OperationalError as err:
            raise connection_error(err, engine.url) from None
        try:
            yield engine, connection
        except DBAPIError as err:
            raise _explained(err) from err
        finally:
            connection.close()
    finally:
        engine.dispose()


def _explained(err: DBAPIError) -> ConventionsError:
    explained = statement_error(err)
    if explained is not None:
        return explained
    lines = str(err.orig).strip().splitlines()
    return ConventionsError(
        f"The database refused a query: {lines[0] if lines else type(err.orig).__name__}",
        hints=["For the full traceback: python -m conventions --traceback …"],
    )
