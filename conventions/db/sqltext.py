"""SQL text built by hand: quoted identifiers, escaped literals, PostgreSQL-sized names.

The house operations write their DDL as text (so offline ``--sql`` output is the
statement a DBA would type), which makes this module the one place where anything
a helper receives becomes SQL. Identifiers are quoted exactly when PostgreSQL needs
it (the same rule SQLAlchemy applies, so our output matches Alembic's); literals are
always escaped, never interpolated.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.dialects import postgresql
from sqlalchemy.util import md5_hex

MAX_IDENTIFIER = 63  # NAMEDATALEN - 1

# A "named"-paramstyle dialect: the default (pyformat) preparer would double "%" in
# identifiers for the driver, and callers escape once, where the text is executed.
_PREPARER = postgresql.dialect(paramstyle="named").identifier_preparer


def ident(name: str) -> str:
    """Return ``name`` as an identifier, double-quoted only when PostgreSQL requires it."""
    if not name or "\x00" in name:
        raise ValueError(f"not a usable SQL identifier: {name!r}")
    return _PREPARER.quote(name)


def qualified(name: str, schema: str | None = None) -> str:
    """Return ``schema.name`` (or ``name``), each part quoted as needed."""
    return f"{ident(schema)}.{ident(name)}" if schema else ident(name)


def literal(value: str) -> str:
    """Return a string literal that means exactly ``value`` whatever the server settings.

    A backslash is the one character whose meaning depends on
    ``standard_conforming_strings``; an ``E'…'`` literal pins it down.
    """
    if "\x00" in value:
        raise ValueError("PostgreSQL text cannot contain NUL characters")
    body = value.replace("'", "''")
    if "\\" in value:
        return "E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


def literal_list(values: Iterable[str]) -> str:
    """Return ``'a', 'b', 'c'`` for an ``IN (…)`` list."""
    return ", ".join(literal(v) for v in values)


def fit_name(name: str, limit: int = MAX_IDENTIFIER) -> str:
    """Return ``name`` shortened to at most ``limit`` UTF-8 bytes, with a hash of the whole.

    The one shortening rule for names the tooling generates and must find again
    (constraint names, archive tables). PostgreSQL would silently cut a longer name at
    63 *bytes*, and a migration looking it up by its full name would never find it, so
    the size is measured in bytes (30 × 'ö' is 60 bytes) and the cut falls on a character
    boundary. For an ASCII name this is exactly SQLAlchemy's own truncation of
    naming-convention names (``name[:55] + "_" + md5[-4:]``), so the house ops and the
    models agree; SQLAlchemy counts characters, so for a non-ASCII name only this
    byte-sized form survives PostgreSQL intact.
    """
    if len(name.encode("utf-8")) <= limit:
        return name
    return clip_bytes(name, limit - 8) + "_" + md5_hex(name)[-4:]


def clip_bytes(name: str, limit: int = MAX_IDENTIFIER) -> str:
    """Cut ``name`` to at most ``limit`` UTF-8 bytes at a character boundary.

    This is what PostgreSQL does to an identifier longer than 63 bytes (not
    characters), so a name cut here is the name it stores.
    """
    encoded = name.encode("utf-8")
    if len(encoded) <= limit:
        return name
    return encoded[:limit].decode("utf-8", errors="ignore")


def numbered(base: str, n: int) -> str:
    """Return ``<base>_<n>`` within 63 bytes, ``base`` clipped (never the counter).

    For the second, third… name made from one :func:`fit_name`-sized base.
    """
    suffix = f"_{n}"
    return clip_bytes(base, MAX_IDENTIFIER - len(suffix)) + suffix


# Leads every statement the runtime sends only to look (the safety check's row count and
# EXPLAIN): ``plan`` traces the migration's own statements and skips these.
PROBE = "/* conventions: runtime probe */ "
