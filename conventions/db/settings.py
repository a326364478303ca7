"""Where the database is: the one place every command resolves it.

Order: ``DATABASE_URL`` in the environment, then in ``.env`` at the project root,
then the embedded server under ``.pgdata/`` (started on demand). ``make``,
``alembic`` run by hand and the tests all come through here, so they always agree.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from conventions.db.redact import mask_url, remember
from conventions.db.url_source import given_url
from conventions.errors import DatabaseUrlError

# A project's own URL may name another PostgreSQL driver (psycopg 3, asyncpg, pg8000):
# the same server; the house runtime always talks to it through psycopg2.
_DRIVERS = {
    "postgresql",
    "postgres",
    "postgresql+psycopg2",
    "postgresql+psycopg",
    "postgresql+psycopg2cffi",
    "postgresql+asyncpg",
    "postgresql+pg8000",
}


def project_root(start: Path | None = None) -> Path:
    """Return the nearest directory at or above ``start`` with alembic.ini or [tool.alembic].

    ``CONVENTIONS_ROOT`` wins, so a test can point the tools at a scratch project.
    """
    from conventions.project.layout import has_alembic_config

    explicit = os.environ.get("CONVENTIONS_ROOT")
    if explicit:
        return Path(explicit).resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if has_alembic_config(candidate):
            return candidate
    return here


def configured_url(root: Path | None = None) -> str | None:
    """Return DATABASE_URL from the environment or .env, or None for the embedded server.

    A value that was given but is empty or unreadable is an error, never "not set"
    (``conventions.db.url_source``).
    """
    given = given_url(root or project_root())
    return given.value if given is not None else None


def _host_part(raw: str) -> str:
    """Return ``host[:port]`` of ``raw``: after the last '@', before the path or query."""
    rest = raw.split("://", 1)[-1].rsplit("@", 1)[-1]
    return re.split(r"[/?]", rest, maxsplit=1)[0]


def parse_url(raw: str) -> URL:
    """Validate a PostgreSQL URL and pin the psycopg2 driver; say exactly what is wrong."""
    remember(raw)
    # The parser splits userinfo at the first '@' and the path at the first '/', so an
    # unescaped '@' anywhere after another one connects to the wrong host.
    if raw.split("://", 1)[-1].count("@") > 1:
        raise DatabaseUrlError(
            f"DATABASE_URL {mask(raw)!r} has more than one '@' before the host.",
            hints=["A password containing '@' must escape it as %40 (and ':' as %3A)."],
        )
    host = _host_part(raw)
    if host.startswith("[") and "]" not in host:
        raise DatabaseUrlError(
            f"DATABASE_URL {mask(raw)!r} opens an IPv6 address with '[' but never closes it.",
            hints=["Write an IPv6 host in brackets, port after them: postgresql://u@[::1]:5432/db"],
        )
    try:
        url = make_url(raw)
    except ValueError as err:
        if "int()" not in str(err):
            raise _malformed(raw, err) from None
        raise DatabaseUrlError(
            f"DATABASE_URL {mask(raw)!r} has a port that is not a number.",
            hints=["Write the port as digits, e.g. localhost:5432"],
        ) from None
    except ArgumentError as err:
        raise _malformed(raw, err) from None
    if url.drivername not in _DRIVERS:
        raise DatabaseUrlError(
            f"DATABASE_URL uses the scheme {url.drivername!r}; only PostgreSQL is supported.",
            hints=["Use a URL starting with postgresql:// (SQLite is not a stand-in here)."],
        )
    if not url.database:
        raise DatabaseUrlError(
            f"DATABASE_URL {mask(raw)!r} names no database.",
            hints=["Add the database name after the last slash: postgresql://…/app_dev"],
        )
    return url.set(drivername="postgresql+psycopg2")


def _malformed(raw: str, err: Exception) -> DatabaseUrlError:
    return DatabaseUrlError(
        f"DATABASE_URL is malformed: {mask(raw)!r} is not a URL ({err}).",
        hints=[
            "Expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE",
            "Check .env (or the environment) and quote special characters in the "
            "password with %XX escapes.",
        ],
    )


def mask(raw: str | URL) -> str:
    """Return the URL with its passwords replaced, even when the URL does not parse."""
    return mask_url(raw)


def database_url(root: Path | None = None) -> URL:
    """Return the URL every command should use, starting the embedded server if needed."""
    root = root or project_root()
    given = given_url(root)
    if given is not None:
        try:
            return parse_url(given.value)
        except DatabaseUrlError as err:
            hints = [*err.hints, f"It came from {given.origin}."]
            raise DatabaseUrlError(err.message, hints=hints) from None
    from conventions.db import embedded

    return embedded.ensure_running(root / ".pgdata")


def project_url(
    root: Path | None = None,
    *,
    handed: str | URL | None = None,
    config_url: str | None = None,
) -> URL:
    """Return the URL env.py migrates with: the project's own when DATABASE_URL is unset.

    Order: ``DATABASE_URL`` (environment, ``.env``), then the URL the project's env.py
    hands to ``run(..., url=...)`` (its app config), then ``sqlalchemy.url`` (alembic.ini,
    or set by a Flask-Migrate env.py), then the embedded server. A URL that is not
    PostgreSQL's is returned as it is (SQLite dev databases run plain Alembic).
    """
    root = root or project_root()
    given = given_url(root)
    raw: str | URL | None = given.value if given is not None else (handed or config_url)
    if raw is None:
        return database_url(root)
    if isinstance(raw, URL):
        raw = raw.render_as_string(hide_password=False)
    try:
        scheme = raw.split(":", 1)[0].split("+", 1)[0]
        if scheme and scheme not in {"postgresql", "postgres"} and "://" in raw:
            # other databases keep their driver; PostgreSQL URLs are pinned to psycopg2 below
            return _other_database(raw)
        return parse_url(raw)
    except DatabaseUrlError as err:
        if given is None:
            raise
        raise DatabaseUrlError(
            err.message, hints=[*err.hints, f"It came from {given.origin}."]
        ) from None


def _other_database(raw: str) -> URL:
    """A URL for another database (SQLite in development): usable if its driver loads."""
    try:
        url = make_url(raw)
        url.get_dialect().import_dbapi()
    except (ValueError, ArgumentError) as err:
        raise _malformed(raw, err) from None
    except (ImportError, NoSuchModuleError) as err:
        raise DatabaseUrlError(
            f"DATABASE_URL uses the scheme {raw.split(':', 1)[0]!r}, whose driver is not "
            f"installed ({err}).",
            hints=[
                "Use a URL starting with postgresql:// for the house runtime; other "
                "databases run plain Alembic and need their own driver installed.",
            ],
        ) from None
    return url
