"""Deterministic names: constraints in the database, revision files on disk.

Constraint names come from the metadata naming convention so a migration written
today can find (and alter or drop) a constraint created years ago, and so a choice
column's CHECK is always ``ck_<table>_<column>``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_WORDS = re.compile(r"[a-z0-9]+")


def slug(message: str, *, limit: int = 60) -> str:
    """Return the hyphenated description used in file names ("add loyalty tiers")."""
    words = _WORDS.findall(message.lower())
    text = "-".join(words) or "migration"
    if len(text) > limit:
        text = text[:limit].rsplit("-", 1)[0]
    return text


def revision_stem(message: str, versions_dir: Path, today: dt.date | None = None) -> str:
    """Return ``YYYYMMDD-description``, suffixed ``-2``, ``-3``… if that file exists.

    The seed's naming sorts by date in a directory listing; the suffix keeps two
    revisions written on the same day with the same message from overwriting.
    """
    today = today or dt.date.today()
    base = f"{today:%Y%m%d}-{slug(message)}"
    stem, n = base, 1
    while (versions_dir / f"{stem}.py").exists():
        n += 1
        stem = f"{base}-{n}"
    return stem
