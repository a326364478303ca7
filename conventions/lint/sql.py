"""Find ``CREATE TYPE ... AS ENUM`` in SQL text, however it is spelled.

Case, whitespace, newlines, SQL comments between the words, quoted or
schema-qualified type names, and placeholders for the name (``%s``, ``{}``,
``%(name)s``, an f-string field) all match; ``DROP TYPE`` and ``ALTER TYPE`` do not,
nor does a statement inside a SQL comment (:mod:`conventions.lint.sql_comments`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from conventions.lint.report import Finding, display_path, suppressed
from conventions.lint.sql_comments import comment_spans, comments_on_line, strip_comments

# Whitespace or SQL comments: what PostgreSQL accepts between two keywords.
_GAP = r"(?:\s|--[^\n]*(?:\n|$)|/\*.*?\*/)+"
_PART = r'(?:"(?:[^"]|"")+"|%\([^)]*\)s|[^\s".(;]+)'
_NAME = rf"{_PART}(?:\s*\.\s*{_PART})*"

CREATE_ENUM = re.compile(
    rf"\bcreate{_GAP}type{_GAP}(?P<name>{_NAME}){_GAP}as{_GAP}enum\b",
    re.IGNORECASE | re.DOTALL,
)

# What may sit between AS and ENUM once SQL is split over Python string literals.
_GAP_BYTES = frozenset(b" \t\r\n\f\v\"'+\\")
_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_")


def trigger_offsets(source: bytes, lower: bytes | None = None) -> list[int]:
    """Return offsets of each ``ENUM`` in raw source that could end ``AS ENUM``.

    A cheap superset (byte search, no regex): a file without one cannot hold the
    statement, so its string literals are never visited. ``AS`` may be followed by
    whitespace, quotes, ``+`` or backslashes (a literal split in Python) or a SQL
    comment, which is accepted without looking inside it.
    """
    if lower is None:
        lower = source.lower()
    found: list[int] = []
    index = lower.find(b"enum")
    while index != -1:
        after = lower[index + 4 : index + 5]
        if not after or after[0] not in _WORD_BYTES:
            j = index - 1
            while j >= 0 and lower[j] in _GAP_BYTES:
                j -= 1
            before = lower[max(0, j - 2) : j + 1]
            keyword = before.endswith(b"as") and (len(before) < 3 or before[0] not in _WORD_BYTES)
            line_start = lower.rfind(b"\n", 0, j) + 1
            comment = before.endswith(b"*/") or b"--" in lower[line_start : j + 1]
            if keyword or comment:
                found.append(index)
        index = lower.find(b"enum", index + 4)
    return found


@dataclass(frozen=True)
class EnumStatement:
    offset: int
    name: str


def create_enum_statements(text: str) -> Iterator[EnumStatement]:
    """Yield each ``CREATE TYPE ... AS ENUM`` in ``text`` with its offset and type name."""
    if "enum" not in text.lower():
        return
    for match in CREATE_ENUM.finditer(strip_comments(text)):
        yield EnumStatement(match.start(), " ".join(match.group("name").split()))


def create_type_message(name: str) -> str:
    return (
        f"CREATE TYPE {name} AS ENUM makes a native ENUM; use a VARCHAR column with a "
        "named CHECK (conventions.Choice / op.add_choice_column)"
    )


def lint_sql_file(path: str) -> list[Finding]:
    """Check a ``.sql`` file for CREATE TYPE ... AS ENUM; ``-- noqa`` works on its lines."""
    shown = display_path(path)
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as err:
        return [Finding(shown, 1, 1, "HSE008", f"cannot read: {err}")]
    spans = comment_spans(text)
    found = []
    for statement in create_enum_statements(text):
        line = text.count("\n", 0, statement.offset) + 1
        col = statement.offset - (text.rfind("\n", 0, statement.offset) + 1) + 1
        if not suppressed("HSE007", comments_on_line(text, spans, line)):
            found.append(Finding(shown, line, col, "HSE007", create_type_message(statement.name)))
    return found
