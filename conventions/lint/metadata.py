"""``lint --models MODULE``: import the models and inspect the metadata they register.

The static pass reads spellings; this reads what SQLAlchemy actually built, so an
Enum made by a helper at import time (``getattr(sa, name)(...)``, a TypeDecorator
whose impl is Enum, a Variant) is caught too. Findings point at the model
attribute's source line when the class has one.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import inspect
import re
import sys
import textwrap
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import Column, MetaData, Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapper, registry
from sqlalchemy.types import ARRAY, Enum, TypeDecorator, TypeEngine

from conventions.errors import ModelsImportFailed, NoMetadataFound
from conventions.lint import sql
from conventions.lint.report import Comments, Finding, display_path, suppressed
from conventions.project.metadata import holders
from conventions.project.script_errors import project_frame

_DIALECT = postgresql.dialect()


def find_module(module: str, *, roots: list[Path]) -> bool:
    """Say whether ``module`` (``MODULE`` or ``MODULE:ATTR``) exists, for a usage error.

    Finding ``app.models`` imports ``app``: when that package itself fails (a missing
    dependency, an app context it needs), the project's error is raised as such,
    never reported as "no module named app.models".
    """
    name = module.partition(":")[0]
    _extend_path(roots)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError as err:
        missing = err.name or ""
        if missing and (name == missing or name.startswith(missing + ".")):
            return False  # the module or its own parent package does not exist
        raise _import_failed(name, err, roots) from err
    except Exception as err:  # the parent package's code raised
        raise _import_failed(name, err, roots) from err


def lint_models(module: str, *, roots: list[Path]) -> list[Finding]:
    """Import ``module`` (or ``module:attr``) and report every Enum-typed column it registers.

    Holders of metadata are found by type, never by evaluating a global
    (:mod:`conventions.project.metadata`, shared with env.py and
    status): a Flask ``current_app`` proxy is left alone.
    """
    module, _, attribute = module.partition(":")
    _extend_path(roots)
    try:
        # Their import may print (a missing Redis, a banner): stdout carries findings only.
        with contextlib.redirect_stdout(sys.stderr):
            imported = importlib.import_module(module)
    except Exception as err:  # the project's own error: name its file and line
        raise _import_failed(module, err, roots) from err
    findings: list[Finding] = []
    modules = list(_modules(imported, module))
    found = holders(modules[:1] if attribute else modules, attribute or None)
    if not any(metadata.tables for metadata in found.metadatas.values()):
        label = f"{module}:{attribute}" if attribute else module
        raise NoMetadataFound(module=label, holders=len(found.metadatas))
    owners = _mapped_classes(found.registries.values())
    for metadata in found.metadatas.values():
        for table in metadata.tables.values():
            for column in table.columns:
                found_type = enum_type(column.type)
                finding = found_type and _column_finding(modules, owners, table, column, found_type)
                if finding:
                    findings.append(finding)
            findings.extend(_ddl_findings(modules, table))
        findings.extend(_ddl_findings(modules, metadata))
    return sorted(set(findings))


def _import_failed(module: str, err: BaseException, roots: list[Path]) -> ModelsImportFailed:
    frame = project_frame(err, roots)
    reason = f"{type(err).__name__}: {err}"
    if frame is None:
        return ModelsImportFailed(module=module, reason=reason)
    return ModelsImportFailed(
        module=module,
        reason=reason,
        path=display_path(frame.path),
        line=frame.line,
        code=frame.code,
    )


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


def _mapped_classes(
    registries: Iterable[registry],
) -> dict[tuple[int, str], tuple[type, str]]:
    """Map (table id, column key) to (mapped class, attribute name)."""
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
        if not isinstance(node, ast.stmt):
            continue
        target = _assigned_name(node)
        if target is not None and target[0] == attribute:
            first = node.lineno
            last = node.end_lineno or first
            # Every line of the assignment: the static pass's noqa sits on the Enum's line.
            comments = Comments(source).on(*range(first, last + 1))
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
