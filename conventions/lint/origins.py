"""What a project's own names spell: another name for an Enum type, or for ``sqlalchemy``.

Real projects rarely write ``sa.Enum`` in every model. They define ``EnumColumn =
sa.Enum`` (or ``partial(sa.Enum, native_enum=False)``, a function returning
``Column(sa.Enum(...))``, a ``TypeDecorator`` whose ``impl`` is Enum), re-export
SQLAlchemy's ``Enum`` from their own module, or reach every type through a
Flask-SQLAlchemy instance (``db = SQLAlchemy()`` then ``db.Enum``). This module
answers, for a dotted name as written in a module, what it stands for, following
imports within the project (:class:`~conventions.lint.source_tree.SourceTree`) to the
SQLAlchemy origin. Answers are memoised per (module, name): a helper module that
fifty model files import is read once and asked once.
"""

from __future__ import annotations

import ast
from typing import NamedTuple

from conventions.lint.facts import ModuleFacts, dotted
from conventions.lint.source_tree import SourceTree
from conventions.lint.spellings import ENUM_TYPES, EXTERNAL_HEADS, MODULE_PREFIXES

# Flask-SQLAlchemy's extension class: its instances expose every sqlalchemy name.
FLASK_SQLALCHEMY = frozenset(
    {"flask_sqlalchemy.SQLAlchemy", "flask_sqlalchemy.extension.SQLAlchemy"}
)
# A class mixing one of these into an "Enum" base is a Python enum, whatever Enum is.
_MIXINS = frozenset({"str", "int", "float", "bytes"})
_MAX_DEPTH = 10
_NESTED_LIMIT = 3  # Column(mapped_column(Enum(...))): how deep a return value is read


class Origin(NamedTuple):
    """An Enum type (``sqlalchemy.Enum``) or a namespace (``sqlalchemy``) a name stands for."""

    target: str
    native_false: bool = False  # a partial or helper that passes native_enum=False
    via: str = ""  # the project name it was reached through, for the message

    @property
    def is_type(self) -> bool:
        return self.target in ENUM_TYPES


def _known(target: str) -> bool:
    return target in ENUM_TYPES or target in MODULE_PREFIXES


def _extend(origin: Origin | None, rest: str, via: str = "") -> Origin | None:
    if origin is None:
        return None
    target = f"{origin.target}.{rest}" if rest else origin.target
    if not _known(target):
        return None
    return Origin(target, origin.native_false, origin.via or via)


def dotted_origin(
    project: SourceTree, facts: ModuleFacts, name: str, depth: int = 0
) -> Origin | None:
    """Return what ``a.b.c`` (as written in ``facts``' module) stands for, or None."""
    if depth > _MAX_DEPTH:
        return None
    head, _, rest = name.partition(".")
    if head not in facts.aliases:
        local = local_origin(project, facts, head, depth)
        if local is not None:
            return _extend(local, rest)
        if not facts.stars:
            return None
    owner, resolved = project.resolve(facts, name)
    if owner is None:
        return Origin(resolved) if _known(resolved) else None
    first, _, remainder = resolved.partition(".")
    found = local_origin(project, owner, first, depth + 1)
    return _extend(found, remainder, via=f"{owner.name}.{first}")


def local_origin(
    project: SourceTree, facts: ModuleFacts, name: str, depth: int = 0
) -> Origin | None:
    """Return what a name *defined* in ``facts``' module stands for (memoised)."""
    key = (facts.path, name)
    memo = project.origins
    if key in memo:
        return memo[key]
    memo[key] = None  # cycle guard: a name defined through itself is nothing
    found = None
    if depth <= _MAX_DEPTH:
        found = _defined(project, facts, name, depth)
    if found is not None and not found.via:
        found = found._replace(via=f"{facts.name}.{name}")
    memo[key] = found
    return found


def _defined(project: SourceTree, facts: ModuleFacts, name: str, depth: int) -> Origin | None:
    if name in facts.values:  # EnumColumn = sa.Enum / partial(sa.Enum, ...)
        found = dotted_origin(project, facts, facts.values[name], depth + 1)
        if found is not None and name in facts.partial_native_false:
            found = found._replace(native_false=True)
        return found
    if name in facts.instances:  # db = SQLAlchemy(...)
        if is_flask_sqlalchemy(project, facts, facts.instances[name], depth + 1):
            return Origin("sqlalchemy")
        return None
    if name in facts.classes:
        return _class_origin(project, facts, name, depth)
    function = facts.functions.get(name)
    if function is not None:
        return _function_origin(project, facts, function, depth)
    return None


def _class_origin(project: SourceTree, facts: ModuleFacts, name: str, depth: int) -> Origin | None:
    """``class LabeledEnum(sa.Enum)`` or a TypeDecorator with ``impl = sa.Enum``."""
    bases = facts.classes[name]
    if any(base in _MIXINS for base in bases):
        return None  # class Kind(str, Enum): a Python enum, whatever Enum was imported as
    for base in bases:
        found = dotted_origin(project, facts, base, depth + 1)
        if found is not None and found.is_type:
            return found
    impl = facts.impls.get(name)
    if impl is not None:
        found = dotted_origin(project, facts, impl, depth + 1)
        if found is not None and found.is_type:
            return found
    return None


def is_flask_sqlalchemy(
    project: SourceTree, facts: ModuleFacts, callee: str, depth: int = 0
) -> bool:
    """Say whether calling ``callee`` makes a Flask-SQLAlchemy instance (a subclass counts)."""
    if depth > _MAX_DEPTH:
        return False
    owner, resolved = project.resolve(facts, callee)
    if owner is None:
        return resolved in FLASK_SQLALCHEMY
    bases = owner.classes.get(resolved)
    return bool(bases) and any(
        is_flask_sqlalchemy(project, owner, base, depth + 1) for base in bases or ()
    )


def _function_origin(
    project: SourceTree,
    facts: ModuleFacts,
    function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
    depth: int,
) -> Origin | None:
    """A helper whose return value holds an Enum type: ``return Column(sa.Enum(...))``."""
    if isinstance(function, ast.Lambda):
        return _expression_origin(project, facts, function.body, {}, depth, 0)
    assigned: dict[str, ast.expr] = {}
    returned: list[ast.expr] = []
    _returns(function.body, assigned, returned)
    for value in returned:
        found = _expression_origin(project, facts, value, assigned, depth, 0)
        if found is not None:
            return found
    return None


def _returns(body: list[ast.stmt], assigned: dict[str, ast.expr], out: list[ast.expr]) -> None:
    """Collect return values and simple local assignments, statements only."""
    for stmt in body:
        if isinstance(stmt, ast.Return):
            if stmt.value is not None:
                out.append(stmt.value)
        elif isinstance(stmt, ast.Assign):
            targets = stmt.targets
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                assigned[targets[0].id] = stmt.value
        elif type(stmt) in (ast.If, ast.With, ast.Try, ast.For, ast.While):
            for field in ("body", "orelse", "finalbody"):
                nested = getattr(stmt, field, None)
                if nested:
                    _returns(nested, assigned, out)
            for handler in getattr(stmt, "handlers", ()):
                _returns(handler.body, assigned, out)


def _expression_origin(
    project: SourceTree,
    facts: ModuleFacts,
    node: ast.expr,
    assigned: dict[str, ast.expr],
    depth: int,
    level: int,
) -> Origin | None:
    if isinstance(node, ast.Name | ast.Attribute):
        name = dotted(node)
        found = dotted_origin(project, facts, name, depth + 1) if name else None
        if (
            found is None
            and isinstance(node, ast.Name)
            and node.id in assigned
            and level < _NESTED_LIMIT
        ):
            value = assigned.pop(node.id)
            return _expression_origin(project, facts, value, assigned, depth, level + 1)
        return found if found is not None and found.is_type else None
    if not isinstance(node, ast.Call) or level > _NESTED_LIMIT:
        return None
    found = _expression_origin(project, facts, node.func, assigned, depth, level)
    if found is not None:
        native_false = any(
            kw.arg == "native_enum"
            and isinstance(kw.value, ast.Constant)
            and kw.value.value is False
            for kw in node.keywords
        )
        return found._replace(native_false=found.native_false or native_false)
    for arg in (*node.args, *(kw.value for kw in node.keywords)):
        found = _expression_origin(project, facts, arg, assigned, depth, level + 1)
        if found is not None:
            return found
    return None


def module_spellings(project: SourceTree, facts: ModuleFacts) -> frozenset[str]:
    """The names a project module defines that spell an Enum type or a namespace (memoised)."""
    known = project.spellings.get(facts.path)
    if known is None:
        project.spellings[facts.path] = frozenset()  # cycle guard: two modules star each other
        names = (*facts.values, *facts.instances, *facts.functions, *facts.classes)
        found = {n for n in names if local_origin(project, facts, n) is not None}
        for name, target in facts.aliases.items():  # re-exports: from .extensions import db
            if name.startswith("_") or target.partition(".")[0] in EXTERNAL_HEADS:
                if target in ENUM_TYPES or target in MODULE_PREFIXES:
                    found.add(name)
                continue
            if dotted_origin(project, facts, name) is not None:
                found.add(name)
        for star in facts.stars:  # from .base import *: what that module spells, too
            owner = project.module(star, facts) if star not in MODULE_PREFIXES else None
            if owner is not None and owner is not facts:
                found |= module_spellings(project, owner)
        known = frozenset(found)
        project.spellings[facts.path] = known
    return known
