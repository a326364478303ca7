"""``[tool.conventions.lint]``: what the lint reads and which codes count, as ruff does.

A legacy project cannot edit its applied migrations, so it needs the same knobs
ruff gives: ``select``/``ignore`` of codes (a prefix selects a family: ``"HSE"``
is every code), ``per-file-ignores`` (glob → codes), the ``paths`` a run with no
PATH reads besides the migration directories (default ``app/models``), and where
the ``baseline`` file lives. ``--models`` imports ``[tool.conventions] metadata``
(``module`` or ``module:attr``, the key ``conventions init`` writes) by default.
Every key reads through :func:`conventions.project.config.lookup`, so the
environment overrides it and ``python -m conventions config`` can say where each
value came from::

    [tool.conventions.lint]
    paths = ["myapp/models"]
    ignore = ["HSE013"]
    per-file-ignores = { "migrations/versions/2019*.py" = ["HSE001", "HSE002"] }
    baseline = ".conventions-lint-baseline.json"

``ignore`` wins over ``select`` (as in one ruff table). Per-file patterns are
``fnmatch`` globs on the path relative to the project root (``*`` crosses ``/``);
a pattern without ``/`` also matches the bare file name, and one ending in ``/``
means everything under that directory. An unknown code or a value of the wrong
type is a usage error naming the key, never a silent default.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conventions.errors import LintError
from conventions.lint.codes import PREFIX, RULES
from conventions.project.config import TABLE, lookup

SECTION = "lint"
DEFAULT_BASELINE = ".conventions-lint-baseline.json"
# With no PATH and no ``paths`` setting: these (when present); the migration directories always.
DEFAULT_PATHS = ("app/models",)


class LintConfigError(LintError):
    """A ``[tool.conventions.lint]`` value the lint cannot use."""

    def __init__(self, *, key: str, source: str, detail: str) -> None:
        self.key = key
        self.source = source
        super().__init__(
            f"{source}: {detail}.",
            hints=[
                f"Fix [{TABLE}.{SECTION}] {key} (known codes: "
                + ", ".join(r.code for r in RULES if not r.retired)
                + f"; a prefix such as {PREFIX!r} selects a family)."
            ],
        )


@dataclass(frozen=True)
class LintConfig:
    root: Path
    paths: tuple[str, ...] | None = None  # None: the defaults
    paths_source: str = "default"
    select: tuple[str, ...] = (PREFIX,)
    ignore: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, frozenset[str]], ...] = ()
    baseline: Path = field(default_factory=lambda: Path(DEFAULT_BASELINE))
    models: str | None = None

    def enabled(self, code: str) -> bool:
        """Say whether ``code`` counts at all (select, then ignore)."""
        return code.startswith(self.select) and not (self.ignore and code.startswith(self.ignore))

    def allows(self, code: str, path: str | Path) -> bool:
        """Say whether a finding of ``code`` at ``path`` is reported."""
        if not self.enabled(code):
            return False
        if not self.per_file_ignores:
            return True
        relative = self.relative(path)
        name = relative.rpartition("/")[2]
        for pattern, codes in self.per_file_ignores:
            if not code.startswith(tuple(codes)):
                continue
            if fnmatch.fnmatchcase(relative, pattern) or (
                "/" not in pattern and fnmatch.fnmatchcase(name, pattern)
            ):
                return False
        return True

    def relative(self, path: str | Path) -> str:
        """Return ``path`` relative to the project root, with ``/`` (as patterns are written)."""
        absolute = os.path.abspath(path)
        root = os.path.abspath(self.root)
        if absolute == root or absolute.startswith(root + os.sep):
            return os.path.relpath(absolute, root).replace(os.sep, "/")
        return absolute.replace(os.sep, "/")


def load(root: Path) -> LintConfig:
    """Read ``[tool.conventions.lint]`` (and the environment) for the project at ``root``."""
    paths = lookup(f"{SECTION}.paths", root=root, env="CONVENTIONS_LINT_PATHS")
    select = lookup(f"{SECTION}.select", root=root, env="CONVENTIONS_LINT_SELECT")
    ignore = lookup(f"{SECTION}.ignore", root=root, env="CONVENTIONS_LINT_IGNORE")
    per_file = lookup(f"{SECTION}.per-file-ignores", root=root, default={})
    baseline = lookup(
        f"{SECTION}.baseline", root=root, env="CONVENTIONS_LINT_BASELINE", default=DEFAULT_BASELINE
    )
    models = lookup("metadata", root=root, env="CONVENTIONS_METADATA")
    if not isinstance(baseline.value, str) or not baseline.value.strip():
        raise LintConfigError(key="baseline", source=baseline.source, detail="must be a file path")
    if models.value is not None and not isinstance(models.value, str):
        raise LintConfigError(
            key="metadata", source=models.source, detail="must be 'module' or 'module:attr'"
        )
    return LintConfig(
        root=root,
        paths=None if paths.value is None else _strings(paths.value, "paths", paths.source),
        paths_source=paths.source,
        select=(PREFIX,) if select.value is None else _codes(select.value, "select", select.source),
        ignore=() if ignore.value is None else _codes(ignore.value, "ignore", ignore.source),
        per_file_ignores=_per_file(per_file.value, per_file.source),
        baseline=(root / baseline.value.strip()),
        models=models.value,
    )


def _strings(value: Any, key: str, source: str) -> tuple[str, ...]:
    if isinstance(value, str) and source.startswith("environment"):  # comma-separated
        value = [part for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LintConfigError(key=key, source=source, detail="must be a list of strings")
    return tuple(v.strip() for v in value)


def _codes(value: Any, key: str, source: str) -> tuple[str, ...]:
    codes = tuple(code.upper() for code in _strings(value, key, source))
    known = [rule.code for rule in RULES]
    for code in codes:
        if not any(k.startswith(code) for k in known):
            raise LintConfigError(key=key, source=source, detail=f"{code!r} is not a lint code")
    return codes


def _per_file(value: Any, source: str) -> tuple[tuple[str, frozenset[str]], ...]:
    if not isinstance(value, dict):
        raise LintConfigError(
            key="per-file-ignores", source=source, detail="must be a table of glob = [codes]"
        )
    found: list[tuple[str, frozenset[str]]] = []
    for pattern, codes in value.items():
        glob = pattern + "*" if pattern.endswith("/") else pattern
        found.append((glob, frozenset(_codes(codes, "per-file-ignores", f"{source}.{pattern}"))))
    return tuple(found)


def expand_defaults(config: LintConfig, version_dirs: Iterable[Path]) -> list[Path]:
    """What a run with no PATH reads: ``paths`` (else the defaults) and the migration dirs.

    Only paths that exist; each once (a configured path may name a migration directory).
    """
    given = config.paths if config.paths is not None else DEFAULT_PATHS
    found = [config.root / p for p in given if (config.root / p).exists()]
    found += [d for d in version_dirs if d.is_dir()]
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(os.path.abspath(path), path)
    return list(unique.values())
