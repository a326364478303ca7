"""HSE013: a migration's ``downgrade()`` that loses data the archive never sees.

On a downgrade the runtime archives what ``op.drop_column`` and ``op.drop_table``
remove (``conventions.runtime.archive``), which is what lets the README promise that a
rollback never silently loses data. Raw SQL bypasses it — ``DROP TABLE``,
``ALTER TABLE … DROP [COLUMN]``, ``DELETE FROM``, ``TRUNCATE``, ``DROP SCHEMA``,
``DROP TYPE/DOMAIN … CASCADE`` (it drops the columns of that type), a column
``TYPE`` change — and so does ``op.alter_column(type_=…)``, which cuts or refuses
values when it narrows. Every string literal in ``downgrade()`` is read as SQL
(comments stripped), so a statement built in a variable there is seen too; a
docstring is not. Only files that assign ``revision`` at module level count as
migrations, and a file without ``def downgrade`` costs one byte search.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from conventions.lint.references import sql_position, string_text
from conventions.lint.sql_comments import strip_comments

if TYPE_CHECKING:
    from conventions.lint.static import FileScan

CODE = "HSE013"
_FIX = (
    "use op.drop_column / op.drop_table (a downgrade archives what they drop), or add "
    "'# noqa: HSE013' with the reason no data is lost"
)
_NAME = r'(?:"(?:[^"]|"")+"|\w+)'
# (what the message calls it, the pattern over comment-free SQL)
DESTRUCTIVE: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("DROP TABLE", re.compile(r"\bdrop\s+table\b", re.I)),
    ("DROP SCHEMA", re.compile(r"\bdrop\s+schema\b", re.I)),
    (
        "ALTER TABLE ... DROP COLUMN",
        re.compile(
            r"\balter\s+table\b[^;]*?\bdrop\s+"
            r"(?!constraint\b|default\b|not\s+null\b|identity\b|expression\b)",
            re.I | re.S,
        ),
    ),
    ("DELETE FROM", re.compile(r"\bdelete\s+from\b", re.I)),
    ("TRUNCATE", re.compile(r"\btruncate\b(?!\s*\()", re.I)),
    (
        "DROP TYPE/DOMAIN ... CASCADE",
        re.compile(r"\bdrop\s+(?:type|domain)\b[^;]*?\bcascade\b", re.I | re.S),
    ),
    (
        "a column TYPE change",
        re.compile(rf"\balter\s+(?:column\s+)?{_NAME}\s+(?:set\s+data\s+)?type\b", re.I),
    ),
)


def check(scan: FileScan, tree: ast.Module) -> None:
    """Report data-losing statements in the module-level ``downgrade()`` of a migration."""
    if b"def downgrade" not in scan.source:
        return
    downgrade = None
    is_migration = False
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "downgrade":
            downgrade = stmt
        elif _assigns_revision(stmt):
            is_migration = True
    if downgrade is not None and is_migration:
        _visit(scan, downgrade.body)


def _assigns_revision(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == "revision" for t in stmt.targets)
    if isinstance(stmt, ast.AnnAssign):
        return isinstance(stmt.target, ast.Name) and stmt.target.id == "revision"
    return False


def _visit(scan: FileScan, body: list[ast.stmt]) -> None:
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring or bare string: text, not SQL anyone runs
        if isinstance(node, ast.Constant | ast.JoinedStr | ast.BinOp):
            text = string_text(node)
            if text is not None:
                _sql(scan, node, text)
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
                    stack.append(node.right)
                continue
        if isinstance(node, ast.Call) and _retypes(node):
            scan.report(
                node,
                CODE,
                "downgrade() changes a column's type with alter_column(type_=...): a narrower "
                "type cuts or refuses values and nothing is archived; drop the column with "
                "op.drop_column (archived) and add the old one back, or add '# noqa: HSE013' "
                "with the reason no data is lost",
            )
        stack.extend(ast.iter_child_nodes(node))


def _retypes(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name == "alter_column" and any(kw.arg == "type_" for kw in call.keywords)


def _sql(scan: FileScan, node: ast.expr, text: str) -> None:
    sql = strip_comments(text)
    for what, pattern in DESTRUCTIVE:
        if pattern.search(sql):
            scan.report(
                sql_position(scan, node, pattern),
                CODE,
                f"downgrade() runs {what} in raw SQL: the data it removes is lost, not "
                f"archived; {_FIX}",
            )
            return  # one finding per literal: the first reason is enough to act on
