"""Read the allowed-value set back out of a CHECK constraint's text.

PostgreSQL does not keep the CHECK a migration wrote; ``pg_get_constraintdef``
returns its own normalised form, e.g. ``status IN ('a', 'b')`` comes back as
``CHECK (((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character
varying])::text[])))``, a one-value list as ``((status)::text = 'a'::text)``, and after
a column type change as ``ARRAY[('a'::character varying)::text, …]``. Comparing
strings would call identical sets different, so the ops (and autogenerate) compare
the *sets* this parser recovers.

The parser is a tokenizer plus a pattern over the tokens with casts and parentheses
removed. Parentheses carry no meaning in the shapes accepted (one column compared
with literals), and any other token — ``NOT``, ``AND``, a function call, a number —
makes the parse fail, so a constraint that is not a plain value set is never
mistaken for one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["ChoiceCheck", "parse_choice_check", "parse_literal"]


@dataclass(frozen=True)
class ChoiceCheck:
    """A CHECK that restricts one column to a set of string values."""

    column: str
    values: tuple[str, ...]
    validated: bool = True


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<estring>[eE]'(?:[^'\\]|\\.|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<qident>"(?:[^"]|"")*")
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<number>\d+)
  | (?P<cast>::)
  | (?P<punct>[()\[\],=])
    """,
    re.VERBOSE | re.DOTALL,
)

# Type names a cast in a value-set CHECK can carry (``::character varying(20)[]``).
_TYPE_WORDS = {"character", "varying", "varchar", "text", "char", "bpchar", "name", "citext"}

_OCTAL = re.compile(r"[0-7]{1,3}")
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _unescape(body: str) -> str:
    """Decode the backslash escapes of an ``E'…'`` literal body."""
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\" or i + 1 == len(body):
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif (octal := _OCTAL.match(body, i + 1)) is not None:
            digits = octal.group()
            out.append(chr(int(digits, 8)))
            i += 1 + len(digits)
        elif nxt in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[nxt]
            pattern = r"[0-9A-Fa-f]{1,2}" if nxt == "x" else rf"[0-9A-Fa-f]{{{width}}}"
            found = re.match(pattern, body[i + 2 :])
            if found is None:
                out.append(nxt)
                i += 2
            else:
                out.append(chr(int(found.group(), 16)))
                i += 2 + len(found.group())
        else:
            out.append(nxt)
            i += 2
    return "".join(out)


def _tokens(text: str, standard_strings: bool) -> list[tuple[str, str]] | None:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            return None
        pos = match.end()
        kind = match.lastgroup or ""
        raw = match.group()
        if kind == "space":
            continue
        if kind == "estring":
            tokens.append(("lit", _unescape(raw[2:-1].replace("''", "'"))))
        elif kind == "string":
            body = raw[1:-1]
            if standard_strings:
                tokens.append(("lit", body.replace("''", "'")))
            else:
                tokens.append(("lit", _unescape(body.replace("''", "'"))))
        elif kind == "qident":
            tokens.append(("ident", raw[1:-1].replace('""', '"')))
        elif kind == "word":
            tokens.append(("word", raw.lower()))
        else:
            tokens.append((kind, raw))
    return tokens


def _strip(tokens: list[tuple[str, str]]) -> list[tuple[str, str]] | None:
    """Drop casts (``::type(n)[]``) and parentheses; None if a cast names another type."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        kind, value = tokens[i]
        if kind == "cast":
            i += 1
            words = 0
            while i < len(tokens) and tokens[i][0] == "word" and tokens[i][1] in _TYPE_WORDS:
                i += 1
                words += 1
            if words == 0:
                return None
            if i + 2 < len(tokens) and tokens[i] == ("punct", "(") and tokens[i + 1][0] == "number":
                if tokens[i + 2] != ("punct", ")"):
                    return None
                i += 3
            while i + 1 < len(tokens) and tokens[i : i + 2] == [("punct", "["), ("punct", "]")]:
                i += 2
            continue
        if kind == "punct" and value in ("(", ")"):
            i += 1
            continue
        out.append((kind, value))
        i += 1
    return out


def _column(token: tuple[str, str]) -> str | None:
    kind, value = token
    if kind == "ident":
        return value
    if kind == "word" and value not in {"in", "any", "array", "not", "or", "and", "check"}:
        return value
    return None


def _literals(tokens: list[tuple[str, str]], closing: str | None) -> tuple[str, ...] | None:
    """Parse ``lit (, lit)*`` optionally followed by ``closing``; the whole list must match."""
    values: list[str] = []
    expect_value = True
    for index, (kind, value) in enumerate(tokens):
        if expect_value:
            if kind != "lit":
                return None
            values.append(value)
            expect_value = False
        elif (kind, value) == ("punct", ","):
            expect_value = True
        elif (kind, value) == ("punct", closing) and index == len(tokens) - 1:
            return tuple(values)
        else:
            return None
    if expect_value or closing is not None:
        return None
    return tuple(values)


def _or_chain(tokens: list[tuple[str, str]]) -> tuple[str, tuple[str, ...]] | None:
    """``col = 'a' OR col = 'b'`` (a hand-written set)."""
    column: str | None = None
    values: list[str] = []
    for start in range(0, len(tokens), 4):
        part = tokens[start : start + 4]
        if len(part) == 4 and part[3] != ("word", "or"):
            return None
        if len(part) < 3 or part[1] != ("punct", "=") or part[2][0] != "lit":
            return None
        name = _column(part[0])
        if name is None or (column is not None and name != column):
            return None
        column = name
        values.append(part[2][1])
    if len(tokens) % 4 != 3 or column is None:
        return None
    return column, tuple(values)


def parse_choice_check(
    definition: str, *, standard_conforming_strings: bool = True
) -> ChoiceCheck | None:
    """Return the column and allowed values of a value-set CHECK, or None for anything else.

    Accepts ``pg_get_constraintdef`` output (with or without ``CHECK``, with a trailing
    ``NOT VALID``) and the source forms people write: ``col IN ('a', 'b')``,
    ``col = ANY (ARRAY['a', 'b'])``, ``col = 'a'`` and ``col = 'a' OR col = 'b'``.
    Quoted identifiers, doubled quotes and ``E'…'`` escapes are decoded; pass
    ``standard_conforming_strings=False`` when the text came from a session with that
    setting off (backslashes in plain literals are then escapes). Values keep their
    order; compare them as sets.
    """
    tokens = _tokens(definition, standard_conforming_strings)
    if tokens is None:
        return None
    tokens = _strip(tokens)
    if not tokens:
        return None
    validated = True
    if tokens[-2:] == [("word", "not"), ("word", "valid")]:
        validated = False
        tokens = tokens[:-2]
    if tokens and tokens[0] == ("word", "check"):
        tokens = tokens[1:]
    if len(tokens) < 3:
        return None
    column = _column(tokens[0])
    if column is None:
        return None
    rest = tokens[1:]
    values: tuple[str, ...] | None = None
    if rest[0] == ("word", "in"):
        values = _literals(rest[1:], None)
    elif rest[:4] == [("punct", "="), ("word", "any"), ("word", "array"), ("punct", "[")]:
        values = _literals(rest[4:], "]")
    elif rest[0] == ("punct", "="):
        chain = _or_chain(tokens)
        if chain is not None and chain[0] == column:
            values = chain[1]
    if not values:
        return None
    return ChoiceCheck(column=column, values=values, validated=validated)


def parse_literal(expression: str, *, standard_conforming_strings: bool = True) -> str | None:
    """Return the string a default expression like ``'pending'::character varying`` holds.

    None when the expression is anything but one (possibly cast) string literal, e.g.
    ``now()`` — so a caller comparing defaults treats it as different, never equal.
    """
    tokens = _tokens(expression, standard_conforming_strings)
    if tokens is None:
        return None
    tokens = _strip(tokens)
    if tokens is None or len(tokens) != 1 or tokens[0][0] != "lit":
        return None
    return tokens[0][1]
