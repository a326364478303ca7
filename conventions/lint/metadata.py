"""``lint --models MODULE``: import the models and inspect the metadata they register.

The static pass reads spellings; this reads what SQLAlchemy actually built, so an
Enum made by a helper at import time (``getattr(sa, name)(...)``, a TypeDecorator
whose impl is Enum, a Variant) is caught too. Findings point at the model
attribute's source line when the class has one.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

from sqlalchemy import Column, MetaData, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapper, registry
from sqlalchemy.types import ARRAY, Enum, TypeDecorator, TypeEngine

from conventions.errors import ModelsImportFailed
from conventions.lint import sql
from conventions.lint.report import Comments, Finding, display_path, suppressed

_DIALECT = postgresql.dialect()


def importable(module: str, *, roots: list[Path]) -> bool:
    """Say whether ``module`` can be found (for a usage error before importing it)."""
    _extend_path(roots)
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def lint_models(module: str, *, roots: list[Path]) -> list[Finding]:
    """Import ``module`` and report every Enum-typed column in the metadata it registers."""
    _extend_path(roots)
    try:
        imported = importlib.import_module(module)
    except Exception as err:  # the models' own import error, reported with its message
        raise ModelsImportFailed(module=module, reason=f"{type(err).__name__}: {err}") from err
    findings: list[Finding] = []
    modules = list(_modules(imported, module))
    owners = _mapped_classes(modules)
    for metadata in _metadatas(modules):
        for table in metadata.tables.values():
            for column in table.columns:
                found = enum_type(column.type)
                finding = found and _column_finding(modules, owners, table, column, found)
                if finding:
                    findings.append(finding)
            findings.extend(_ddl_findings(modules, table))
        findings.extend(_ddl_findings(modules, metadata))
    return sorted(set(findings))


def enum_type(type_: TypeEngine[Any], depth: int = 0) -> TypeEngine[Any] | None:
    """Return the Enum inside a column type (itself, an impl, an item, a variant) or None."""
    if depth > 8:
        return None
    if isinstance(type_, Enum):
        return type_
    inner: list[TypeEngine[Any]] = []
    if isinstance(type_, TypeDecorator):
        inner.append(type_.impl_instance)
        try:
            inner.append(type_.load_dialect_impl(_DIALECT))
        except Exception:  # a user's decorator may not expect a bare dialect; impl suffices
            pass
    if isinstance(type_, ARRAY):
        inner.append(type_.item_type)
    inner.extend(getattr(type_, "_variant_mapping", {}).values())
    for candidate in inner:
        found = enum_type(candidate, depth + 1)
        if found is not None:
            return found
    return None


def _extend_path(roots: list[Path]) -> None:
    """Let ``app.models`` import from the project root, as ``python -m`` would."""
    for root in reversed(roots):
        text = str(root)
        if text not in sys.path:
            sys.path.insert(0, text)


def _modules(imported: ModuleType, name: str) -> Iterator[ModuleType]:
    yield imported
    prefix = name + "."
    for key, value in sorted(sys.modules.items()):
        if key.startswith(prefix) and isinstance(value, ModuleType):
            yield value


_T = TypeVar("_T")


def _held(modules: list[ModuleType], kind: type[_T], attribute: str) -> list[_T]:
    """Return each distinct ``kind`` the modules hold, directly or as ``value.<attribute>``."""
    found: dict[int, _T] = {}
    for module in modules:
        for value in list(vars(module).values()):
            held = value if isinstance(value, kind) else getattr(value, attribute, None)
            if isinstance(held, kind):
                found.setdefault(id(held), held)
    return list(found.values())


def _metadatas(modules: list[ModuleType]) -> list[MetaData]:
    """Every MetaData the package's modules hold, directly or through a declarative base."""
    return _held(modules, MetaData, "metadata")


def _mapped_classes(modules: list[ModuleType]) -> dict[tuple[int, str], tuple[type, str]]:
    """Map (table id, column key) to (mapped class, attribute name)."""
    registries = _held(modules, registry, "registry")
    owners: dict[tuple[int, str], tuple[type, str]] = {}
    for reg in registries:
        for mapper in reg.mappers:
            _record_mapper(mapper, owners)
    return owners


def _record_mapper(mapper: Mapper[Any], owners: dict[tuple[int, str], tuple[type, str]]) -> None:
    for prop in mapper.column_attrs:
        for column in prop.columns:
            table = getattr(column, "table", None)
            if isinstance(table, Table):
                owners.setdefault((id(table), column.key), (mapper.class_, prop.key))


def _column_finding(
    modules: list[ModuleType],
    owners: dict[tuple[int, str], tuple[type, str]],
    table: Table,
    column: Column[Any],
    found: TypeEngine[Any],
) -> Finding | None:
    owner = owners.get((id(table), column.key))
    if owner is not None:
        path, line, col, lines = _where(modules[0], *owner)
    else:
        path, line, col, lines = _defined_at(modules, table, table.name)
    native = "a native ENUM" if getattr(found, "native_enum", True) else "names, not values"
    message = (
        f"column {table.fullname}.{column.name} is {found!r} ({native}) in the metadata; "
        "use conventions.Choice"
    )
    if suppressed("HSE009", lines):
        return None
    return Finding(path, line, col, "HSE009", message)


def _defined_at(
    modules: list[ModuleType], target: object, name: str | None
) -> tuple[str, int, int, list[str]]:
    """Locate a Core Table (or MetaData) in a module holding it: ``Table("name"``.

    A package may re-export the table; the module whose source has the Table()
    call with its quoted name is the one that defines it.
    """
    holders = [m for m in modules if any(v is target for v in vars(m).values())] or modules[:1]
    call = re.compile(rf"""Table\(\s*(['"]){re.escape(name)}\1""") if name else None
    for holder in holders:
        path = Path(holder.__file__ or holder.__name__).resolve()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        match = call.search(text) if call else None
        if match:
            line = text.count("\n", 0, match.start()) + 1
            col = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
            return display_path(path), line, col, Comments(text).on(line)
    first = Path(holders[0].__file__ or holders[0].__name__).resolve()
    return display_path(first), 1, 1, []


def _where(module: ModuleType, cls: type, attribute: str) -> tuple[str, int, int, list[str]]:
    """Return (path, line, col, noqa comments) of a class attribute, or the best fallback."""
    fallback = _defined_at([module], None, None)
    try:
        source_lines, start = inspect.getsourcelines(cls)
        path = inspect.getsourcefile(cls)
    except (OSError, TypeError):
        return fallback
    if path is None:
        return fallback
    shown = display_path(Path(path).resolve())
    text = "".join(source_lines)
    indent = len(source_lines[0]) - len(source_lines[0].lstrip())
    source = textwrap.dedent(text)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return shown, start, indent + 1, Comments(text).on(1)
    for node in ast.walk(tree):
        target = _assigned_name(node)
        if target is not None and target[0] == attribute:
            first = node.lineno  # type: ignore[attr-defined]
            last = node.end_lineno or first  # type: ignore[attr-defined]
            comments = Comments(source).on(first, last)
            return shown, start + first - 1, indent + target[1] + 1, comments
    return shown, start, indent + 1, Comments(source).on(1)


def _assigned_name(node: ast.AST) -> tuple[str, int] | None:
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.target.col_offset
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        if isinstance(target, ast.Name):
            return target.id, target.col_offset
    return None


def _ddl_findings(modules: list[ModuleType], target: Table | MetaData) -> list[Finding]:
    """CREATE TYPE ... AS ENUM in DDL() listeners attached to a table or the metadata."""
    findings = []
    for event_name in ("before_create", "after_create"):
        for listener in getattr(target.dispatch, event_name):
            statement = getattr(listener, "statement", None)
            if not isinstance(statement, str):
                continue
            for found in sql.create_enum_statements(statement):
                path, line, col, lines = _defined_at(modules, target, getattr(target, "name", None))
                if suppressed("HSE007", lines):
                    continue
                findings.append(
                    Finding(
                        path,
                        line,
                        col,
                        "HSE007",
                        f"DDL listener on {getattr(target, 'fullname', 'the metadata')} runs "
                        f"CREATE TYPE {found.name} AS ENUM; use a VARCHAR column with a named "
                        "CHECK",
                    )
                )
    return findings
