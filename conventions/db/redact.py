"""Never print a secret: the one masking function behind every output.

A password reaches output by many roads: the URL itself (userinfo, or query
parameters such as ``password`` and ``sslpassword``), a URL that does not parse
(a bad port, an unescaped ``@`` or ``/``), a database error whose text quotes the
URL, a history row, a traceback. Masking each road separately leaked on the ones
nobody thought of, so there is one mechanism with two halves:

* ``mask_url`` hides the secret parts of anything URL-shaped, parsed or not. When
  the URL is malformed it over-masks (everything between the user and the *last*
  ``@``) rather than guess where the password ends.
* Every URL the tooling resolves is ``remember``-ed: its passwords, in every
  encoding they can appear in (as written, %-decoded, %-encoded, ``+`` for space,
  SQLAlchemy's and libpq's escaping), join a per-process set that ``redact``
  replaces with ``***`` in any text: log lines, error messages, JSON documents,
  history rows and tracebacks all pass through ``redact``.

A secret shorter than ``MIN_SECRET`` characters is masked only where it sits in
a URL or a ``password=`` pair: replacing every ``ab`` in a message would make it
unreadable while protecting nothing.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO
from urllib.parse import quote, quote_plus, unquote

from sqlalchemy.engine import URL

MASK = "***"
MIN_SECRET = 4
# Query parameters and conninfo keys whose value is a secret (libpq's names).
SECRET_KEYS = ("password", "sslpassword")

_known: set[str] = set()

_KEYS = "|".join(SECRET_KEYS)
_QUERY_SECRET = re.compile(rf"(?P<key>[?&;](?:{_KEYS})=)(?P<value>[^&;#\s'\"]*)", re.IGNORECASE)
# libpq conninfo in free text: password=secret or password='it''s \'quoted\''
_CONNINFO_SECRET = re.compile(
    rf"(?P<key>\b(?:{_KEYS})\s*=\s*)(?P<value>'(?:[^'\\]|\\.|'')*'|[^\s'\"&;,)]+)",
    re.IGNORECASE,
)
# Something URL-shaped in free text: scheme://… up to whitespace or a closing quote.
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*:?//[^\s'\"<>]+")


def _userinfo_bounds(raw: str) -> tuple[int, int] | None:
    """Return (start, at) of ``user[:password]`` in ``raw``, or None without userinfo.

    The userinfo ends at the *last* ``@``: a password may hold ``@``, ``/`` or ``?``
    unescaped, and cutting at the first one would print the rest of it.
    """
    at = raw.rfind("@")
    if at < 0:
        return None
    scheme_end = raw.find("//", 0, at)
    start = scheme_end + 2 if scheme_end >= 0 else 0
    return start, at


def _query_values(raw: str) -> list[str]:
    return [m.group("value") for m in _QUERY_SECRET.finditer(raw) if m.group("value")]


def secrets_in(raw: str | URL) -> set[str]:
    """Return every password ``raw`` carries, decoded (userinfo and secret query keys)."""
    found: set[str] = set()
    if isinstance(raw, URL):
        if raw.password:
            found.add(str(raw.password))
        for key in SECRET_KEYS:
            value = raw.query.get(key)
            values = value if isinstance(value, tuple) else (value,)
            found.update(str(v) for v in values if v)
        return found
    bounds = _userinfo_bounds(raw)
    if bounds is not None:
        _user, sep, password = raw[bounds[0] : bounds[1]].partition(":")
        if sep and password:
            found.update({password, unquote(password)})
    for value in _query_values(raw):
        found.update({value, unquote(value), unquote(value.replace("+", " "))})
    for match in _CONNINFO_SECRET.finditer(raw):
        value = match.group("value")
        if value.startswith("'") and value.endswith("'") and len(value) >= 2:
            value = re.sub(r"\\(.)", r"\1", value[1:-1]).replace("''", "'")
        if value:
            found.add(value)
    return found


def _forms(secret: str) -> set[str]:
    """Every way ``secret`` can be spelled in output."""
    encoded = quote(secret, safe="")
    return {
        secret,
        encoded,
        re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded),
        quote_plus(secret, safe=""),
        re.sub(r"[@:/]", lambda m: f"%{ord(m.group(0)):X}", secret),  # SQLAlchemy's
        secret.replace("\\", "\\\\").replace("'", "\\'"),  # libpq conninfo
        secret.replace("'", "''"),  # an SQL literal
        secret.replace("%", "%%"),  # a statement shown in pyformat paramstyle
        secret.replace("%", "%%").replace("'", "''"),
    }


def remember(raw: str | URL | None) -> None:
    """Add the passwords ``raw`` carries to the set ``redact`` hides in any text."""
    if raw is None:
        return
    for secret in secrets_in(raw):
        _known.update(form for form in _forms(secret) if len(form) >= MIN_SECRET)


def mask_url(raw: str | URL) -> str:
    """Return ``raw`` with every password replaced by ``***``, even if it does not parse."""
    if isinstance(raw, URL):
        remember(raw)
        text = raw.render_as_string(hide_password=True)
    else:
        text = raw
        bounds = _userinfo_bounds(text)
        if bounds is not None:
            start, at = bounds
            user, sep, password = text[start:at].partition(":")
            if sep and password:
                text = f"{text[:start]}{user}:{MASK}{text[at:]}"
    return _QUERY_SECRET.sub(lambda m: m.group("key") + MASK, text)


def redact(text: str) -> str:
    """Return ``text`` with every URL masked and every remembered secret replaced."""
    if not text:
        return text
    text = _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
    text = _CONNINFO_SECRET.sub(lambda m: m.group("key") + MASK, text)
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class _RedactingStream:
    """A text stream that masks what is written to it, delegating everything else."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(redact(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def redacted_streams() -> Iterator[None]:
    """Mask secrets in everything written to stdout and stderr while the block runs.

    Commands print results with ``print`` and may show a traceback; this catches
    every road at once instead of trusting each print to remember.
    """
    saved = sys.stdout, sys.stderr
    sys.stdout = _RedactingStream(saved[0])
    sys.stderr = _RedactingStream(saved[1])
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
