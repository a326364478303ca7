"""The safety check's settings: ``[tool.conventions.safety]``, the environment over it.

```toml
[tool.conventions.safety]
threshold_rows = 10000          # CONVENTIONS_SAFETY_THRESHOLD_ROWS
disabled = ["rename_table"]     # CONVENTIONS_SAFETY_DISABLED="rename_table,drop_column"
enabled = true                  # CONVENTIONS_SAFETY=off turns every check off
```

Tables whose planner estimate is at most ``threshold_rows`` are exempt from the
size-based checks: on them the dangerous lock is held for milliseconds.

Revisions up to ``[tool.conventions.harness] legacy_until`` (the head when the project
adopted the conventions) are not checked either: they were written, reviewed and applied
in production before the conventions existed, their files cannot be edited any more, and
refusing them only stops a fresh database (CI, a new developer) from being built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conventions.errors import InvalidSetting
from conventions.project.config import Setting, lookup

DEFAULT_THRESHOLD = 10_000

# Every check's name, as used in ``disabled`` and in refusal messages.
CHECKS: tuple[str, ...] = (
    "add_column",
    "set_not_null",
    "change_type",
    "create_index",
    "create_unique_constraint",
    "create_primary_key",
    "create_foreign_key",
    "create_check_constraint",
    "rename_table",
    "rename_column",
    "drop_column",
    "drop_table",
    "execute_dml",
)

_OFF = ("0", "false", "no", "off")


@dataclass(frozen=True)
class SafetyConfig:
    enabled: bool = True
    threshold_rows: int = DEFAULT_THRESHOLD
    disabled: frozenset[str] = frozenset()

    def checks(self, name: str) -> bool:
        return self.enabled and name not in self.disabled


def _env_name(setting: Setting) -> str:
    return setting.source.removeprefix("environment ")


def _bool(setting: Setting) -> bool:
    value = setting.value
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (*_OFF, "1", "true", "yes", "on"):
        return value.lower() not in _OFF
    raise InvalidSetting(_env_name(setting), str(value), "true or false")


def _int(setting: Setting) -> int:
    try:
        value = int(setting.value)
    except (TypeError, ValueError):
        value = -1
    if value < 0 or isinstance(setting.value, bool):
        raise InvalidSetting(_env_name(setting), str(setting.value), "a whole number ≥ 0")
    return value


def _names(setting: Setting) -> frozenset[str]:
    raw: Any = setting.value
    names = [n.strip() for n in raw.split(",")] if isinstance(raw, str) else list(raw or [])
    unknown = [n for n in names if n and n not in CHECKS]
    if unknown:
        expected = f"check names among {', '.join(CHECKS)}"
        raise InvalidSetting(_env_name(setting), ", ".join(map(str, unknown)), expected)
    return frozenset(n for n in names if n)


def load(root: Path) -> SafetyConfig:
    """Read the settings (the environment first, then pyproject.toml, then defaults)."""
    return SafetyConfig(
        enabled=_bool(lookup("safety.enabled", root=root, env="CONVENTIONS_SAFETY", default=True)),
        threshold_rows=_int(
            lookup(
                "safety.threshold_rows",
                root=root,
                env="CONVENTIONS_SAFETY_THRESHOLD_ROWS",
                default=DEFAULT_THRESHOLD,
            )
        ),
        disabled=_names(
            lookup("safety.disabled", root=root, env="CONVENTIONS_SAFETY_DISABLED", default=())
        ),
    )


def legacy_revisions(script: Any, root: Path) -> tuple[str | None, frozenset[str]]:
    """Return ``legacy_until`` as configured and every revision at or below it.

    ``script`` is Alembic's ``ScriptDirectory``; the setting names a revision id or a
    file stem, as the harness reads it. Unset, or naming no revision: nothing is legacy
    (the harness reports a stale name).
    """
    name = lookup("harness.legacy_until", root=root).value
    if not isinstance(name, str) or not name.strip():
        return None, frozenset()
    name = name.strip()
    for found in script.walk_revisions():
        if name in (found.revision, Path(found.path).stem):
            below = script.iterate_revisions(found.revision, "base")
            return name, frozenset(item.revision for item in below)
    return name, frozenset()
