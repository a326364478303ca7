"""Read a duration setting ("500ms", "5s", "2min"): one grammar for every setting that waits.

The runtime's limits (:mod:`conventions.runtime.limits`) and ``plan``'s gate
(``max_blocking``) take durations the same way. The parser lives on the read side so
that reading a setting — as ``plan --export-stats`` does — loads nothing that changes
the database.
"""

from __future__ import annotations

import re

from conventions.errors import InvalidSetting

# ASCII digits only: '²' or '٣' are digits to str.isdigit() but not to a person.
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|sec|min|m|h)?\s*$", re.ASCII)
_UNITS = {None: 1.0, "ms": 0.001, "s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0}
DURATION_HELP = "a duration such as 500ms, 5s, 2min or 1h (a bare number means seconds)"


def parse_duration(name: str, value: str) -> float:
    """Return seconds for ``value``; raise InvalidSetting naming ``name`` otherwise."""
    match = _DURATION.match(value)
    if match is None:
        raise InvalidSetting(name, value, DURATION_HELP)
    return float(match.group(1)) * _UNITS[match.group(2)]
