"""Which column type changes PostgreSQL makes without rewriting or scanning the table.

``ALTER COLUMN … TYPE`` always takes ACCESS EXCLUSIVE; what matters is for how long.
PostgreSQL skips the rewrite when the old type is binary-coercible to the new one and
the new typmod accepts every old value, and skips the scan too when no value can fail
(``ATColumnChangeRequiresRewrite`` / ``ATExecAlterColumnType``). The cases a team
meets every week are listed here, on the types as ``format_type`` prints them; anything
not listed is treated as a rewrite (the safe assumption: refusing a harmless change
costs a ``safety_assured``, allowing a rewrite costs an outage).
"""

from __future__ import annotations

import re

_VARCHAR = re.compile(r"^character varying(?:\((\d+)\))?$")
_NUMERIC = re.compile(r"^numeric(?:\((\d+),(\d+)\))?$")
_VARBIT = re.compile(r"^bit varying(?:\((\d+)\))?$")
_TEXTUAL_TARGETS = ("text",)


def _normal(type_sql: str) -> str:
    text = " ".join(type_sql.lower().split()).replace(", ", ",")
    return {"varchar": "character varying", "int": "integer", "int4": "integer"}.get(text, text)


def in_place(old: str, new: str) -> bool:
    """Whether changing a column from ``old`` to ``new`` needs neither rewrite nor scan.

    Both are types as PostgreSQL's ``format_type`` prints them (``character
    varying(50)``, ``numeric(10,2)``, ``text``); a ``USING`` clause always rewrites.
    """
    old, new = _normal(old), _normal(new)
    if old == new:
        return True
    if (m := _VARCHAR.match(old)) is not None:
        if new in _TEXTUAL_TARGETS:
            return True
        if (n := _VARCHAR.match(new)) is not None:
            return n.group(1) is None or (
                m.group(1) is not None and int(n.group(1)) >= int(m.group(1))
            )
        return False
    if old == "text":
        return (n := _VARCHAR.match(new)) is not None and n.group(1) is None
    if (m := _NUMERIC.match(old)) is not None and (n := _NUMERIC.match(new)) is not None:
        if n.group(1) is None:
            return True  # unconstrained numeric holds every value
        if m.group(1) is None:
            return False
        # Same scale, more precision: every old value fits as it is.
        return n.group(2) == m.group(2) and int(n.group(1)) >= int(m.group(1))
    if (m := _VARBIT.match(old)) is not None and (n := _VARBIT.match(new)) is not None:
        return n.group(1) is None or (m.group(1) is not None and int(n.group(1)) >= int(m.group(1)))
    return (old, new) == ("cidr", "inet")
