"""Project settings: ``[tool.conventions]`` in ``pyproject.toml``, the environment over it.

One loader for every setting a project can give (lint paths, safety thresholds,
plan limits, harness options, ...), so each feature reads its configuration the
way ruff and pytest do and ``python -m conventions config`` can say where every
value came from. Sub-tables group a feature's keys: ``[tool.conventions.safety]``
is read as ``lookup("safety.threshold_rows", ...)``.

Precedence, highest first: the named environment variable, then the key in
``pyproject.toml`` at the project root, then the caller's default. A
``pyproject.toml`` that does not parse is an error naming the file and the line,
never a silent fallback to defaults (a team that believes it configured a
threshold must not run without it).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from conventions.errors import ConventionsError

TABLE = "tool.conventions"


class ConfigFileError(ConventionsError):
    """``pyproject.toml`` exists but cannot be read as TOML."""

    def __init__(self, path: Path, detail: str) -> None:
        self.path = path
        super().__init__(
            f"{path} is not valid TOML: {detail}.",
            hints=[f"Fix the file; [{TABLE}] is read from it."],
        )


@dataclass(frozen=True)
class Setting:
    """A resolved value and where it came from (for ``conventions config``)."""

    key: str
    value: Any
    source: str  # "environment NAME", "pyproject.toml [tool.conventions] key", "default"


@lru_cache(maxsize=8)
def _load(path: Path, mtime_ns: int) -> Mapping[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise ConfigFileError(path, f"it is not UTF-8 ({err.reason})") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigFileError(path, str(err)) from None
    table: Any = data.get("tool", {}).get("conventions", {})
    if not isinstance(table, dict):
        raise ConfigFileError(path, f"[{TABLE}] must be a table")
    return table


def project_table(root: Path) -> Mapping[str, Any]:
    """Return ``[tool.conventions]`` of ``root/pyproject.toml`` (empty when absent)."""
    path = root / "pyproject.toml"
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return {}
    return _load(path, mtime)


def _dig(table: Mapping[str, Any], key: str) -> tuple[bool, Any]:
    node: Any = table
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node


def lookup(
    key: str,
    *,
    root: Path,
    env: str | None = None,
    default: Any = None,
    environ: Mapping[str, str] | None = None,
) -> Setting:
    """Resolve ``key`` (dotted for sub-tables): environment ``env``, then pyproject, then default.

    An environment variable set to the empty string counts as unset, as for the
    other ``CONVENTIONS_*`` variables. The value from the environment is the raw
    string; callers parse and validate it (and name the variable when it is bad).
    """
    environ = os.environ if environ is None else environ
    if env is not None:
        raw = environ.get(env, "")
        if raw.strip():
            return Setting(key, raw.strip(), f"environment {env}")
    found, value = _dig(project_table(root), key)
    if found:
        return Setting(key, value, f"pyproject.toml [{TABLE}] {key}")
    return Setting(key, default, "default")
