"""Expressions the static pass visits: Enum references and SQL strings.

Only statements on "hot" lines (see :mod:`conventions.lint.static`) get here. A
reference is a Name or Attribute chain whose dotted name, through the file's
imports (and the project's own modules, :mod:`conventions.lint.origins`), is a
SQLAlchemy Enum type; where it sits decides the code: inside
``type_annotation_map`` (HSE004), a call with ``native_enum=False`` (HSE003), the
value of ``existing_type=`` (nothing: it describes a legacy column being
converted), ``ENUM(...).drop(bind)`` (nothing: it removes a type). A reference that
is not a type handed to anything is not a finding either: a class base, an
annotation, ``isinstance(x, Enum)``, ``Enum.__init__``. SQL strings are read for
HSE007/HSE014 unless they are text for people (a log line, an exception message).
"""

from __future__ import annotations

import ast
import os
import re
from typing import TYPE_CHECKING

from conventions.lint import sql
from conventions.lint.report import Position
from conventions.lint.spellings import ENUM_HELPER_CLASSES, ENUM_OPS, ENUM_TYPES
from conventions.lint.sql_comments import strip_comments

if TYPE_CHECKING:
    from conventions.lint.origins import Origin
    from conventions.lint.static import FileScan

# Where an Enum reference sits. EXISTING: not reported (existing_type=, isinstance);
# TEXT: an argument of a log call or exception, whose strings are not SQL.
PLAIN, MAP, EXISTING, TEXT = 0, 1, 2, 3

_TEXT_CALLS = frozenset(
    {"print", "debug", "info", "warning", "warn", "error", "exception", "critical", "log", "echo"}
)
_TYPE_CHECKS = frozenset({"isinstance", "issubclass"})


def visit(scan: FileScan, root: object, context: int = PLAIN) -> None:
    """Report Enum references and CREATE TYPE ... AS ENUM strings under ``root``."""
    stack: list[tuple[object, int]] = [(root, context)]
    while stack:
        node, ctx = stack.pop()
        if isinstance(node, list):
            stack.extend((item, ctx) for item in node)
            continue
        if isinstance(node, ast.Name | ast.Attribute):
            target = scan.enum_target(node)
            if target is not None:
                if ctx != EXISTING:
                    _enum_reference(scan, node, target, ctx, call=None)
            elif isinstance(node, ast.Attribute):
                value = node.value
                if scan.enum_target(value) is None:  # Enum.__init__: the type's attribute
                    stack.append((value, ctx))
            continue
        if isinstance(node, ast.Call):
            _call(scan, node, ctx, stack)
            continue
        if isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp):
            text = string_text(node, fields=True)
            if text is not None:
                if ctx != TEXT:
                    _sql(scan, node, _substituted(text, node))
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
                    stack.append((node.right, ctx))
                continue
        if isinstance(node, ast.AnnAssign):  # the annotation is typing, never a column type
            stack.append((node.value, ctx))
            continue
        if isinstance(node, ast.arg | ast.Compare):  # an annotation; `type(x) is Enum`
            continue
        if isinstance(node, ast.AST):
            for _name, value in ast.iter_fields(node):
                if isinstance(value, ast.AST | list):
                    stack.append((value, ctx))


def _call(scan: FileScan, node: ast.Call, ctx: int, stack: list[tuple[object, int]]) -> None:
    func = node.func
    target = scan.enum_target(func)
    if target is not None:
        _record_type_name(scan, node)
        if ctx != EXISTING:
            _enum_reference(scan, func, target, ctx, call=node)
        stack.extend((arg, ctx) for arg in node.args)
        stack.extend((kw.value, ctx) for kw in node.keywords)
        return
    if isinstance(func, ast.Attribute) and func.attr == "drop" and isinstance(func.value, ast.Call):
        inner = func.value
        if scan.enum_target(inner.func) is not None:
            # ENUM(name=...).drop(bind): removing a type, never creating one.
            _record_type_name(scan, inner)
            stack.extend((arg, ctx) for arg in (*inner.args, *node.args))
            stack.extend((kw.value, ctx) for kw in (*inner.keywords, *node.keywords))
            return
    is_attribute = isinstance(func, ast.Attribute)
    leaf = (
        func.attr
        if isinstance(func, ast.Attribute)
        else func.id
        if isinstance(func, ast.Name)
        else None
    )
    if leaf is not None:
        if (leaf in ENUM_OPS and is_attribute) or _helper_class(scan, func):
            _helper_op(scan, node, leaf)
        elif leaf == "format" and isinstance(func, ast.Attribute) and ctx != TEXT:
            text = string_text(func.value, fields=True)
            if text is not None:  # "ALTER TYPE {} ADD VALUE '{}'".format(name, value)
                _sql(scan, func.value, _fill(text, "{}", node.args))
                stack.extend((arg, ctx) for arg in node.args)
                stack.extend((kw.value, ctx) for kw in node.keywords)
                return
        elif leaf == "partial" and node.args:
            origin = scan.enum_target(node.args[0])
            if origin is not None:  # partial(sa.Enum, native_enum=False): the keywords apply
                if ctx != EXISTING:
                    _enum_reference(scan, node.args[0], origin, ctx, call=node)
                stack.extend((arg, ctx) for arg in node.args[1:])
                stack.extend((kw.value, ctx) for kw in node.keywords)
                return
        elif leaf in _TEXT_CALLS or leaf.endswith(("Error", "Exception", "Warning")):
            ctx = TEXT if ctx == PLAIN else ctx
        elif leaf in _TYPE_CHECKS and isinstance(func, ast.Name) and len(node.args) == 2:
            stack.append((node.args[0], ctx))
            stack.append((node.args[1], EXISTING))  # isinstance(x, Enum): not a column type
            return
    stack.append((func, ctx))
    stack.extend((arg, ctx) for arg in node.args)
    for keyword in node.keywords:
        if keyword.arg == "existing_type":
            stack.append((keyword.value, EXISTING))  # describes what is there already
        elif keyword.arg == "type_annotation_map":
            stack.append((keyword.value, MAP))
        else:
            stack.append((keyword.value, ctx))


def _enum_reference(
    scan: FileScan, node: ast.expr, origin: Origin, ctx: int, *, call: ast.Call | None
) -> None:
    target = origin.target
    if ctx == MAP:
        code, text = (
            "HSE004",
            (
                "{} in type_annotation_map makes every Mapped[...] of that type an Enum; "
                "map it to conventions.Choice"
            ),
        )
    elif origin.native_false or (call is not None and _native_enum_false(call)):
        code, text = (
            "HSE003",
            (
                "{} with native_enum=False stores member names behind an unnamed CHECK; "
                "use conventions.Choice, which stores values"
            ),
        )
    elif ENUM_TYPES[target] == "HSE002":
        code = "HSE002"
        text = "{} is CREATE TYPE ... AS ENUM; use conventions.Choice (VARCHAR + named CHECK)"
    else:
        code = "HSE001"
        text = "{} makes a native ENUM type; use conventions.Choice (VARCHAR + named CHECK)"

    def message() -> str:  # built only when not silenced: unparse is the costly part
        spelling = ast.unparse(node)
        if origin.via and not origin.via.endswith(f".{spelling}"):
            return text.format(f"{spelling} ({target}, through {origin.via})")
        if origin.via:
            return text.format(f"{spelling} ({target}, defined as {origin.via})")
        return text.format(spelling if spelling == target else f"{spelling} ({target})")

    scan.report(node, code, message)


def _record_type_name(scan: FileScan, call: ast.Call) -> None:
    """Remember the native type an Enum(...) call names, for later ALTER COLUMN ... TYPE."""
    for keyword in call.keywords:
        if keyword.arg == "name" and type(keyword.value) is ast.Constant:
            if isinstance(keyword.value.value, str):
                scan.project.enum_types.add(sql.type_key(keyword.value.value))
            return
    if call.args and type(call.args[0]) is ast.Name:  # Enum(Status): named "status"
        scan.project.enum_types.add(call.args[0].id.lower())


def _helper_class(scan: FileScan, func: ast.expr) -> bool:
    name = scan.qualify(func)
    return name in ENUM_HELPER_CLASSES


def _helper_op(scan: FileScan, node: ast.Call, leaf: str) -> None:
    scan.report(
        node,
        "HSE014",
        lambda: (
            f"{ast.unparse(node.func)}(...) changes a native ENUM's values (a helper plugin's "
            "op); convert the column to a Choice (VARCHAR + named CHECK) and change its values "
            "with op.alter_choices"
        ),
    )


def _sql(scan: FileScan, node: ast.expr, text: str) -> None:
    statements = sql.enum_statements(text)
    if not statements:
        return
    patterns = {"create": sql.CREATE_ENUM, "retype": sql.TYPE_CHANGE}
    for statement in statements:
        sql.record(statement, scan.project.enum_types)
        position = sql_position(scan, node, patterns.get(statement.kind, sql.EXTEND_ENUM))
        if statement.kind == "create":
            scan.report(position, "HSE007", sql.create_type_message(statement.name))
        elif statement.kind == "retype":
            for name in _names(scan, statement.name):
                comments = tuple(scan.comments.on(position.line, position.end_line))
                directory = os.path.dirname(os.path.abspath(scan.path))
                scan.project.retypes.append(
                    sql.PendingRetype(
                        scan.shown, position.line, position.col, name, comments, directory
                    )
                )
        else:
            names = _names(scan, statement.name)
            for name in names:
                scan.project.enum_types.add(sql.type_key(name))
            shown = statement.name
            if len(names) == 1 and names[0] != statement.name:
                shown = f"{names[0]} ({statement.name[1:-1]})"  # mood (ENUM_NAME)
            scan.report(position, "HSE014", sql.extend_message(shown, statement.kind))


_FIELD = re.compile(r"^\{([A-Za-z_]\w*)\}$")


def _names(scan: FileScan, name: str) -> list[str]:
    """A type name as written, or the constants an f-string field's variable holds."""
    match = _FIELD.match(name)
    if match is None:
        return [name]
    return scan.constants(match.group(1))


def _substituted(text: str, node: ast.expr) -> str:
    """``"... %s ..." % name``: put ``{name}`` where the placeholder was, in order."""
    if not isinstance(node, ast.BinOp) or not isinstance(node.op, ast.Mod):
        return text
    right = node.right
    values = right.elts if isinstance(right, ast.Tuple) else [right]
    return _fill(text, "%s", values)


def _fill(text: str, placeholder: str, values: list[ast.expr]) -> str:
    for value in values:
        if placeholder not in text:
            break
        if type(value) is ast.Name:
            shown = "{" + value.id + "}"
        elif type(value) is ast.Constant and isinstance(value.value, str):
            shown = value.value
        else:
            shown = "x"
        text = text.replace(placeholder, shown, 1)
    return text


def sql_position(
    scan: FileScan, node: ast.expr, pattern: re.Pattern[str] = sql.CREATE_ENUM
) -> Position:
    """Point at the statement inside the literal when the source spells it out, else the literal."""
    end_line = node.end_lineno or node.lineno
    segment = ast.get_source_segment(scan.text, node) or ""
    # Python source: its quotes are Python's, so only the comment markers are read.
    match = pattern.search(strip_comments(segment, quotes=False))
    if match is None:
        return Position(node.lineno, node.col_offset + 1, end_line)
    before = segment[: match.start()]
    newlines = before.count("\n")
    if newlines == 0:
        return Position(node.lineno, node.col_offset + len(before) + 1, end_line)
    return Position(node.lineno + newlines, len(before) - before.rfind("\n"), end_line)


def _native_enum_false(call: ast.Call) -> bool:
    return any(
        kw.arg == "native_enum" and type(kw.value) is ast.Constant and kw.value.value is False
        for kw in call.keywords
    )


def string_text(node: ast.expr, *, fields: bool = False) -> str | None:
    """Return the text of a string literal, f-string, or ``+``/``%`` of them; else None.

    A value that is not text reads as ``x``; with ``fields``, a plain variable reads
    as ``{name}`` so a type name held in it can be looked up.
    """
    if isinstance(node, ast.Constant):
        value = node.value
        return value if isinstance(value, str) else None
    if isinstance(node, ast.JoinedStr):
        return "".join(_part_text(part, fields) for part in node.values)
    if isinstance(node, ast.BinOp):
        op = type(node.op)
        if op is ast.Mod:
            return string_text(node.left, fields=fields)
        if op is ast.Add:  # "CREATE TYPE " + name + " AS ENUM (...)": name reads as x
            left = string_text(node.left, fields=fields)
            right = string_text(node.right, fields=fields)
            if left is not None or right is not None:
                return (left if left is not None else _field(node.left, fields)) + (
                    right if right is not None else _field(node.right, fields)
                )
    return None


def _part_text(part: ast.expr, fields: bool) -> str:
    """One piece of an f-string: its literal text (always a str), or its field."""
    if isinstance(part, ast.Constant):
        return str(part.value)
    return _field(part.value if isinstance(part, ast.FormattedValue) else part, fields)


def _field(node: ast.expr, fields: bool) -> str:
    if fields and isinstance(node, ast.Name):
        return "{" + node.id + "}"
    return "x"
