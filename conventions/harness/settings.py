"""What a project tells the harness: ``[tool.conventions.harness]`` in ``pyproject.toml``.

A long real history needs a few facts only its team knows: which tables the
generated rows must leave alone (a data migration that a made-up value would
break), which native ENUMs are legacy, which revisions are known to be one-way
(and why), which data a revision is meant to change. They live in the project's
configuration, read through :mod:`conventions.project.config` like every other
setting, and a test suite can reshape them in Python by overriding the
``migration_harness_settings`` fixture (see :mod:`conventions.harness.plugin`).

Every entry is validated when it is read: a misspelt key or a reason left empty is
an error naming the key, never a silently ignored line (a team that believes it
allow-listed a revision must see the harness use that list).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from conventions.errors import ConventionsError
from conventions.project.config import TABLE, lookup

SECTION = "harness"
#: a table's intended change: the listed columns' values, or every row ("rows")
ALL_ROWS = "rows"

#: ``shape(table, row) -> row | None``: adjust a generated row, or None to insert none
RowShaper = Callable[[str, dict[str, object]], "dict[str, object] | None"]
DataChange = Mapping[str, "tuple[str, ...] | str"]


class HarnessConfigError(ConventionsError):
    """``[tool.conventions.harness]`` holds a value the harness cannot use."""

    def __init__(self, key: str, problem: str, *, example: str) -> None:
        self.key = key
        super().__init__(
            f"[{TABLE}.{SECTION}] {key}: {problem}.",
            hints=[f"For example: {example}"],
        )


@dataclass(frozen=True)
class TableRows:
    """How the harness fills one table: ``[tool.conventions.harness.tables.NAME]``."""

    generate: bool = True
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class HarnessSettings:
    """Everything the harness reads from the project, validated."""

    generated_rows: bool = True
    tables: Mapping[str, TableRows] = field(default_factory=dict)
    legacy_enums: tuple[str, ...] = ()
    legacy_until: str | None = None  # the newest revision written before the conventions
    one_way: Mapping[str, str] = field(default_factory=dict)  # revision -> reason
    data_changes: Mapping[str, DataChange] = field(default_factory=dict)  # revision -> change
    shape: RowShaper | None = None

    @classmethod
    def load(cls, root: Path) -> HarnessSettings:
        """Read ``[tool.conventions.harness]`` of ``root/pyproject.toml`` (defaults if absent)."""

        def get(key: str, default: Any, env: str | None = None) -> Any:
            return lookup(f"{SECTION}.{key}", root=root, env=env, default=default).value

        return cls(
            generated_rows=_flag(
                get("generated_rows", True, "CONVENTIONS_HARNESS_GENERATED_ROWS"),
                "generated_rows",
            ),
            tables=_tables(get("tables", {})),
            legacy_enums=_names(get("legacy_enums", [])),
            legacy_until=_revision(get("legacy_until", None)),
            one_way=_one_way(get("one_way", {})),
            data_changes=_data_changes(get("data_changes", {})),
        )

    def replace(self, **changes: Any) -> HarnessSettings:
        """Return a copy with ``changes`` (for a conftest that adjusts the settings)."""
        return replace(self, **changes)

    def rule(self, schema: str, name: str) -> TableRows:
        """Return the rule for ``schema.name`` (or bare ``name`` in ``public``)."""
        found = self.tables.get(f"{schema}.{name}")
        if found is None and schema == "public":
            found = self.tables.get(name)
        return found or TableRows()

    def generates(self, schema: str, name: str) -> bool:
        return self.generated_rows and self.rule(schema, name).generate

    def is_legacy_enum(self, qualified: str) -> bool:
        """Return True for a type named in ``legacy_enums`` (``name`` or ``schema.name``)."""
        schema, _, name = qualified.rpartition(".")
        return qualified in self.legacy_enums or (
            name in self.legacy_enums and schema in ("", "public")
        )

    def fingerprint(self) -> str:
        """Return what shapes the rows in the templates (part of their cache key)."""
        tables = sorted((k, v.generate, sorted(v.values.items())) for k, v in self.tables.items())
        shaper = getattr(self.shape, "__qualname__", "") if self.shape else ""
        return repr((self.generated_rows, tables, shaper))


def _flag(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise HarnessConfigError(
        key, f"expected true or false, got {value!r}", example=f"{key} = false"
    )


def _revision(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and value.strip()):
        return value.strip() if value else None
    raise HarnessConfigError(
        "legacy_until",
        f"expected a revision id or file stem, got {value!r}",
        example='legacy_until = "3f2a1b9c0d4e"  # the head when the conventions were adopted',
    )


def _names(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise HarnessConfigError(
            "legacy_enums",
            f"expected a list of type names, got {value!r}",
            example='legacy_enums = ["order_status", "billing.plan_kind"]',
        )
    return tuple(value)


def _mapping(value: Any, key: str, expected: str, example: str) -> Mapping[str, Any]:
    """Return ``value`` if it is a TOML table; otherwise say which key should be one."""
    if not isinstance(value, Mapping):
        raise HarnessConfigError(key, f"expected {expected}", example=example)
    return value


def _tables(value: Any) -> dict[str, TableRows]:
    example = (
        '[tool.conventions.harness.tables.services]\ngenerate = false  # or values = {kind = "web"}'
    )
    rules = {}
    for name, rule in _mapping(value, "tables", "a table of tables", example).items():
        key = f"tables.{name}"
        rule = _mapping(rule, key, "a table", example)
        unknown = set(rule) - {"generate", "values"}
        if unknown:
            raise HarnessConfigError(
                key, f"unknown key(s) {', '.join(sorted(unknown))}", example=example
            )
        values = _mapping(rule.get("values", {}), f"{key}.values", "a table", example)
        rules[str(name)] = TableRows(
            generate=_flag(rule.get("generate", True), f"{key}.generate"), values=dict(values)
        )
    return rules


def _one_way(value: Any) -> dict[str, str]:
    example = (
        '[tool.conventions.harness.one_way]\n"3f2a1b9c0d4e" = "downgrade drops an index '
        'CONCURRENTLY inside a transaction (ticket 812)"'
    )
    value = _mapping(value, "one_way", "a table: revision = reason", example)
    for revision, reason in value.items():
        if not isinstance(reason, str) or not reason.strip():
            raise HarnessConfigError(
                f"one_way.{revision}",
                "every one-way revision needs its reason (why, and when it gets fixed)",
                example=example,
            )
    return {str(k): v.strip() for k, v in value.items()}


def _data_changes(value: Any) -> dict[str, DataChange]:
    example = (
        '[tool.conventions.harness.data_changes]\n"3f2a1b9c0d4e" = {services = ["status"], '
        'tags = "rows"}'
    )
    return {
        str(rev): parse_data_change(change, f"data_changes.{rev}", example=example)
        for rev, change in _mapping(value, "data_changes", "a table of tables", example).items()
    }


def parse_data_change(value: Any, key: str, *, example: str) -> DataChange:
    """Validate one declaration: ``{table: [columns] | "rows"}``."""
    if not isinstance(value, Mapping):
        raise HarnessConfigError(
            key, f"expected {{table: [columns] or 'rows'}}, got {value!r}", example=example
        )
    change: dict[str, tuple[str, ...] | str] = {}
    for table, what in value.items():
        if what == ALL_ROWS:
            change[str(table)] = ALL_ROWS
        elif isinstance(what, (list, tuple)) and all(isinstance(c, str) for c in what):
            change[str(table)] = tuple(what)
        else:
            raise HarnessConfigError(
                f"{key}.{table}",
                f'expected a list of column names or "{ALL_ROWS}", got {what!r}',
                example=example,
            )
    return change
