"""What a module binds, read from its statements only (never its expressions).

The cross-module questions the lint asks ("is ``Status`` an enum.Enum?", "does
this model's base map it to another type?") need only imports, class bases and
``type_annotation_map`` keys. Walking statements and skipping expression trees
keeps the pass close to the cost of ``ast.parse`` itself.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

_PY_ENUM_FACTORIES = frozenset({"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag"})
_NESTED = ("body", "orelse", "finalbody")
# Statements that hold no import, class or assignment the lint asks about.
_LEAVES = frozenset(
    {
        ast.Expr,
        ast.Return,
        ast.Pass,
        ast.AugAssign,
        ast.Raise,
        ast.Delete,
        ast.Assert,
        ast.Break,
        ast.Continue,
        ast.Global,
        ast.Nonlocal,
    }
)


@dataclass
class ModuleFacts:
    path: str  # absolute
    name: str  # dotted module name, relative to ``root``
    root: str  # the directory imports of ``name`` are relative to
    is_package: bool = False
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> imported dotted name
    stars: list[str] = field(default_factory=list)  # modules star-imported, in order
    classes: dict[str, list[str]] = field(default_factory=dict)  # class -> bases as written
    annotation_maps: dict[str, list[str]] = field(default_factory=dict)  # class -> keys


def dotted(node: ast.AST) -> str | None:
    """Return ``a.b.c`` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)  # type: ignore[attr-defined]
        node = node.value  # type: ignore[attr-defined]
    if type(node) is not ast.Name:
        return None
    parts.append(node.id)  # type: ignore[attr-defined]
    return ".".join(reversed(parts))


def absolute_module(facts: ModuleFacts, module: str | None, level: int) -> str:
    """Resolve ``from ..x import y`` against the importing module's package."""
    if not level:
        return module or ""
    package = facts.name if facts.is_package else facts.name.rpartition(".")[0]
    for _ in range(level - 1):
        package = package.rpartition(".")[0]
    if module:
        return f"{package}.{module}" if package else module
    return package


def gather(
    body: list[ast.stmt],
    facts: ModuleFacts,
    *,
    mapped: list[tuple[str, ast.AnnAssign]] | None = None,
    cls: str | None = None,
) -> None:
    """Fill ``facts`` from a statement list; collect class-body ``Mapped[...]`` lines."""
    for stmt in body:
        kind = type(stmt)
        if kind in _LEAVES:
            continue
        if kind is ast.ImportFrom:
            base = absolute_module(facts, stmt.module, stmt.level)  # type: ignore[attr-defined]
            for alias in stmt.names:  # type: ignore[attr-defined]
                if alias.name == "*":
                    facts.stars.append(base)
                else:
                    facts.aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif kind is ast.Import:
            for alias in stmt.names:  # type: ignore[attr-defined]
                if alias.asname:
                    facts.aliases[alias.asname] = alias.name
                else:
                    head = alias.name.partition(".")[0]
                    facts.aliases[head] = head
        elif kind is ast.ClassDef:
            bases = [name for name in map(dotted, stmt.bases) if name]  # type: ignore[attr-defined]
            if cls is None:
                facts.classes[stmt.name] = bases  # type: ignore[attr-defined]
            gather(stmt.body, facts, mapped=mapped, cls=stmt.name)  # type: ignore[attr-defined]
        elif kind is ast.AnnAssign:
            target = stmt.target  # type: ignore[attr-defined]
            if type(target) is ast.Name:
                if cls is not None and mapped is not None and type(stmt.annotation) is not ast.Name:  # type: ignore[attr-defined]
                    mapped.append((cls, stmt))  # type: ignore[arg-type]
                if target.id == "type_annotation_map" and cls is not None:
                    _annotation_map(stmt.value, facts, cls)  # type: ignore[attr-defined]
        elif kind is ast.Assign:
            targets = stmt.targets  # type: ignore[attr-defined]
            if len(targets) == 1 and type(targets[0]) is ast.Name:
                name = targets[0].id
                if name == "type_annotation_map" and cls is not None:
                    _annotation_map(stmt.value, facts, cls)  # type: ignore[attr-defined]
                elif cls is None:
                    _functional_enum(name, stmt.value, facts)  # type: ignore[attr-defined]
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            gather(stmt.body, facts)  # type: ignore[attr-defined]
        else:
            for name in _NESTED:
                nested = getattr(stmt, name, None)
                if nested:
                    gather(nested, facts, mapped=mapped, cls=cls)
            for handler in getattr(stmt, "handlers", ()):
                gather(handler.body, facts, mapped=mapped, cls=cls)


def _annotation_map(value: ast.expr | None, facts: ModuleFacts, cls: str) -> None:
    """Record the keys a class's type_annotation_map sends somewhere other than Enum."""
    if type(value) is not ast.Dict:
        return
    keys = facts.annotation_maps.setdefault(cls, [])
    for key, mapped_to in zip(value.keys, value.values, strict=True):  # type: ignore[attr-defined]
        name = dotted(key) if key is not None else None
        target = mapped_to.func if type(mapped_to) is ast.Call else mapped_to  # type: ignore[attr-defined]
        leaf = (dotted(target) or "").rpartition(".")[2]
        if name and leaf not in ("Enum", "ENUM"):
            keys.append(name)


def _functional_enum(name: str, value: ast.expr, facts: ModuleFacts) -> None:
    """``Status = enum.Enum("Status", "A B")`` is an enum class too."""
    if type(value) is ast.Call:
        func = dotted(value.func)  # type: ignore[attr-defined]
        if func and func.rpartition(".")[2] in _PY_ENUM_FACTORIES:
            facts.classes[name] = [func]
