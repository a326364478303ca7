"""The checksum of a migration file: how an edit to an applied migration is noticed.

One pure function over bytes, so the runtime (history), ``status`` and the lint's
manifest of applied migrations all agree on what "the same file" means. Line endings
are normalised first: a checkout on Windows (CRLF) is not an edit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

ALGORITHM = "sha256"


def checksum(data: bytes) -> str:
    """Return the hex SHA-256 of ``data`` with CRLF/CR line endings read as LF."""
    normalised = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return hashlib.sha256(normalised).hexdigest()


def file_checksum(path: str | Path) -> str:
    """Return :func:`checksum` of the file at ``path``."""
    return checksum(Path(path).read_bytes())
