"""Where SQL comments are, so the SQL rules read statements, not commented-out text.

``-- CREATE TYPE mood AS ENUM ('a')`` runs nothing, nor does a ``/* … */`` block
(PostgreSQL nests them). A comment marker inside a string literal (``'…'``, with
``''`` and ``E'\\''`` escapes) or a quoted identifier is not a comment. A
dollar-quoted body (``$$ … $$``, ``$tag$ … $tag$``) is read as SQL in turn: it is
the body of a ``DO`` block or a function, whose comments are comments too, and a
data string is not executed either way.
"""

from __future__ import annotations

import re

_DOLLAR = re.compile(r"\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$")
_WORD = re.compile(r"[\w$]")


def comment_spans(text: str, *, quotes: bool = True) -> list[tuple[int, int]]:
    """Return the (start, end) offsets of every comment in ``text``.

    ``quotes=False`` ignores quoting: for SQL still wrapped in Python source, whose
    quotes are Python's; a ``--`` inside a SQL literal then counts as a comment.
    """
    spans: list[tuple[int, int]] = []
    if "--" in text or "/*" in text:
        _scan(text, 0, len(text), spans, quotes=quotes)
    return spans


def strip_comments(text: str, *, quotes: bool = True) -> str:
    """Return ``text`` with each comment blanked: same length and lines, so offsets hold."""
    spans = comment_spans(text, quotes=quotes)
    if not spans:
        return text
    parts: list[str] = []
    previous = 0
    for start, end in spans:
        parts.append(text[previous:start])
        parts.append(re.sub(r"[^\n]", " ", text[start:end]))
        previous = end
    parts.append(text[previous:])
    return "".join(parts)


def comments_on_line(text: str, spans: list[tuple[int, int]], line: int) -> list[str]:
    """Return the comments that touch 1-based ``line`` of ``text`` (where a noqa counts)."""
    found = []
    for start, end in spans:
        first = text.count("\n", 0, start) + 1
        if first <= line <= first + text.count("\n", start, end):
            found.append(text[start:end])
    return found


def _scan(text: str, i: int, end: int, spans: list[tuple[int, int]], *, quotes: bool) -> None:
    start = i
    while i < end:
        char = text[i]
        if char == "-" and text.startswith("--", i, end):
            stop = text.find("\n", i, end)
            stop = end if stop < 0 else stop
            spans.append((i, stop))
            i = stop
        elif char == "/" and text.startswith("/*", i, end):
            stop = _block_end(text, i, end)
            spans.append((i, stop))
            i = stop
        elif quotes and char in "'\"":
            i = _quoted_end(text, i, end, escapes=char == "'" and _escape_string(text, i, start))
        elif quotes and char == "$" and not (i > start and _WORD.match(text[i - 1])):
            match = _DOLLAR.match(text, i, end)
            if match is None:
                i += 1
                continue
            close = text.find(match.group(), match.end(), end)
            if close < 0:
                return  # unterminated: the rest is one string
            _scan(text, match.end(), close, spans, quotes=quotes)
            i = close + len(match.group())
        else:
            i += 1


def _block_end(text: str, i: int, end: int) -> int:
    """Return the offset after the ``*/`` closing the (nested) block comment at ``i``."""
    depth, j = 1, i + 2
    while j < end and depth:
        if text.startswith("/*", j, end):
            depth, j = depth + 1, j + 2
        elif text.startswith("*/", j, end):
            depth, j = depth - 1, j + 2
        else:
            j += 1
    return j


def _escape_string(text: str, i: int, start: int) -> bool:
    """Say whether the literal at ``i`` is ``E'…'`` (backslash escapes apply)."""
    if i == start or text[i - 1] not in "eE":
        return False
    return i - 1 == start or not _WORD.match(text[i - 2])


def _quoted_end(text: str, i: int, end: int, *, escapes: bool) -> int:
    """Return the offset after the literal or quoted identifier opening at ``i``."""
    quote, j = text[i], i + 1
    while j < end:
        char = text[j]
        if escapes and char == "\\":
            j += 2
        elif char == quote:
            if text.startswith(quote * 2, j, end):
                j += 2
            else:
                return j + 1
        else:
            j += 1
    return end
