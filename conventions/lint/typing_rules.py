"""The implicit ENUM: ``Mapped[Status]`` with no column type (HSE005, HSE006).

SQLAlchemy 2 looks the annotation up in ``type_annotation_map``; for any
``enum.Enum`` subclass (IntEnum, StrEnum and Flag included) and for
``Literal[...]`` the default answer is ``Enum``. SQLModel does the same for a
table field annotated with a Python enum (``status: Status``, no ``sa_type`` /
``sa_column``), including fields a ``table=True`` class inherits from a plain
SQLModel base. Whether ``Status`` is an enum may be answered in another module
(another source root, the repository, an installed library), so a candidate is
recorded here and checked once every linted file has been read; a module found
nowhere is reported once as a notice rather than passed in silence.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conventions.lint.facts import ModuleFacts, dotted
from conventions.lint.report import Finding, suppressed
from conventions.lint.source_tree import SourceTree, Symbol
from conventions.lint.spellings import EXTERNAL_HEADS, LITERAL_NAMES, NOT_A_TYPE, PY_ENUM_BASES

if TYPE_CHECKING:
    from conventions.lint.static import FileScan


@dataclass
class Candidate:
    facts: ModuleFacts
    cls: str
    shown: str
    line: int
    col: int
    type_name: str | None  # as written; None for Literal[...]
    annotation: str
    noqa_comments: list[str]
    sqlmodel: bool = False  # a SQLModel field (no Mapped[]): a column only in a table class

    def check(self, project: SourceTree) -> Finding | None:
        """Return the finding if the annotation really becomes an Enum, else None."""
        code = "HSE006" if self.type_name is None else "HSE005"
        if suppressed(code, self.noqa_comments):
            return None
        overrides = {_key(symbol) for symbol in project.annotation_map_keys(self.facts, self.cls)}
        if self.type_name is None:
            if overrides & {(None, name) for name in LITERAL_NAMES}:
                return None
            message = (
                f"{self.annotation} has no column type, so SQLAlchemy makes it an Enum; "
                "write mapped_column(Choice([...]))"
            )
            return Finding(self.shown, self.line, self.col, code, message)
        if self.sqlmodel and not _is_table_field(project, self.facts, self.cls):
            return None
        if not (project.is_enum(self.facts, self.type_name) or self._enum_elsewhere(project)):
            return None
        symbol = _key(project.resolve(self.facts, self.type_name))
        if symbol in overrides or (None, "enum.Enum") in overrides:
            return None
        name = self.type_name
        if self.sqlmodel:
            message = (
                f"{self.annotation} in a SQLModel table has no sa_type, so SQLModel makes {name} "
                f"(an enum.Enum) a native ENUM; write Field(sa_type=Choice({name}))"
            )
        else:
            message = (
                f"{self.annotation} has no column type, so SQLAlchemy makes {name} (an enum.Enum) "
                f"a native ENUM; write mapped_column(Choice({name}))"
            )
        return Finding(self.shown, self.line, self.col, code, message)

    def _enum_elsewhere(self, project: SourceTree) -> bool:
        """Look for a type no root defines in the repository and installed libraries.

        A module found nowhere is noted once per module (``project.unresolved``).
        """
        assert self.type_name is not None
        owner, resolved = project.resolve(self.facts, self.type_name)
        if owner is not None or resolved in PY_ENUM_BASES or resolved in LITERAL_NAMES:
            return False
        module, _, attr = resolved.rpartition(".")
        if not module or module.partition(".")[0] in EXTERNAL_HEADS:
            return False
        where, found = project.locate(module, self.facts)
        if found is not None:
            return project.is_enum(found, attr)
        if where == "missing":
            project.unresolved.setdefault(module, []).append(f"{self.shown}:{self.line}")
        return False


def _key(symbol: Symbol) -> tuple[object, str]:
    owner, name = symbol
    return (owner.path if owner is not None else None, name)


def _is_table_field(project: SourceTree, facts: ModuleFacts, cls: str) -> bool:
    """A field of a ``table=True`` class, or of a class some table class inherits from."""
    if cls in facts.table_classes:
        return True
    return (facts.path, cls) in project.table_ancestors()


def _sqlmodel_field(scan: FileScan, cls: str, stmt: ast.AnnAssign) -> bool:
    """``status: Status [= default | Field(...)]`` in what may be a SQLModel class."""
    facts = scan.facts
    if cls not in facts.table_classes and not scan.uses_sqlmodel:
        return False
    value = stmt.value
    if type(value) is ast.Call:
        leaf = _leaf(value.func)
        if leaf == "Relationship":
            return False
        if leaf == "Field" and any(kw.arg in ("sa_type", "sa_column") for kw in value.keywords):
            return False
    return True


def mapped_candidate(scan: FileScan, cls: str, stmt: ast.AnnAssign) -> Candidate | None:
    """Return a candidate for ``name: Mapped[X] [= mapped_column(...)]`` with no type,
    or for a SQLModel field ``name: X [= Field(...)]`` with no ``sa_type``/``sa_column``."""
    value = stmt.value
    if type(value) is ast.Call and _leaf(value.func) == "mapped_column" and _typed(value):
        return None  # cheapest test first: most columns name their type
    annotation = stmt.annotation
    mapped = type(annotation) is ast.Subscript and _leaf(annotation.value) == "Mapped"
    if not mapped and type(annotation) is not ast.Constant:  # a string may hold "Mapped[...]"
        if not _sqlmodel_field(scan, cls, stmt):
            return None
        inner = _unwrap(annotation)
        if inner is None or type(inner) is ast.Subscript:
            return None
        return _candidate(scan, cls, stmt, annotation, inner, sqlmodel=True)
    if value is not None and (type(value) is not ast.Call or _leaf(value.func) != "mapped_column"):
        return None
    annotation = _parsed(annotation)
    if type(annotation) is not ast.Subscript or _leaf(annotation.value) != "Mapped":
        return None
    inner = _unwrap(annotation.slice)
    if inner is None:
        return None
    return _candidate(scan, cls, stmt, annotation, inner)


def _candidate(
    scan: FileScan,
    cls: str,
    stmt: ast.AnnAssign,
    annotation: ast.expr,
    inner: ast.expr,
    *,
    sqlmodel: bool = False,
) -> Candidate | None:
    if type(inner) is ast.Subscript and _leaf(inner.value) == "Literal":
        type_name = None
    else:
        type_name = dotted(inner)
        if type_name is None:
            return None
        head = type_name.partition(".")[0]
        facts = scan.facts
        if head not in facts.classes and head not in facts.aliases and not facts.stars:
            return None  # a builtin such as int or str
    end = stmt.end_lineno or stmt.lineno
    return Candidate(
        facts=scan.facts,
        cls=cls,
        shown=scan.shown,
        line=stmt.lineno,
        col=stmt.target.col_offset + 1,
        type_name=type_name,
        annotation=ast.unparse(annotation)
        if not sqlmodel
        else ast.unparse(stmt.target) + ": " + ast.unparse(annotation),
        noqa_comments=scan.comments.on(stmt.lineno, end),
        sqlmodel=sqlmodel,
    )


def _leaf(node: ast.expr) -> str | None:
    """Return the last name of ``a.b.C`` or ``C`` without building the dotted string."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _parsed(node: ast.expr) -> ast.expr:
    """Turn a string annotation (``"Status"``, ``"Mapped[Status]"``) into an expression."""
    if type(node) is ast.Constant and isinstance(node.value, str):
        try:
            return ast.parse(node.value.strip(), mode="eval").body
        except SyntaxError:
            return node
    return node


def _unwrap(node: ast.expr, depth: int = 0) -> ast.expr | None:
    """Strip Optional/Union-with-None/``| None``/Annotated/quotes down to one type."""
    node = _parsed(node)
    if depth > 6:
        return None
    if type(node) is ast.BinOp and type(node.op) is ast.BitOr:
        parts = [side for side in (node.left, node.right) if not _is_none(side)]
        return _unwrap(parts[0], depth + 1) if len(parts) == 1 else None
    if type(node) is ast.Subscript:
        wrapper = _leaf(node.value)
        if wrapper == "Optional":
            return _unwrap(node.slice, depth + 1)
        if wrapper == "Union":
            members = node.slice.elts if type(node.slice) is ast.Tuple else [node.slice]
            parts = [member for member in members if not _is_none(member)]
            return _unwrap(parts[0], depth + 1) if len(parts) == 1 else None
        if wrapper == "Annotated" and type(node.slice) is ast.Tuple and node.slice.elts:
            first, *extras = node.slice.elts
            for extra in extras:
                if type(extra) is ast.Call and _leaf(extra.func) == "mapped_column":
                    if _typed(extra):
                        return None
            return _unwrap(first, depth + 1)
    return node


def _is_none(node: ast.expr) -> bool:
    node = _parsed(node)
    return type(node) is ast.Constant and node.value is None


def _typed(call: ast.Call) -> bool:
    """Say whether mapped_column(...) names a type (a ForeignKey counts: it lends one).

    ``use_existing_column=True`` counts too: the column is a parent's, declared (and
    reported, if it is an Enum) there.
    """
    for keyword in call.keywords:
        if keyword.arg == "type_" or keyword.arg == "use_existing_column":
            return True
    for arg in call.args:
        if type(arg) is ast.Constant and isinstance(arg.value, str):
            continue  # the column name
        if _leaf(arg.func if type(arg) is ast.Call else arg) in NOT_A_TYPE:
            continue
        return True
    return False
