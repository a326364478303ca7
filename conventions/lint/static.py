"""The static pass: one ``ast.parse`` per file, statements walked once.

Expressions are only walked inside statements whose lines hold a word that could
end a finding (an Enum spelling reachable through the file's imports, or ``AS ...
ENUM`` for SQL), found by a byte search over the raw source. That keeps linting a
thousand model files close to the cost of parsing them; the benchmark calls
:func:`lint_paths`. Cross-module questions (is ``Status`` an enum?) are answered from
the imported module's facts; a project module that is also linted is parsed once.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from conventions.db.settings import project_root
from conventions.lint import downgrade, sql, syntax
from conventions.lint.facts import ModuleFacts, dotted, gather
from conventions.lint.origins import Origin, dotted_origin, local_origin, module_spellings
from conventions.lint.references import MAP, visit
from conventions.lint.report import Comments, Finding, Position, display_path, suppressed
from conventions.lint.roots import source_roots
from conventions.lint.source_tree import SourceTree
from conventions.lint.spellings import (
    ENUM_TYPES,
    EXTERNAL_HEADS,
    LEAF_NAMES,
    MODULE_PREFIXES,
    STAR_EXPORTS,
)
from conventions.lint.typing_rules import Candidate, mapped_candidate

SUFFIXES = (".py", ".sql")


def default_project() -> SourceTree:
    """The project root, its configured source roots (``[tool.conventions.lint] src``), cwd."""
    root = project_root()
    return SourceTree([root, *source_roots(root), Path.cwd()])


def lint_paths(
    paths: Iterable[Path | str],
    *,
    project: SourceTree | None = None,
    notices: list[str] | None = None,
) -> list[Finding]:
    """Lint files and directories (recursively: ``*.py``, ``*.sql``); return sorted findings.

    One pass: each file is parsed, its bindings gathered and its hot statements
    walked, then its tree is dropped (keeping a thousand trees alive made the cycle
    collector re-traverse them all, several times the cost of parsing). A name it
    imports from another project module is answered from that module's facts, read
    on first need; when that module is linted later its tree is kept from that read,
    so no file is parsed twice. Questions that need every file (does a SQLModel table
    inherit this class? is this column's new type an enum some migration created?)
    wait until the end. ``notices`` receives what the lint could not decide (a
    ``Mapped[X]`` whose ``X`` no root defines); without a list they go to stderr,
    once each.
    """
    project = project or default_project()
    findings: list[Finding] = []
    candidates: list[Candidate] = []
    files = list(iter_files(paths))
    project.expect([path for path in files if not path.endswith(".sql")])
    for path in files:
        if path.endswith(".sql"):
            findings.extend(
                sql.lint_sql_file(path, enum_types=project.enum_types, pending=project.retypes)
            )
            continue
        scan = FileScan(path, project)
        scan.run()
        findings.extend(scan.findings)
        candidates.extend(scan.candidates)
    for candidate in candidates:  # after every file is read: cross-module answers are cached
        finding = candidate.check(project)
        if finding is not None:
            findings.append(finding)
    siblings: dict[str, set[str]] = {}
    for retype in project.retypes:
        if sql.type_key(retype.name) not in project.enum_types and retype.directory:
            if retype.directory not in siblings:
                siblings[retype.directory] = sql.sibling_enum_types(retype.directory)
            project.enum_types |= siblings[retype.directory]
        finding = retype.finding(project.enum_types)
        if finding is not None:
            findings.append(finding)
    _notify(project, notices)
    return sorted(set(findings))


def _notify(project: SourceTree, notices: list[str] | None) -> None:
    lines = []
    for module, places in sorted(project.unresolved.items()):
        more = f" and {len(places) - 1} more" if len(places) > 1 else ""
        lines.append(
            f"notice: cannot tell whether the type at {places[0]}{more} is an enum.Enum: "
            f"module {module} is in no source root, nowhere in the repository and not "
            "installed here. Add its directory to [tool.conventions.lint] src in pyproject.toml."
        )
    if notices is not None:
        notices.extend(lines)
    else:
        for line in lines:
            sys.stderr.write(line + "\n")


def iter_files(paths: Iterable[Path | str]) -> Iterator[str]:
    """Yield the files to lint: given files as they are, directories walked in order."""
    for raw in paths:
        path = os.fspath(raw)
        if path.endswith(SUFFIXES) or not os.path.isdir(path):  # no stat per named file
            yield path
            continue
        for directory, subdirs, names in os.walk(path):
            subdirs[:] = sorted(d for d in subdirs if not d.startswith(".") and d != "__pycache__")
            for name in sorted(names):
                if name.endswith(SUFFIXES) and not name.startswith("."):
                    yield os.path.join(directory, name)


# Compound statements: the expression fields of their header (bodies are walked).
_HEADERS: dict[type, tuple[str, ...]] = {
    # Class bases are not column types (class Kind(str, Enum) is a Python enum whatever
    # Enum was imported as); annotations are typing, not a type passed to a column.
    ast.ClassDef: ("decorator_list", "keywords"),
    ast.FunctionDef: ("decorator_list", "args"),
    ast.AsyncFunctionDef: ("decorator_list", "args"),
    ast.If: ("test",),
    ast.While: ("test",),
    ast.For: ("target", "iter"),
    ast.AsyncFor: ("target", "iter"),
    ast.With: ("items",),
    ast.AsyncWith: ("items",),
    ast.Try: (),
    ast.Match: ("subject",),
}
if hasattr(ast, "TryStar"):
    _HEADERS[ast.TryStar] = ()


_SPACE = frozenset(b" \t\r\n\\(")  # "(" and "\\": a chain split over lines
_IDENTIFIER = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _word_offsets(
    source: bytes, bare: frozenset[str], modules: frozenset[str], leaves: frozenset[str]
) -> list[int]:
    """Offsets where an Enum spelling can start, found by byte search.

    ``bare``: names that are an Enum type by themselves (``SAEnum``, a project's
    ``EnumColumn``), counted when not after a dot. ``modules``: local names of
    namespaces (``sa``, ``postgresql``, a Flask-SQLAlchemy ``db``, a project module),
    whose ``.<leaf>`` counts only when the dotted chain starts with one of them, so
    ``enum.Enum`` in a file that imports ``sqlalchemy as sa`` stays cold. Most
    spellings contain ``Enum`` or ``ENUM``; the others (an alias ``E``, a helper
    ``status_column``) are found by one regex.
    """
    found: list[int] = []

    def keep(start: int, word: str) -> None:
        before = start - 1
        while before >= 0 and source[before] in _SPACE:
            before -= 1
        if before >= 0 and source[before] == 46:  # "." : an attribute
            if modules and word in leaves and _chain_head(source, before) in modules:
                found.append(start)
        elif word in bare:
            found.append(start)

    for core in (b"Enum", b"ENUM"):
        index = source.find(core)
        while index != -1:
            start, end = index, index + 4
            while start and source[start - 1] in _IDENTIFIER:
                start -= 1
            while end < len(source) and source[end] in _IDENTIFIER:
                end += 1
            keep(start, source[start:end].decode("ascii", "replace"))
            index = source.find(core, end)
    others = frozenset(
        word for word in (bare | leaves) if "Enum" not in word and "ENUM" not in word
    )
    if others:
        for match in _word_pattern(others).finditer(source):
            keep(match.start(), match.group().decode("ascii", "replace"))
    return found


def _chain_head(source: bytes, dot: int) -> str:
    """Return ``a`` for the ``a.b.c.`` (whitespace and newlines allowed) ending at ``dot``."""
    head = ""
    while dot >= 0 and source[dot] == 46:
        end = dot
        while end and source[end - 1] in _SPACE:
            end -= 1
        start = end
        while start and source[start - 1] in _IDENTIFIER:
            start -= 1
        head = source[start:end].decode("ascii", "replace")
        dot = start - 1
        while dot >= 0 and source[dot] in _SPACE:
            dot -= 1
    return head


@lru_cache(maxsize=256)
def _word_pattern(words: frozenset[str]) -> re.Pattern[bytes]:
    alternatives = b"|".join(re.escape(word.encode()) for word in sorted(words))
    return re.compile(rb"\b(?:" + alternatives + rb")\b")


class FileScan:
    """Everything the static pass learns from one file, in one parse.

    Built in two steps: the constructor parses and gathers the file's bindings (or
    takes the tree an earlier file's import already parsed), :meth:`run` walks it.
    """

    def __init__(self, path: str, project: SourceTree) -> None:
        self.path = path
        self.project = project
        self.shown = display_path(path)
        self.findings: list[Finding] = []
        self.candidates: list[Candidate] = []
        self._text: str | None = None
        self._comments: Comments | None = None
        self._constants: dict[str, list[str]] | None = None
        self.words: frozenset[str] = frozenset()  # names that may end an Enum reference
        self.spelled: dict[str, Origin] = {}  # local name -> the Enum type or namespace it is
        self._memo: dict[str, Origin | None] = {}
        self._mapped: list[tuple[str, ast.AnnAssign]] = []
        self.tree: ast.Module | None = None
        parsed = project.take_parsed(os.path.abspath(path))
        try:
            if parsed is not None:
                self.source, self.tree = parsed
            else:
                with open(path, "rb") as file:
                    self.source = file.read()
                self.tree = ast.parse(self.source, filename=path)
        except (SyntaxError, ValueError, OSError) as err:
            self.source = b""
            self._unparsable(err)
            return
        self.facts = project.new_facts(path)
        project.register(self.facts)
        gather(self.tree.body, self.facts, mapped=self._mapped)

    def run(self) -> None:
        """Walk the file once every linted file's bindings are known."""
        tree, self.tree = self.tree, None  # the tree is not needed after this
        if tree is None:
            return
        self.lower = self.source.lower()
        self._spellings()
        self.uses_sqlmodel = b"sqlmodel" in self.source  # a file that never says it imports none
        for cls, stmt in self._mapped:
            candidate = mapped_candidate(self, cls, stmt)
            if candidate is not None:
                self.candidates.append(candidate)
        self._mapped = []
        hot = self._hot_lines()
        if hot:
            self._walk_hot(tree.body, hot)
        downgrade.check(self, tree)

    # -- source text, lazily -------------------------------------------------------

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.source.decode("utf-8", "replace")
        return self._text

    @property
    def comments(self) -> Comments:
        """The file's real comments, where a noqa counts (tokenized on first need)."""
        if self._comments is None:
            self._comments = Comments(self.text)
        return self._comments

    def constants(self, name: str) -> list[str]:
        """The string constants ``name`` is assigned anywhere in the file (for SQL names)."""
        if self._constants is None:
            self._constants = {}
            for node in ast.walk(ast.parse(self.source)):
                if type(node) is ast.Assign and type(node.value) is ast.Constant:
                    value = node.value.value
                    if isinstance(value, str):
                        for target in node.targets:
                            if type(target) is ast.Name:
                                self._constants.setdefault(target.id, []).append(value)
        return self._constants.get(name, [])

    def report(
        self,
        position: Position | ast.expr | ast.stmt,
        code: str,
        message: str | Callable[[], str],
    ) -> None:
        """Record a finding unless a noqa on its first or last line silences it."""
        if not isinstance(position, Position):
            position = Position(
                position.lineno,
                position.col_offset + 1,
                position.end_lineno or position.lineno,
            )
        if suppressed(code, self.comments.on(position.line, position.end_line)):
            return
        text = message if isinstance(message, str) else message()
        self.findings.append(Finding(self.shown, position.line, position.col, code, text))

    def _unparsable(self, err: Exception) -> None:
        line, col = 1, 1
        if isinstance(err, SyntaxError):
            line = err.lineno or 1
            col = err.offset or 1
            reason = syntax.explain(err, self.path)
        else:
            reason = str(err)
        self.findings.append(
            Finding(self.shown, line, col, "HSE008", f"cannot parse this file: {reason}")
        )

    # -- which names spell an Enum ---------------------------------------------------

    def _spellings(self) -> None:
        """Decide which local names are an Enum type or a namespace holding one.

        Imports of SQLAlchemy are answered from the name table; imports from project
        modules are followed (``from app.types import EnumColumn``, ``from app import
        db``). A file without the word "enum" can only meet an Enum through such an
        import, so its own definitions are examined only when it has one.
        """
        facts, project = self.facts, self.project
        spelled = self.spelled
        self.modules: set[str] = set()
        leaves: set[str] = set()
        has_word = b"enum" in self.lower
        memo = project.imports
        for name, target in facts.aliases.items():
            if target in MODULE_PREFIXES or target in ENUM_TYPES:
                spelled[name] = Origin(target)
                continue
            if target.partition(".")[0] in EXTERNAL_HEADS:
                continue
            key = (facts.root, target)  # an absolute target resolves the same from one root
            if key not in memo:
                memo[key] = _imported(project, facts, name, target)
            origin, names = memo[key]
            if origin is not None:
                spelled[name] = origin
            elif names:  # from app import types; types.EnumColumn(...)
                self.modules.add(name)
                leaves |= names
            elif not names and has_word and _used_as_flask_db(self.source, name):
                via = f"{name}, used as a Flask-SQLAlchemy instance"
                spelled[name] = Origin("sqlalchemy", via=via)
        if has_word or spelled or self.modules:
            for name in (*facts.values, *facts.instances, *facts.functions, *facts.classes):
                if name not in spelled:
                    origin = local_origin(project, facts, name)
                    if origin is not None:
                        spelled[name] = origin
        bare = {name for name, origin in spelled.items() if origin.is_type}
        namespaces = {name for name, origin in spelled.items() if not origin.is_type}
        for star in facts.stars:
            if star in MODULE_PREFIXES:
                bare |= STAR_EXPORTS.get(star, frozenset())
            elif star.partition(".")[0] not in EXTERNAL_HEADS:  # from app.models import *
                module = project.module(star, facts)
                if module is not None and module is not facts:
                    for name in module_spellings(project, module):
                        origin = dotted_origin(project, module, name)
                        if origin is None or name in spelled:
                            continue
                        spelled[name] = origin
                        if origin.is_type:
                            bare.add(name)
                        else:
                            namespaces.add(name)
        self.modules |= namespaces
        self.bare = frozenset(bare)
        self.leaves = frozenset(leaves | LEAF_NAMES) if self.modules else frozenset()
        self.words = self.bare | self.leaves

    # -- which lines can hold a finding ----------------------------------------------

    def _hot_lines(self) -> list[int]:
        lower = self.lower
        offsets: list[int] = []
        if b"enum" in lower:
            offsets = sql.trigger_offsets(self.source, lower)
        if b"alter" in lower:
            offsets.extend(sql.alter_offsets(lower))
        if self.words:
            offsets.extend(
                _word_offsets(self.source, self.bare, frozenset(self.modules), self.leaves)
            )
        if b"_enum" in lower or b"enummigration" in lower:
            offsets.extend(m.start() for m in _HELPER_OPS.finditer(lower))
        if not offsets:
            return []
        offsets.sort()
        lines, line, previous = [], 1, 0
        for offset in offsets:
            line += self.source.count(b"\n", previous, offset)
            previous = offset
            lines.append(line)
        return sorted(set(lines))

    def _walk_hot(self, body: list[ast.stmt], hot: list[int]) -> None:
        """Visit the statements (and compound headers) whose lines hold a hot line."""
        for stmt in body:
            start = bisect_left(hot, stmt.lineno)
            if start == len(hot) or hot[start] > (stmt.end_lineno or stmt.lineno):
                continue
            header = _HEADERS.get(type(stmt))
            if header is None:
                self._visit_statement(stmt)
                continue
            nested_body = getattr(stmt, "body", None)
            inner = nested_body[0].lineno if nested_body else stmt.lineno + 1
            if hot[start] < inner:  # decorators, test, iterable...
                visit(self, [getattr(stmt, name) for name in header])
            for name in ("body", "orelse", "finalbody"):
                nested = getattr(stmt, name, None)
                if nested:
                    self._walk_hot(nested, hot)
            for handler in getattr(stmt, "handlers", ()):
                visit(self, handler.type)
                self._walk_hot(handler.body, hot)
            for case in getattr(stmt, "cases", ()):
                visit(self, case.guard)
                self._walk_hot(case.body, hot)

    def _visit_statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            return  # a docstring or bare string: text, not SQL anyone runs
        if isinstance(stmt, ast.Assign | ast.AnnAssign):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if any(_last_name(target) == "type_annotation_map" for target in targets):
                visit(self, stmt.value, MAP)
                return
            if isinstance(stmt, ast.AnnAssign):  # the annotation is typing, not a column type
                if stmt.value is not None:
                    visit(self, stmt.value)
                return
        visit(self, stmt)

    # -- expressions -------------------------------------------------------------------

    def enum_target(self, node: ast.AST) -> Origin | None:
        """Return the Enum type a Name/Attribute refers to, or None (cheap for most names)."""
        if isinstance(node, ast.Name):
            leaf = node.id
        elif isinstance(node, ast.Attribute):
            leaf = node.attr
        else:
            return None
        if leaf not in self.words or type(node.ctx) is not ast.Load:
            return None
        name = dotted(node)
        if name is None:
            return None
        if name not in self._memo:
            self._memo[name] = self._origin(name)
        return self._memo[name]

    def _origin(self, name: str) -> Origin | None:
        head, _, rest = name.partition(".")
        origin = self.spelled.get(head)
        if origin is not None:
            target = f"{origin.target}.{rest}" if rest else origin.target
            if target in ENUM_TYPES:
                return origin._replace(target=target)
            return None
        found = dotted_origin(self.project, self.facts, name)
        return found if found is not None and found.is_type else None

    def qualify(self, node: ast.AST) -> str | None:
        """Return the dotted name an expression refers to through the imports."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        target = self.facts.aliases.get(head)
        if target is None:
            star = next(
                (m for m in reversed(self.facts.stars) if head in STAR_EXPORTS.get(m, ())), None
            )
            if star is None:
                return None
            target = f"{star}.{head}"
        return f"{target}.{rest}" if rest else target


def _imported(
    project: SourceTree, facts: ModuleFacts, name: str, target: str
) -> tuple[Origin | None, frozenset[str] | None]:
    """What an import from outside SQLAlchemy brings: an Enum spelling, a project module
    holding some (their names), an unknown (None, None: maybe Flask's ``db``)."""
    origin = dotted_origin(project, facts, name)
    if origin is not None:
        return origin, frozenset()
    module = project.module(target, facts)
    if module is not None:
        return None, module_spellings(project, module)
    owner, _resolved = project.resolve(facts, name)
    return None, (frozenset() if owner is not None else None)


_HELPER_OPS = re.compile(
    rb"sync_enum_values|add_enum_value|rename_enum_value|create_enum|alter_enum|enummigration"
)


def _used_as_flask_db(source: bytes, name: str) -> bool:
    """``db`` imported from a module the lint cannot read, used as Flask-SQLAlchemy's."""
    encoded = name.encode()
    return encoded + b".Model" in source or encoded + b".Column(" in source


def _last_name(node: ast.expr) -> str | None:
    name = dotted(node)
    return name.rpartition(".")[2] if name else None
