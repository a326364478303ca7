"""Every ``[tool.conventions]`` setting a project can give: key, variable, default, meaning.

``python -m conventions config`` prints this table resolved (value and where it came
from); the features read the same keys through :func:`conventions.project.config.lookup`.
Add a key here when a feature starts reading one, so ``config`` can show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Key:
    key: str
    env: str | None
    default: Any
    help: str


KEYS: tuple[Key, ...] = (
    Key(
        "metadata",
        "CONVENTIONS_METADATA",
        None,
        "the models' MetaData as module:attr (a MetaData, declarative base, registry or "
        "Flask-SQLAlchemy db); unset: what env.py hands run(), else app.models",
    ),
    Key(
        "alembic_config",
        "CONVENTIONS_ALEMBIC_CONFIG",
        None,
        "the project's alembic.ini when not at the root or in migrations/",
    ),
    Key(
        "lint.paths",
        "CONVENTIONS_LINT_PATHS",
        ["app/models"],
        "model paths the lint reads besides the migrations",
    ),
    Key("lint.select", "CONVENTIONS_LINT_SELECT", ["HSE"], "lint codes (or prefixes) checked"),
    Key("lint.ignore", "CONVENTIONS_LINT_IGNORE", [], "lint codes (or prefixes) not checked"),
    Key("lint.per-file-ignores", None, {}, "glob -> codes not checked in matching files"),
    Key(
        "lint.baseline",
        "CONVENTIONS_LINT_BASELINE",
        ".conventions-lint-baseline.json",
        "the lint baseline file (findings accepted at adoption)",
    ),
    Key("lock.lock_timeout", "CONVENTIONS_LOCK_TIMEOUT", "2s", "lock_timeout per statement"),
    Key(
        "lock.statement_timeout",
        "CONVENTIONS_STATEMENT_TIMEOUT",
        "1h",
        "statement_timeout per statement",
    ),
    Key("lock.retries", "CONVENTIONS_LOCK_RETRIES", 4, "retries after a lock timeout"),
    Key("lock.retry_backoff", "CONVENTIONS_RETRY_BACKOFF", "1s", "first back-off, doubling"),
    Key(
        "lock.migrator_wait",
        "CONVENTIONS_MIGRATOR_WAIT",
        "60s",
        "how long a second migrator waits for the first",
    ),
    Key("safety.enabled", "CONVENTIONS_SAFETY", True, "the safety check on plain operations"),
    Key(
        "safety.threshold_rows",
        "CONVENTIONS_SAFETY_THRESHOLD_ROWS",
        10_000,
        "tables up to this many rows are exempt from the size-based checks",
    ),
    Key("safety.disabled", "CONVENTIONS_SAFETY_DISABLED", [], "safety checks switched off"),
    Key(
        "harness.generated_rows",
        "CONVENTIONS_HARNESS_GENERATED_ROWS",
        True,
        "whether the harness adds a generated row to every table",
    ),
    Key(
        "harness.legacy_until",
        None,
        None,
        "newest revision written before the conventions (no safety check up to it)",
    ),
    Key("harness.legacy_enums", None, [], "native ENUM types that predate the conventions"),
    Key("harness.tables", None, {}, "per table: generate = false, or fixed values"),
    Key("harness.one_way", None, {}, "known one-way revisions -> reason"),
    Key("harness.data_changes", None, {}, "revision -> what its data migration changes"),
)

# Keys whose value is a table: everything under them belongs to them.
TABLE_KEYS = frozenset(k.key for k in KEYS if isinstance(k.default, dict))
