"""Expressions the static pass visits: Enum references and SQL strings.

Only statements on "hot" lines (see :mod:`conventions.lint.static`) get here. A
reference is a Name or Attribute chain whose dotted name, through the file's
imports, is a SQLAlchemy Enum type; where it sits decides the code: inside
``type_annotation_map`` (HSE004), a call with ``native_enum=False`` (HSE003), the
value of ``existing_type=`` (nothing: it describes a legacy column being
converted), ``ENUM(...).drop(bind)`` (nothing: it removes a type).
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from conventions.lint import sql
from conventions.lint.names import ENUM_TYPES
from conventions.lint.report import Position
from conventions.lint.sql_comments import strip_comments

if TYPE_CHECKING:
    from conventions.lint.static import FileScan

# Where an Enum reference sits.
PLAIN, MAP, EXISTING = 0, 1, 2


def visit(scan: FileScan, root: object, context: int = PLAIN) -> None:
    """Report Enum references and CREATE TYPE ... AS ENUM strings under ``root``."""
    stack: list[tuple[object, int]] = [(root, context)]
    while stack:
        node, ctx = stack.pop()
        if isinstance(node, list):
            stack.extend((item, ctx) for item in node)
            continue
        kind = type(node)
        if kind is ast.Name or kind is ast.Attribute:
            target = scan.enum_target(node)  # type: ignore[arg-type]
            if target is not None:
                if ctx != EXISTING:
                    _enum_reference(scan, node, target, ctx, call=None)  # type: ignore[arg-type]
            elif kind is ast.Attribute:
                stack.append((node.value, ctx))  # type: ignore[attr-defined]
            continue
        if kind is ast.Call:
            _call(scan, node, ctx, stack)  # type: ignore[arg-type]
            continue
        if kind is ast.Constant or kind is ast.JoinedStr or kind is ast.BinOp:
            text = string_text(node)  # type: ignore[arg-type]
            if text is not None:
                _sql(scan, node, text)  # type: ignore[arg-type]
                if kind is ast.BinOp and type(node.op) is ast.Mod:  # type: ignore[attr-defined]
                    stack.append((node.right, ctx))  # type: ignore[attr-defined]
                continue
        if isinstance(node, ast.AST):
            for _name, value in ast.iter_fields(node):
                if isinstance(value, ast.AST | list):
                    stack.append((value, ctx))


def _call(scan: FileScan, node: ast.Call, ctx: int, stack: list[tuple[object, int]]) -> None:
    func = node.func
    target = scan.enum_target(func)
    if target is not None:
        if ctx != EXISTING:
            _enum_reference(scan, func, target, ctx, call=node)  # type: ignore[arg-type]
        stack.extend((arg, ctx) for arg in node.args)
        stack.extend((kw.value, ctx) for kw in node.keywords)
        return
    if type(func) is ast.Attribute and func.attr == "drop" and type(func.value) is ast.Call:
        inner = func.value
        if scan.enum_target(inner.func) is not None:
            # ENUM(name=...).drop(bind): removing a type, never creating one.
            stack.extend((arg, ctx) for arg in (*inner.args, *node.args))
            stack.extend((kw.value, ctx) for kw in (*inner.keywords, *node.keywords))
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
    scan: FileScan, node: ast.expr, target: str, ctx: int, *, call: ast.Call | None
) -> None:
    if ctx == MAP:
        code, text = (
            "HSE004",
            (
                "{} in type_annotation_map makes every Mapped[...] of that type an Enum; "
                "map it to conventions.Choice"
            ),
        )
    elif call is not None and _native_enum_false(call):
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
        return text.format(spelling if spelling == target else f"{spelling} ({target})")

    scan.report(node, code, message)


def _sql(scan: FileScan, node: ast.expr, text: str) -> None:
    for statement in sql.create_enum_statements(text):
        scan.report(sql_position(scan, node), "HSE007", sql.create_type_message(statement.name))


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


def string_text(node: ast.expr) -> str | None:
    """Return the text of a string literal, f-string, or ``+``/``%`` of them; else None."""
    kind = type(node)
    if kind is ast.Constant:
        value = node.value  # type: ignore[attr-defined]
        return value if isinstance(value, str) else None
    if kind is ast.JoinedStr:
        return "".join(
            part.value if type(part) is ast.Constant else "x"
            for part in node.values  # type: ignore[attr-defined]
        )
    if kind is ast.BinOp:
        op = type(node.op)  # type: ignore[attr-defined]
        if op is ast.Mod:
            return string_text(node.left)  # type: ignore[attr-defined]
        if op is ast.Add:  # "CREATE TYPE " + name + " AS ENUM (...)": name reads as x
            left = string_text(node.left)  # type: ignore[attr-defined]
            right = string_text(node.right)  # type: ignore[attr-defined]
            if left is not None or right is not None:
                return (left if left is not None else "x") + (right if right is not None else "x")
    return None
