"""Explain why a migration step failed, after its transaction was rolled back.

Rolled back is not always the whole story: a step whose ops left the transaction
(``VALIDATE``, ``CREATE INDEX CONCURRENTLY``) committed its work up to there, and the
step runner passes that statement in as ``committed_before``; then the message says
"partly applied", never "rolled back" or "nothing was applied". This module only
sets that outcome on the error (``ConventionsError.in_migration``); the sentences
are rendered by the error itself (:mod:`conventions.errors`).

``conventions.db.diagnose`` maps a driver error to a house error by SQLSTATE; this
module adds what only the runtime knows: which step, how many attempts, who was
blocking, and — for a constraint violation — how many existing rows offend and a
few of them, counted on the rolled-back (unchanged) database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from conventions.db import catalog, preflight
from conventions.db.diagnose import statement_error
from conventions.db.sqltext import ident, qualified
from conventions.errors import (
    ConstraintViolation,
    ConventionsError,
    MigrationFailed,
    PermissionDenied,
    TableBusy,
)
from conventions.runtime.blockers import Blocker
from conventions.runtime.limits import STATEMENT_TIMEOUT, Limits
from conventions.runtime.retry import DEADLOCK, gave_up, longer_waits_hint, sqlstate

_TRACEBACK_HINT = (
    "For the full traceback: alembic --raiseerr upgrade head "
    "(or CONVENTIONS_TRACEBACK=1 with the command you ran)."
)


def _dbapi(err: BaseException) -> DBAPIError | None:
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, DBAPIError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def table_busy(
    name: str,
    *,
    attempts: int,
    limits: Limits,
    blockers: Sequence[Blocker],
    waiting_for: str,
    deadlock: bool = False,
    committed_before: str | None = None,
) -> TableBusy:
    target = f"a lock on {waiting_for}" if waiting_for else "a table lock"
    failed = gave_up(DEADLOCK if deadlock else None, attempts, limits, target=target)
    if blockers:
        who = "Blocked by " + "; ".join(b.describe() for b in blockers) + "."
    else:
        who = "The blocking session could not be identified (it moved on before we looked)."
    pids = [b.pid for b in blockers]
    hints = []
    if pids:
        hints.append(
            "That session holds a lock the migration needs (often a long or "
            "'idle in transaction' session): let it finish, or end it with "
            + ", ".join(f"SELECT pg_terminate_backend({pid});" for pid in pids)
        )
    hints.append(longer_waits_hint(limits))
    return TableBusy(
        f"Migration {name} {failed}",
        revision=name,
        attempts=attempts,
        blocking_pids=pids,
        hints=hints,
        committed_before=committed_before,
        blocked_by=who,
    )


_NOTHING_APPLIED = "Nothing of this migration was applied; fix the file and run it again."


def explain(
    err: BaseException,
    name: str,
    *,
    connection: Connection,
    limits: Limits,
    committed_before: str | None = None,
) -> ConventionsError:
    """Return the house error for step ``name`` failing with ``err`` (already rolled back).

    ``committed_before``: the statement before which the step had committed its work
    (see :mod:`conventions.runtime.commits`), or None when the failure left nothing behind.
    """
    explained = _explain(
        err, name, connection=connection, limits=limits, rolled_back=committed_before is None
    )
    return explained.in_migration(name, committed_before=committed_before)


def _explain(
    err: BaseException, name: str, *, connection: Connection, limits: Limits, rolled_back: bool
) -> ConventionsError:
    if isinstance(err, ConventionsError):
        return err
    dbapi = _dbapi(err)
    code = sqlstate(err)
    if code == "57014" and "statement timeout" in str(err):
        return MigrationFailed(
            "a statement ran longer than statement_timeout "
            f"({limits.statement_timeout:g}s) and was cancelled.",
            revision=name,
            hints=[f"Raise {STATEMENT_TIMEOUT} (e.g. 4h) for this run, or split the migration."],
        )
    explained = statement_error(dbapi) if dbapi is not None else None
    if isinstance(explained, ConstraintViolation) and dbapi is not None:
        explained = _with_offenders(explained, dbapi, connection)
    if isinstance(explained, PermissionDenied):
        explained = _with_privilege(explained, connection)
    if explained is not None:
        return explained
    detail = str(getattr(err, "orig", None) or err).strip().splitlines()
    first = detail[0] if detail else type(err).__name__
    return MigrationFailed(
        f"{type(err).__name__}: {first}",
        revision=name,
        hints=[_NOTHING_APPLIED, _TRACEBACK_HINT] if rolled_back else [_TRACEBACK_HINT],
    )


def bookkeeping_error(err: DBAPIError, connection: Connection) -> ConventionsError:
    """Explain a failure of the runtime's own queries (version/history tables), no step yet."""
    try:
        connection.rollback()
    except Exception:
        pass
    explained = statement_error(err)
    if isinstance(explained, PermissionDenied):
        explained = _with_privilege(explained, connection)
    if explained is None:
        lines = str(err.orig).strip().splitlines()
        explained = ConventionsError(
            f"The database refused a query: {lines[0] if lines else type(err.orig).__name__}",
            hints=[_TRACEBACK_HINT],
        )
    return explained.before_any_migration()


def _diag(err: DBAPIError) -> Any:
    return getattr(err.orig, "diag", None)


_CHECK = re.compile(r"\bCHECK\s*\((?P<expr>.*)\)\s*(NOT\s+VALID)?\s*$", re.IGNORECASE | re.DOTALL)
_FOREIGN_KEY = re.compile(
    r"\bFOREIGN\s+KEY\s*\((?P<local>[^)]*)\)\s*REFERENCES\s+(?P<referent>[^(]+?)\s*"
    r"\((?P<remote>[^)]*)\)(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)


_LITERAL = re.compile(r"'(?:[^']|'')*'")
_IDENTIFIER = re.compile(r'"((?:[^"]|"")+)"|\b([A-Za-z_][A-Za-z0-9_$]*)\b')


def _columns_in(present: Sequence[str], expression: str) -> list[str]:
    """The table's columns a CHECK expression mentions, in order (their values are samples).

    Taking the first word of the expression showed ``length`` for ``length(title) > 3``
    and fell back to ctids; the table's own column names are the ones worth showing.
    """
    found: list[str] = []
    for match in _IDENTIFIER.finditer(_LITERAL.sub("''", expression)):
        quoted, bare = match.groups()
        name = quoted.replace('""', '"') if quoted else str(bare).lower()
        if name in present and name not in found:
            found.append(name)
    return found


def _names(listed: str) -> list[str]:
    """Column names out of ``a, "B c"`` (as written in the failed statement)."""
    return [n.strip().strip('"').replace('""', '"') for n in listed.split(",") if n.strip()]


def _offenders(
    err: DBAPIError, connection: Connection
) -> tuple[str | None, int, list[object]] | None:
    """Return (column, offending row count, samples) on the unchanged database, or None."""
    diag = _diag(err)
    schema, table = getattr(diag, "schema_name", None), getattr(diag, "table_name", None)
    column = getattr(diag, "column_name", None)
    if not table:
        return None
    source = qualified(table, schema)
    found = catalog.resolve_table(connection, source)
    if found is None:
        return None
    code = getattr(err.orig, "pgcode", None)
    shown: Sequence[str]
    if code == "23502" and column:
        condition = f"{ident(column)} IS NULL"
        shown = catalog.primary_key(connection, found.oid)  # every key column; ctid if none
    elif code == "23514":
        match = _CHECK.search(str(err.statement or ""))
        if match is None:
            return None
        condition = preflight.failing_check(match.group("expr"))
        shown = _columns_in(list(catalog.columns(connection, found.oid)), match.group("expr"))
        column = shown[0] if shown else None
    elif code == "23503":
        match = _FOREIGN_KEY.search(str(err.statement or ""))
        if match is None:
            return None
        local, remote = _names(match.group("local")), _names(match.group("remote"))
        condition = preflight.unreferenced(
            table,
            local,
            match.group("referent"),
            remote,
            full_match=bool(re.search(r"\bMATCH\s+FULL\b", match.group("rest"), re.I)),
        )
        column = local[0]
        shown = local
    else:
        return None
    sample = preflight.offenders(connection, source, condition, shown=shown, as_text=False)
    return column, sample.count, list(sample.samples)


def _with_offenders(
    explained: ConstraintViolation, err: DBAPIError, connection: Connection
) -> ConstraintViolation:
    detail = getattr(_diag(err), "message_detail", None)
    found = None
    try:
        with connection.begin():
            connection.execute(text("SET LOCAL statement_timeout = '5s'"))
            found = _offenders(err, connection)
    except Exception:
        found = None  # counting is a courtesy; the violation itself is the message
    message = explained.message + (f" ({detail})" if detail else "")
    if found is None:
        return ConstraintViolation(
            message, table=explained.table, column=explained.column, hints=explained.own_hints
        )
    column, count, samples = found
    shown = ", ".join(repr(s) for s in samples)
    return ConstraintViolation(
        f"{message} — {count} existing row(s) offend, e.g. {shown}.",
        table=explained.table,
        column=column or explained.column,
        count=count,
        samples=samples,
        hints=explained.own_hints,
        unchanged=True,
    )


_OWNER = re.compile(r"must be owner of (?P<kind>\w+(?: \w+)?) (?P<name>\S+)")
_DENIED = re.compile(r"permission denied for (?P<kind>\w+) (?P<name>\S+)")


def _with_privilege(explained: PermissionDenied, connection: Connection) -> PermissionDenied:
    """Name the missing privilege and the GRANT (or ownership change) that fixes it."""
    try:
        user = str(connection.execute(text("SELECT current_user")).scalar())
        connection.rollback()
    except Exception:
        user = "<migration user>"
    owner = _OWNER.search(explained.message)
    denied = _DENIED.search(explained.message)
    if owner:
        kind, name = owner.group("kind"), owner.group("name")
        privilege = f"ownership of {kind} {name}"
        fix = [
            f"Only the owner of {kind} {name} may alter or drop it. Run migrations as the owner, "
            f"or transfer it: ALTER {kind.upper()} {name} OWNER TO {user};",
        ]
    elif denied:
        kind, name = denied.group("kind"), denied.group("name")
        needed = {"schema": "CREATE, USAGE", "database": "CREATE"}.get(kind, "ALL")
        privilege = f"{needed} on {kind} {name}"
        fix = [f"GRANT {needed} ON {kind.upper()} {name} TO {user};"]
    else:
        return explained
    return PermissionDenied(
        f"{explained.message} (missing: {privilege}, for user {user}).",
        hints=[*fix, "Or set DATABASE_URL to a user that has it (the schema owner)."],
    )
