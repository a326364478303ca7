"""Whether a column default is volatile, i.e. whether ADD COLUMN will rewrite the table.

Since PostgreSQL 11 ``ADD COLUMN … DEFAULT <expr>`` is metadata-only when ``expr`` is
not volatile (it is evaluated once and stored in ``pg_attribute.attmissingval``); a
volatile default (``random()``, ``gen_random_uuid()``, ``clock_timestamp()``,
``nextval(…)``) is evaluated per row, so the whole table is rewritten under ACCESS
EXCLUSIVE. The server knows each function's volatility (``pg_proc.provolatile``); the
function names are read off the expression's text.
"""

from __future__ import annotations

import re

from sqlalchemy.engine import Connection

_CALL = re.compile(r"([A-Za-z_][A-Za-z0-9_$]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_$]*)?)\s*\(")
_STRING = re.compile(r"'(?:[^']|'')*'")


def called_functions(expression: str) -> list[str]:
    """Return the function names an SQL expression calls (string literals ignored)."""
    bare = _STRING.sub("''", expression)
    names = [re.sub(r"\s+", "", m.group(1)).lower() for m in _CALL.finditer(bare)]
    return [n.split(".")[-1] for n in names if n not in ("cast", "coalesce", "row", "array")]


def volatile_functions(conn: Connection | None, expression: str) -> list[str]:
    """Return the volatile functions ``expression`` calls.

    Without a connection (``--sql``), only the well-known ones are recognised.
    """
    names = sorted(set(called_functions(expression)))
    if not names:
        return []
    if conn is None:
        known = {"random", "gen_random_uuid", "uuid_generate_v4", "clock_timestamp"}
        known |= {"nextval", "timeofday", "uuid_generate_v1", "uuidv7", "uuidv4"}
        return [n for n in names if n in known]
    rows = conn.exec_driver_sql(
        "SELECT DISTINCT proname FROM pg_proc WHERE proname = ANY(%(names)s)"
        " AND provolatile = 'v' ORDER BY proname",
        {"names": names},
    )
    return [str(r[0]) for r in rows]
