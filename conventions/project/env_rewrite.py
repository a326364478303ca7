"""Wire an existing env.py to the house runtime: a pure plan, text in, text out.

Two shapes are edited, both the way their generators wrote them: Alembic's ``generic``
template and Flask-Migrate's (both end with ``if context.is_offline_mode():
run_migrations_offline() else: run_migrations_online()``), and an online-only env.py
ending with a bare ``run_migrations_online()``. That final dispatch is
replaced by one call to :func:`conventions.env.run`, handing over the
metadata and the keywords their ``context.configure(...)`` in
``run_migrations_online`` passed, so their include_object and friends keep working.
Anything else — a dispatch written another way, a configure() keyword that names a
local variable — is not edited: :class:`Refusal` carries the lines to add by hand.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

MARKER = "# house-migrations: the house runtime runs every Alembic command (conventions init)"
IMPORT = "from conventions.env import run as house_run"
# Keywords the house runtime sets itself (conventions.env._HOUSE_OWNED) or that
# only the offline/online branches they replace needed.
_DROPPED = {
    "connection",
    "url",
    "target_metadata",
    "transaction_per_migration",
    "literal_binds",
    "dialect_opts",
    "as_sql",
}


@dataclass(frozen=True)
class Refusal:
    reason: str
    by_hand: str


def already_wired(source: str) -> bool:
    return "conventions.env import" in source or "conventions.environment import" in source


def by_hand(metadata: str = "target_metadata", extra: str = "") -> str:
    """The lines a person adds instead of their offline/online dispatch."""
    call = f"house_run(context, {metadata}{extra})"
    if len(call) > 88 and "#" not in extra:  # one argument a line, as a formatter would
        arguments = ["context", metadata, *(a.strip() for a in extra.split(", ") if a.strip())]
        wrapped = "house_run(\n" + "".join(f"    {a},\n" for a in arguments) + ")"
        try:  # a value with ", " inside it would be split wrongly: keep one line then
            same = ast.dump(ast.parse(wrapped)) == ast.dump(ast.parse(call))
        except SyntaxError:
            same = False
        call = wrapped if same else call
    return f"{MARKER}\n{IMPORT}\n\n{call}\n"


def rewrite(source: str) -> str | Refusal:
    """Return env.py wired to the house runtime, or why it cannot be done safely."""
    try:
        tree = ast.parse(source)
    except SyntaxError as err:
        return Refusal(f"env.py does not parse (line {err.lineno}: {err.msg})", by_hand())
    last = tree.body[-1] if tree.body else None
    if not _is_dispatch(last):
        return Refusal(
            "env.py does not end with the usual `if context.is_offline_mode(): "
            "run_migrations_offline() else: run_migrations_online()`",
            by_hand(),
        )
    assert last is not None
    module_names = _module_level_names(tree)
    flask = "get_metadata" in module_names and "current_app" in source
    if flask:
        # Flask-Migrate: metadata from the db, configure args from Migrate(..., **kwargs).
        metadata = "get_metadata()"
        extra = ', **current_app.extensions["migrate"].configure_args'
    else:
        if "target_metadata" not in module_names:
            return Refusal("env.py defines no module-level target_metadata", by_hand())
        metadata = "target_metadata"
        found = _online_keywords(tree, module_names)
        if isinstance(found, Refusal):
            return found
        extra = "".join(f", {k}={v}" if k else f", **{v}" for k, v in found)
    lines = source.splitlines(keepends=True)
    head = "".join(lines[: last.lineno - 1])
    tail = "".join(lines[last.end_lineno or last.lineno :])
    return head + by_hand(metadata, extra) + tail


def _is_dispatch(node: ast.stmt | None) -> bool:
    """The generators' offline/online dispatch, or an online-only env.py's bare call."""
    if isinstance(node, ast.Expr) and ast.unparse(node) == "run_migrations_online()":
        return True
    if not isinstance(node, ast.If) or not node.orelse:
        return False
    test = ast.unparse(node.test)
    return test == "context.is_offline_mode()" and ast.unparse(node.body[-1]).endswith(
        "run_migrations_offline()"
    )


def _module_level_names(tree: ast.Module) -> set[str]:
    """Names bound at module level, also inside a module-level try/if/with block.

    (``try: target_metadata = current_app...db.metadata except RuntimeError: ...`` is
    how env.py files that run with and without a Flask app bind theirs.)
    """
    names: set[str] = set()
    for stmt in _module_statements(tree.body):
        if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
            names.add(stmt.name)
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in stmt.names)
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            names.add(stmt.target.id)
    return names


def _module_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    found: list[ast.stmt] = []
    for stmt in body:
        found.append(stmt)
        if isinstance(stmt, ast.Try):
            nested = [*stmt.body, *stmt.orelse, *stmt.finalbody]
            for handler in stmt.handlers:
                nested += handler.body
            found += _module_statements(nested)
        elif isinstance(stmt, ast.If):
            found += _module_statements([*stmt.body, *stmt.orelse])
        elif isinstance(stmt, ast.With):
            found += _module_statements(stmt.body)
    return found


def _online_keywords(
    tree: ast.Module, module_names: set[str]
) -> list[tuple[str | None, str]] | Refusal:
    """The keywords of ``context.configure`` in run_migrations_online, if module-level."""
    online = next(
        (
            s
            for s in tree.body
            if isinstance(s, ast.FunctionDef) and s.name == "run_migrations_online"
        ),
        None,
    )
    if online is None:
        return Refusal("env.py has no run_migrations_online()", by_hand())
    calls = [
        n
        for n in ast.walk(online)
        if isinstance(n, ast.Call) and ast.unparse(n.func) == "context.configure"
    ]
    if len(calls) != 1:
        return Refusal("run_migrations_online() does not call context.configure once", by_hand())
    builtins = set(dir(__builtins__)) if not isinstance(__builtins__, dict) else set(__builtins__)
    keywords: list[tuple[str | None, str]] = []
    for keyword in calls[0].keywords:
        if keyword.arg in _DROPPED:
            continue
        value = ast.unparse(keyword.value)
        used = {n.id for n in ast.walk(keyword.value) if isinstance(n, ast.Name)}
        unknown = sorted(used - module_names - builtins)
        if keyword.arg is None and not unknown:  # **mapping defined at module level
            keywords.append((None, value))
            continue
        if keyword.arg is None or unknown:
            what = f"**{value}" if keyword.arg is None else f"{keyword.arg}={value}"
            return Refusal(
                f"context.configure(..., {what}) in run_migrations_online() uses "
                f"{', '.join(unknown) or 'a mapping'} defined inside the function",
                by_hand(extra=f", {what}  # move what it needs to module level"),
            )
        keywords.append((keyword.arg, value))
    return keywords
