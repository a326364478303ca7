"""Find SQL that creates, extends or adopts a native ENUM, however it is spelled.

``CREATE TYPE ... AS ENUM`` (HSE007); ``ALTER TYPE ... ADD VALUE`` / ``RENAME VALUE``
and ``ALTER COLUMN ... TYPE <a known enum type>`` (HSE014: a new migration that
extends a legacy enum keeps it in use). Case, whitespace, newlines, SQL comments
between the words, quoted or schema-qualified type names, and placeholders for the
name (``%s``, ``{}``, ``%(name)s``, an f-string field) all match; ``DROP TYPE`` and
``ALTER TYPE ... RENAME TO`` do not, nor does a statement inside a SQL comment
(:mod:`conventions.lint.sql_comments`). Whether a column's new type is an enum is
answered once every file is read: a type some file creates (SQL, or ``Enum(...,
name=...)``) or extends.
"""

from __future__ import annotations

import os
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

EXTEND_ENUM = re.compile(
    rf"\balter{_GAP}type{_GAP}(?P<name>{_NAME}){_GAP}(?P<verb>add|rename){_GAP}value\b",
    re.IGNORECASE | re.DOTALL,
)
TYPE_CHANGE = re.compile(
    rf"\balter{_GAP}(?:column{_GAP})?(?!type\b|table\b){_NAME}{_GAP}"
    rf"(?:set{_GAP}data{_GAP})?type{_GAP}(?P<name>{_NAME})",
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


def alter_offsets(lower: bytes) -> list[int]:
    """Offsets of each word ``alter``: every HSE014 statement holds one (a cheap superset)."""
    found = []
    index = lower.find(b"alter")
    while index != -1:
        if not index or lower[index - 1] not in _WORD_BYTES:
            found.append(index)
        index = lower.find(b"alter", index + 5)
    return found


@dataclass(frozen=True)
class EnumStatement:
    offset: int
    name: str
    kind: str = "create"  # "create", "add", "rename" (a value), "retype" (a column)


def create_enum_statements(text: str) -> Iterator[EnumStatement]:
    """Yield each ``CREATE TYPE ... AS ENUM`` in ``text`` with its offset and type name."""
    if "enum" not in text.lower():
        return
    for match in CREATE_ENUM.finditer(strip_comments(text)):
        yield EnumStatement(match.start(), " ".join(match.group("name").split()))


def enum_statements(text: str) -> list[EnumStatement]:
    """Every CREATE TYPE ... AS ENUM, ALTER TYPE ... ADD/RENAME VALUE and column TYPE change."""
    lower = text.lower()
    if "enum" not in lower and "alter" not in lower:
        return []
    stripped = strip_comments(text)
    found = [
        EnumStatement(m.start(), " ".join(m.group("name").split()))
        for m in CREATE_ENUM.finditer(stripped)
    ]
    if "alter" in lower:
        found.extend(
            EnumStatement(m.start(), " ".join(m.group("name").split()), m.group("verb").lower())
            for m in EXTEND_ENUM.finditer(stripped)
        )
        found.extend(
            EnumStatement(m.start(), " ".join(m.group("name").split()), "retype")
            for m in TYPE_CHANGE.finditer(stripped)
        )
    return sorted(found, key=lambda statement: statement.offset)


def type_key(name: str) -> str:
    """Compare type names as PostgreSQL does: unquoted folds to lower case; no schema, no []."""
    name = name.strip()
    while name.endswith("[]"):
        name = name[:-2].rstrip()
    last = re.split(r"\s*\.\s*(?=(?:[^\"]*\"[^\"]*\")*[^\"]*$)", name)[-1]
    if last.startswith('"') and last.endswith('"') and len(last) > 1:
        return last[1:-1].replace('""', '"')
    return last.lower()


def extend_message(name: str, verb: str) -> str:
    return (
        f"ALTER TYPE {name} {verb.upper()} VALUE keeps the native ENUM {name} in use; convert "
        "the column to a Choice (VARCHAR + named CHECK) and change its values with "
        "op.alter_choices"
    )


def retype_message(name: str) -> str:
    return (
        f"ALTER COLUMN ... TYPE {name} puts a column on the native ENUM {name}; keep it "
        "VARCHAR with a named CHECK (op.alter_choices)"
    )


def create_type_message(name: str) -> str:
    return (
        f"CREATE TYPE {name} AS ENUM makes a native ENUM; use a VARCHAR column with a "
        "named CHECK (conventions.Choice / op.add_choice_column)"
    )


@dataclass(frozen=True)
class PendingRetype:
    """A column TYPE change, reported once every file has said which types are enums."""

    path: str  # as shown
    line: int
    col: int
    name: str
    comments: tuple[str, ...]
    directory: str = ""  # where the file is: its siblings may create the type

    def finding(self, enum_types: set[str]) -> Finding | None:
        if type_key(self.name) not in enum_types or suppressed("HSE014", list(self.comments)):
            return None
        return Finding(self.path, self.line, self.col, "HSE014", retype_message(self.name))


_DECLARED = re.compile(
    rb"""\b(?:Enum|ENUM)\s*\((?:[^()]|\([^()]*\))*?\bname\s*=\s*['"]([^'"]+)['"]"""
    rb"""|\bcreate\s+type\s+("[^"]+"|[\w.]+)\s+as\s+enum\b""",
    re.IGNORECASE,
)


def sibling_enum_types(directory: str) -> set[str]:
    """Enum type names the files of a directory declare, by a byte search (no parse).

    A pre-commit run passes only the new migration; the enum it moves a column onto
    was created years ago by a sibling in the same versions directory. Read only when
    a column TYPE change names a type no linted file declared.
    """
    found: set[str] = set()
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return found
    for name in names:
        if not name.endswith((".py", ".sql")):
            continue
        try:
            with open(os.path.join(directory, name), "rb") as file:
                data = file.read()
        except OSError:
            continue
        if b"enum" not in data.lower():
            continue
        for match in _DECLARED.finditer(data):
            raw = (match.group(1) or match.group(2)).decode("utf-8", "replace")
            found.add(type_key(raw))
    return found


def record(statement: EnumStatement, enum_types: set[str]) -> None:
    """Note the enum type a statement names (for later column TYPE changes)."""
    if statement.kind != "retype" and "{" not in statement.name and "%" not in statement.name:
        enum_types.add(type_key(statement.name))


def lint_sql_file(
    path: str, *, enum_types: set[str] | None = None, pending: list[PendingRetype] | None = None
) -> list[Finding]:
    """Check a ``.sql`` file for enum SQL (HSE007, HSE014); ``-- noqa`` works on its lines.

    ``enum_types`` and ``pending`` are the run's shared answers: types this file
    creates, and column type changes to decide once every file is read.
    """
    shown = display_path(path)
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError) as err:
        return [Finding(shown, 1, 1, "HSE008", f"cannot read: {err}")]
    enum_types = set() if enum_types is None else enum_types
    spans = comment_spans(text)
    found = []
    for statement in enum_statements(text):
        record(statement, enum_types)
        line = text.count("\n", 0, statement.offset) + 1
        col = statement.offset - (text.rfind("\n", 0, statement.offset) + 1) + 1
        comments = comments_on_line(text, spans, line)
        if statement.kind == "retype":
            if pending is not None:
                pending.append(
                    PendingRetype(
                        shown,
                        line,
                        col,
                        statement.name,
                        tuple(comments),
                        os.path.dirname(os.path.abspath(path)),
                    )
                )
            continue
        code = "HSE007" if statement.kind == "create" else "HSE014"
        if suppressed(code, comments):
            continue
        message = (
            create_type_message(statement.name)
            if code == "HSE007"
            else extend_message(statement.name, statement.kind)
        )
        found.append(Finding(shown, line, col, code, message))
    return found
