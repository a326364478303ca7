"""Open connections to PostgreSQL the one way: no pool, named sessions, house errors.

Every engine the package makes comes from :func:`open_engine` and every first
connection from :func:`open_connection`, so all of them agree on three things: no
connection pool (a command holds one or two sessions and must not keep idle ones on a
server that has few to give), an ``application_name`` so ``pg_stat_activity`` (and the
blocker report of a waiting migration) says who a session is, unless the URL names one
itself, and a refused connection explained as a house error (``connection_error``).

Read-only commands (status, inspect) use this too, so it must stay free of anything
that changes the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from conventions.db.diagnose import connection_error, statement_error
from conventions.db.settings import database_url
from conventions.errors import ConventionsError


def open_engine(url: str | URL, *, application: str | None, options: str | None = None) -> Engine:
    """Return an engine without a pool whose sessions are named ``application``.

    ``application=None`` leaves the name to the URL or the driver; ``options`` are
    server settings for every session (libpq's ``options``, e.g. ``-c lock_timeout=…``).
    """
    url = make_url(url) if isinstance(url, str) else url
    connect_args: dict[str, Any] = {}
    if application and "application_name" not in url.query:
        connect_args["application_name"] = application
    if options:
        connect_args["options"] = options
    return create_engine(url, poolclass=NullPool, connect_args=connect_args)


def open_connection(engine: Engine) -> Connection:
    """Connect, or raise the house error that says why the server could not be reached."""
    try:
        return engine.connect()
    except OperationalError as err:
        raise connection_error(err, engine.url) from None


@contextmanager
def connected(url: URL | None = None, *, application: str) -> Iterator[tuple[Engine, Connection]]:
    """Yield (engine, connection) on ``url`` (default: DATABASE_URL / embedded server)."""
    engine = open_engine(url or database_url(), application=application)
    try:
        connection = open_connection(engine)
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
