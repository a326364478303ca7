"""Turn raw driver errors into house errors that say what to do.

The seed's troubleshooting list (column exists, relation missing, constraint
violation, cannot connect, permission denied) is answered here, once, by
SQLSTATE rather than by message text wherever PostgreSQL gives one.
"""

from __future__ import annotations

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from conventions.db.settings import mask
from conventions.errors import (
    CannotConnect,
    ConstraintViolation,
    ConventionsError,
    DatabaseReadOnly,
    PermissionDenied,
    RelationMissing,
)

_CONNECT_HINTS = (
    "Check DATABASE_URL in .env (or the environment); unset it to use the embedded server.",
    "Is the server running? `pg_isready -h HOST -p PORT`",
    "Does the database exist? `psql -l` on that server",
)


def _pg(err: BaseException) -> tuple[str | None, str, dict[str, str | None]]:
    orig = err.orig if isinstance(err, DBAPIError) else err
    code = getattr(orig, "pgcode", None)
    diag = getattr(orig, "diag", None)
    # message_primary is the message without pgerror's "ERROR:  " prefix and context.
    primary = getattr(diag, "message_primary", None)
    text = (primary or getattr(orig, "pgerror", None) or str(orig)).strip()
    fields = {
        "table": getattr(diag, "table_name", None),
        "column": getattr(diag, "column_name", None),
        "constraint": getattr(diag, "constraint_name", None),
    }
    return code, text.splitlines()[0] if text else "", fields


def connection_error(err: BaseException, url: URL) -> CannotConnect:
    """Explain an error raised while opening a connection, password masked."""
    code, text, _ = _pg(err)
    shown = mask(url)
    lowered = text.lower()
    if "password authentication failed" in lowered or code == "28P01":
        reason, what = "auth", f"PostgreSQL refused the login for {shown}: wrong user or password."
    elif ("does not exist" in lowered and "database" in lowered) or code == "3D000":
        reason = "database"
        what = f"The database {url.database!r} does not exist on the server at {shown}."
    elif "role" in lowered and "does not exist" in lowered:
        reason, what = "auth", f"The user {url.username!r} does not exist on the server at {shown}."
    elif "could not translate host name" in lowered:
        reason, what = "host", f"Cannot resolve the host {url.host!r} in {shown}."
    else:
        reason, what = "unreachable", f"Cannot connect to the database at {shown}: {text}"
    hints = list(_CONNECT_HINTS)
    if reason == "database":
        hints.insert(0, f"Create it: createdb {url.database}  (or CREATE DATABASE {url.database})")
    return CannotConnect(what, url=shown, reason=reason, hints=hints)


def statement_error(err: BaseException) -> ConventionsError | None:
    """Explain a failed statement by SQLSTATE, or return None if we have nothing better."""
    code, text, fields = _pg(err)
    if code is None:
        return None
    table = fields["table"] or _quoted(text) or "?"
    if code == "25006":  # read_only_sql_transaction: a standby or a read-only default
        reason = "standby" if "recovery" in text.lower() else "read-only"
        return DatabaseReadOnly(database=None, reason=reason)
    if code == "42P01":
        return RelationMissing(
            f"Relation does not exist: {text}",
            table=table,
            hints=[
                "Run earlier migrations first (alembic upgrade head, or python -m conventions "
                "migrate) — is one missing from the chain?",
                "Check the table name's spelling; quoted names are case-sensitive.",
                "Was the table renamed by a previous migration?",
            ],
        )
    if code == "42501":
        return PermissionDenied(
            f"Permission denied: {text}",
            hints=[
                "Grant the privilege to the migration user, e.g. "
                "GRANT ALL ON SCHEMA public TO <user>; or ALTER TABLE … OWNER TO <user>;",
                "Altering a table requires being its owner.",
            ],
        )
    if code.startswith("23"):
        return ConstraintViolation(
            f"Constraint violation: {text}",
            table=table,
            column=fields["column"],
            hints=[
                "Fix the existing rows first with a data migration,",
                "or make the constraint nullable / add a default.",
            ],
        )
    return None


def _quoted(text: str) -> str | None:
    if '"' in text:
        parts = text.split('"')
        if len(parts) >= 3:
            return parts[1]
    return None
