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
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
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
        if type(stmt) in _LEAVES:
            continue
        if isinstance(stmt, ast.ImportFrom):
            base = absolute_module(facts, stmt.module, stmt.level)
            for alias in stmt.names:
                if alias.name == "*":
                    facts.stars.append(base)
                else:
                    facts.aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    facts.aliases[alias.asname] = alias.name
                else:
                    head = alias.name.partition(".")[0]
                    facts.aliases[head] = head
        elif isinstance(stmt, ast.ClassDef):
            bases = [name for name in map(dotted, stmt.bases) if name]
            if cls is None:
                facts.classes[stmt.name] = bases
                for keyword in stmt.keywords:
                    if keyword.arg == "table" and _is_true(keyword.value):
                        facts.table_classes.add(stmt.name)
            gather(stmt.body, facts, mapped=mapped, cls=stmt.name, local=local)
        elif isinstance(stmt, ast.AnnAssign):
            target = stmt.target
            if isinstance(target, ast.Name):
                if cls is not None and mapped is not None:
                    mapped.append((cls, stmt))
                if target.id == "type_annotation_map" and cls is not None:
                    _annotation_map(stmt.value, facts, cls)
                elif cls is None and not local and stmt.value is not None:
                    _module_value(target.id, stmt.value, facts)
        elif isinstance(stmt, ast.Assign):
            targets = stmt.targets
            if len(targets) == 1 and isinstance(targets[0], ast.Name):
                name = targets[0].id
                if name == "type_annotation_map" and cls is not None:
                    _annotation_map(stmt.value, facts, cls)
                elif name == "impl" and cls is not None:
                    value = stmt.value
                    impl = dotted(value.func if isinstance(value, ast.Call) else value)
                    if impl:
                        facts.impls[cls] = impl
                elif cls is None and not local:
                    _module_value(name, stmt.value, facts)
        elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            if cls is None and not local:
                facts.functions[stmt.name] = stmt
            gather(stmt.body, facts, local=True)
        elif isinstance(stmt, ast.If) and dotted(stmt.test) in _TYPE_CHECKING:
            # Annotations for type checkers only: the column is defined elsewhere (else:).
            gather(stmt.body, facts, mapped=None, cls=cls, local=local)
            gather(stmt.orelse, facts, mapped=mapped, cls=cls, local=local)
        else:
            for name in _NESTED:
                nested = getattr(stmt, name, None)
                if nested:
                    gather(nested, facts, mapped=mapped, cls=cls, local=local)
            for handler in getattr(stmt, "handlers", ()):
                gather(handler.body, facts, mapped=mapped, cls=cls, local=local)


def _is_true(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _annotation_map(value: ast.expr | None, facts: ModuleFacts, cls: str) -> None:
    """Record each type_annotation_map key with what it maps to, as written.

    Whether the value is an Enum (``saEnum(...)`` for ``Enum as saEnum``, a project
    alias) is answered through the imports later, not by its spelling here.
    """
    if not isinstance(value, ast.Dict):
        return
    keys = facts.annotation_maps.setdefault(cls, [])
    for key, mapped_to in zip(value.keys, value.values, strict=True):
        name = dotted(key) if key is not None else None
        target = mapped_to.func if isinstance(mapped_to, ast.Call) else mapped_to
        if name:
            keys.append((name, dotted(target)))


_PARTIALS = frozenset({"partial", "functools.partial"})


def _module_value(name: str, value: ast.expr, facts: ModuleFacts) -> None:
    """Record what a module-level assignment may make ``name``: an enum class, another
    spelling of a type (``EnumColumn = sa.Enum``, ``partial(sa.Enum, ...)``, a lambda),
    or an instance (``db = SQLAlchemy()``). Only names and callees are kept."""
    if isinstance(value, ast.Name | ast.Attribute):
        target = dotted(value)
        if target:
            facts.values[name] = target
        return
    if isinstance(value, ast.Lambda):
        facts.functions[name] = value
        return
    if not isinstance(value, ast.Call):
        return
    func = dotted(value.func)
    if not func:
        return
    if func.rpartition(".")[2] in _PY_ENUM_FACTORIES:
        facts.classes[name] = [func]  # Status = enum.Enum("Status", "A B")
    elif func in _PARTIALS and value.args:
        target = dotted(value.args[0])
        if target:
            facts.values[name] = target
            if any(
                kw.arg == "native_enum"
                and isinstance(kw.value, ast.Constant)
                and kw.value.value is False
                for kw in value.keywords
            ):
                facts.partial_native_false.add(name)
    else:
        facts.instances[name] = func
