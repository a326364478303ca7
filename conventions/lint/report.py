"""Findings, ``# noqa``, and the one output format: ``path:line:col: CODE message``.

flake8's format and noqa semantics, so editors and CI annotators already parse it:
``# noqa`` silences every code on its line, ``# noqa: HSE001,HSE005`` only those. In
Python a noqa counts only in a real comment, as the tokenizer reads it: ``"# noqa"``
inside a string on the same line silences nothing.

One noqa per concept: the static pass and ``--models`` see the same Enum column
from two sides, a spelling on its source line (HSE001, HSE002, HSE003, HSE005,
HSE006) and the type in the metadata (HSE009). A noqa naming either side silences
the other on that line: ``# noqa: HSE001`` also silences HSE009 for the column,
``# noqa: HSE009`` its static finding. The static codes stay distinct among
themselves (``# noqa: HSE005`` does not hide an ``sa.Enum`` on the same line):
each names a different spelling. The pairs are :data:`SAME_COLUMN`.
"""

from __future__ import annotations

import io
import os
import re
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# One comment marker for Python (#) and SQL (--); the codes list is optional.
_NOQA = re.compile(
    r"(?:#|--)\s*noqa(?:\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?",
    re.IGNORECASE,
)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)

ALL = frozenset({"*"})

# "This column is an Enum": the static spellings and the metadata check (HSE009).
# HSE004 (type_annotation_map) and HSE007 (SQL) are not a column's line; they stand alone.
STATIC_COLUMN = frozenset({"HSE001", "HSE002", "HSE003", "HSE005", "HSE006"})
METADATA_COLUMN = "HSE009"
SAME_COLUMN: dict[str, frozenset[str]] = {
    **{code: frozenset({code, METADATA_COLUMN}) for code in STATIC_COLUMN},
    METADATA_COLUMN: STATIC_COLUMN | {METADATA_COLUMN},
}


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place; ``col`` is 1-based like flake8's."""

    path: str
    line: int
    col: int
    code: str
    message: str

    def render(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"


@dataclass(frozen=True)
class Position:
    """Where a finding points, and the last line of its node (a noqa may sit there)."""

    line: int
    col: int
    end_line: int


def noqa_codes(line: str) -> frozenset[str]:
    """Return the codes a physical line silences: ALL, some codes, or none."""
    if "noqa" not in line.lower():
        return frozenset()
    match = _NOQA.search(line)
    if match is None:
        return frozenset()
    codes = match.group("codes")
    if not codes:
        return ALL
    return frozenset(code.upper() for code in _CODE.findall(codes))


class Comments:
    """The real comments of one Python source: where a ``# noqa`` may sit.

    Only a line that mentions noqa costs anything: the first one tokenizes the whole
    source (so a line inside a multi-line string reads as string, not as code).
    Source that does not tokenize falls back to its physical lines.
    """

    def __init__(self, source: str) -> None:
        self.lines = source.splitlines()
        self._source = source
        self._found: dict[int, str] | None = None
        self._failed = False

    def on(self, *numbers: int) -> list[str]:
        """Return the comments on the given (1-based) lines."""
        wanted = sorted({n for n in numbers if 0 < n <= len(self.lines)})
        if not any("noqa" in self.lines[n - 1].lower() for n in wanted):
            return []
        if self._found is None and not self._failed:
            self._tokenize()
        if self._failed:
            return [self.lines[n - 1] for n in wanted]
        found = self._found or {}
        return [found[n] for n in wanted if n in found]

    def _tokenize(self) -> None:
        found: dict[int, str] = {}
        try:
            for token in tokenize.generate_tokens(io.StringIO(self._source).readline):
                if token.type == tokenize.COMMENT:
                    found[token.start[0]] = token.string
        except (tokenize.TokenError, SyntaxError):
            self._failed = True
        self._found = found


def suppressed(code: str, lines: Iterable[str]) -> bool:
    """Say whether any of the given physical lines carries a noqa for ``code``."""
    accepted = SAME_COLUMN.get(code, frozenset({code}))
    for line in lines:
        codes = noqa_codes(line)
        if codes is ALL or not accepted.isdisjoint(codes):
            return True
    return False


def display_path(path: Path | str) -> str:
    """Show a path relative to the working directory when it lies under it."""
    text = os.path.normpath(os.fspath(path))
    if os.path.isabs(text):
        cwd = os.getcwd()
        if text.startswith(cwd + os.sep):
            text = text[len(cwd) + 1 :]
    return text.replace(os.sep, "/")
