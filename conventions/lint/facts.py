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
_TYPE_CHECKING = frozenset({"TYPE_CHECKING", "typing.TYPE_CHECKING"})
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
    # class -> (key, what it maps to) as written; None for a value that is not a name
    annotation_maps: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    # Module-level names that may spell an Enum type another way (resolved lazily by
    # conventions.lint.origins): ``X = sa.Enum`` / ``X = partial(sa.Enum, ...)``
    values: dict[str, str] = field(default_factory=dict)
    partial_native_false: set[str] = field(default_factory=set)
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda] = field(
        default_factory=dict
    )
    instances: dict[str, str] = field(default_factory=dict)  # ``db = SQLAlchemy()``: name -> callee
    impls: dict[str, str] = field(default_factory=dict)  # TypeDecorator class -> its ``impl``
    table_classes: set[str] = field(default_factory=set)  # ``class X(SQLModel, table=True)``


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
    local: bool = False,
) -> None:
    """Fill ``facts`` from a statement list; collect class-body annotated lines.

    ``local``: inside a function, where only imports count (a function-local
    ``kind = sa.Enum`` is not a module's name for anything).
    """
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
                for keyword in stmt.keywords:  # type: ignore[attr-defined]
                    if keyword.arg == "table" and _is_true(keyword.value):
                        facts.table_classes.add(stmt.name)  # type: ignore[attr-defined]
            gather(stmt.body, facts, mapped=mapped, cls=stmt.name, local=local)  # type: ignore[attr-defined]
        elif kind is ast.AnnAssign:
            target = stmt.target  # type: ignore[attr-defined]
            if type(target) is ast.Name:
                if cls is not None and mapped is not None:
                    mapped.append((cls, stmt))  # type: ignore[arg-type]
                if target.id == "type_annotation_map" and cls is not None:
                    _annotation_map(stmt.value, facts, cls)  # type: ignore[attr-defined]
                elif cls is None and not local and stmt.value is not None:  # type: ignore[attr-defined]
                    _module_value(target.id, stmt.value, facts)  # type: ignore[attr-defined]
        elif kind is ast.Assign:
            targets = stmt.targets  # type: ignore[attr-defined]
            if len(targets) == 1 and type(targets[0]) is ast.Name:
                name = targets[0].id
                if name == "type_annotation_map" and cls is not None:
                    _annotation_map(stmt.value, facts, cls)  # type: ignore[attr-defined]
                elif name == "impl" and cls is not None:
                    value = stmt.value  # type: ignore[attr-defined]
                    impl = dotted(value.func if type(value) is ast.Call else value)
                    if impl:
                        facts.impls[cls] = impl
                elif cls is None and not local:
                    _module_value(name, stmt.value, facts)  # type: ignore[attr-defined]
        elif kind is ast.FunctionDef or kind is ast.AsyncFunctionDef:
            if cls is None and not local:
                facts.functions[stmt.name] = stmt  # type: ignore[attr-defined,assignment]
            gather(stmt.body, facts, local=True)  # type: ignore[attr-defined]
        elif kind is ast.If and dotted(stmt.test) in _TYPE_CHECKING:  # type: ignore[attr-defined,arg-type]
            # Annotations for type checkers only: the column is defined elsewhere (else:).
            gather(stmt.body, facts, mapped=None, cls=cls, local=local)  # type: ignore[attr-defined]
            gather(stmt.orelse, facts, mapped=mapped, cls=cls, local=local)  # type: ignore[attr-defined]
        else:
            for name in _NESTED:
                nested = getattr(stmt, name, None)
                if nested:
                    gather(nested, facts, mapped=mapped, cls=cls, local=local)
            for handler in getattr(stmt, "handlers", ()):
                gather(handler.body, facts, mapped=mapped, cls=cls, local=local)


def _is_true(node: ast.expr) -> bool:
    return type(node) is ast.Constant and node.value is True  # type: ignore[attr-defined]


def _annotation_map(value: ast.expr | None, facts: ModuleFacts, cls: str) -> None:
    """Record each type_annotation_map key with what it maps to, as written.

    Whether the value is an Enum (``saEnum(...)`` for ``Enum as saEnum``, a project
    alias) is answered through the imports later, not by its spelling here.
    """
    if type(value) is not ast.Dict:
        return
    keys = facts.annotation_maps.setdefault(cls, [])
    for key, mapped_to in zip(value.keys, value.values, strict=True):  # type: ignore[attr-defined]
        name = dotted(key) if key is not None else None
        target = mapped_to.func if type(mapped_to) is ast.Call else mapped_to  # type: ignore[attr-defined]
        if name:
            keys.append((name, dotted(target)))


_PARTIALS = frozenset({"partial", "functools.partial"})


def _module_value(name: str, value: ast.expr, facts: ModuleFacts) -> None:
    """Record what a module-level assignment may make ``name``: an enum class, another
    spelling of a type (``EnumColumn = sa.Enum``, ``partial(sa.Enum, ...)``, a lambda),
    or an instance (``db = SQLAlchemy()``). Only names and callees are kept."""
    kind = type(value)
    if kind is ast.Name or kind is ast.Attribute:
        target = dotted(value)
        if target:
            facts.values[name] = target
        return
    if kind is ast.Lambda:
        facts.functions[name] = value  # type: ignore[assignment]
        return
    if kind is not ast.Call:
        return
    func = dotted(value.func)  # type: ignore[attr-defined]
    if not func:
        return
    if func.rpartition(".")[2] in _PY_ENUM_FACTORIES:
        facts.classes[name] = [func]  # Status = enum.Enum("Status", "A B")
    elif func in _PARTIALS and value.args:  # type: ignore[attr-defined]
        target = dotted(value.args[0])  # type: ignore[attr-defined]
        if target:
            facts.values[name] = target
            if any(
                kw.arg == "native_enum"
                and type(kw.value) is ast.Constant
                and kw.value.value is False
                for kw in value.keywords  # type: ignore[attr-defined]
            ):
                facts.partial_native_false.add(name)
    else:
        facts.instances[name] = func
