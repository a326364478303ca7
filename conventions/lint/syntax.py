"""Say which Python a file needs when it does not parse under the one running the lint.

A model written for Python 3.12 (``type Status = ...``, ``class Box[T]``) is
perfectly valid; under 3.11 it is a bare "invalid syntax" and every Enum in it is
invisible. The file still fails the lint (HSE008: what it cannot read it cannot
vouch for), but the message names the feature and the version, so the fix is "run
the lint with that Python" rather than "look for a typo".
"""

from __future__ import annotations

import re
import sys

# (pattern over the offending line, what it is, the first Python that parses it)
_FEATURES: tuple[tuple[re.Pattern[str], str, tuple[int, int]], ...] = (
    (
        re.compile(r"^\s*type\s+[A-Za-z_]\w*\s*(?:\[[^\]]*\])?\s*="),
        "a `type X = ...` alias (PEP 695)",
        (3, 12),
    ),
    (
        re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+[A-Za-z_]\w*\s*\["),
        "type parameters (PEP 695)",
        (3, 12),
    ),
    (
        re.compile(r"^\s*except\*?\s+[^():]+,[^:]*:"),
        "`except A, B:` without parentheses (PEP 758)",
        (3, 14),
    ),
    (
        re.compile(r"""(?<![\w])[tT][rR]?['"]|(?<![\w])[rR][tT]['"]"""),
        "a template string t'...' (PEP 750)",
        (3, 14),
    ),
    (
        re.compile(r"""[fF][rR]?(['"]).*\{[^}]*\1"""),
        "an f-string reusing its quotes inside {} (PEP 701)",
        (3, 12),
    ),
)


def explain(err: SyntaxError, path: str) -> str:
    """Return the reason for HSE008: the parser's message, plus the Python version needed."""
    reason = err.msg
    line = err.text
    if line is None and err.lineno:
        try:
            with open(path, encoding="utf-8", errors="replace") as file:
                for number, text in enumerate(file, start=1):
                    if number == err.lineno:
                        line = text
                        break
        except OSError:
            line = None
    if not line:
        return reason
    running = sys.version_info[:2]
    for pattern, what, version in _FEATURES:
        if version > running and pattern.search(line):
            needed = ".".join(map(str, version))
            now = ".".join(map(str, running))
            return (
                f"{reason}: {what} needs Python {needed}, and the lint runs on Python {now}; "
                f"run it with Python {needed} or newer (the file's Enums cannot be checked "
                "until then)"
            )
    return reason
