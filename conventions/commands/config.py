"""``config``: the effective settings and where each came from (as ``ruff`` and ``pytest`` say).

Read-only: the ``[tool.conventions]`` keys (environment over ``pyproject.toml`` over the
default), the Alembic layout every command uses (script location, version locations,
file template, from ``alembic.ini`` or ``[tool.alembic]``) and which database URL
source wins (masked). ``--json`` prints one document.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from conventions.db.settings import configured_url, mask, project_root
from conventions.project.config import TABLE, Setting, lookup, project_table
from conventions.project.config_keys import KEYS, TABLE_KEYS
from conventions.result_stream import others_to_stderr


def configure(parser: argparse.ArgumentParser) -> None:
    parser.description = __doc__.split("\n\n")[0] if __doc__ else None
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def settings(root: Path) -> list[Setting]:
    """Return every known key resolved, then keys in the table that no feature reads."""
    resolved = [lookup(k.key, root=root, env=k.env, default=k.default) for k in KEYS]
    known = {k.key for k in KEYS}
    unknown = [
        Setting(key, value, f"pyproject.toml [{TABLE}] {key} (unknown key: not read)")
        for key, value in _flatten(project_table(root))
        if key not in known and not any(key.startswith(f"{t}.") for t in TABLE_KEYS)
    ]
    return resolved + unknown


def _flatten(table: Any, prefix: str = "") -> list[tuple[str, Any]]:
    items: list[tuple[str, Any]] = []
    for key, value in table.items():
        if isinstance(value, dict):
            items += _flatten(value, f"{prefix}{key}.")
        else:
            items.append((f"{prefix}{key}", value))
    return items


def _layout(root: Path) -> list[Setting]:
    from conventions.project.layout import layout

    found = layout(root)
    from conventions.project.layout import ini_file

    ini = ini_file(root)
    where = _rel(ini, root) if ini is not None else "pyproject.toml [tool.alembic]"
    return [
        Setting("alembic.script_location", str(found.script_location), where),
        Setting("alembic.version_locations", [str(p) for p in found.version_locations], where),
        Setting(
            "alembic.file_template",
            found.file_template or "house: YYYYMMDD-description",
            where if found.file_template else "default (no file_template of the project's own)",
        ),
    ]


def _rel(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _database(root: Path) -> Setting:
    import os

    raw = configured_url(root)
    if raw is not None:
        source = "environment DATABASE_URL" if os.environ.get("DATABASE_URL") else ".env"
        return Setting("database_url", mask(raw), source)
    return Setting(
        "database_url",
        None,
        "unset: the URL env.py hands run(url=...), else sqlalchemy.url, else the embedded server",
    )


def run(args: argparse.Namespace) -> int:
    with others_to_stderr(args.json):
        root = project_root()
        rows = [Setting("root", str(root), "project root"), *settings(root), *_layout(root)]
        rows.append(_database(root))
    if args.json:
        print(json.dumps({r.key: {"value": r.value, "source": r.source} for r in rows}, indent=2))
        return 0
    width = max(len(r.key) for r in rows)
    for row in rows:
        print(f"{row.key:<{width}} = {json.dumps(row.value)}  # {row.source}")
    return 0
