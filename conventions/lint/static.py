"""The static pass: one ``ast.parse`` per file, statements walked once.

Expressions are only walked inside statements whose lines hold a word that could
end a finding (an Enum spelling reachable through the file's imports, or ``AS ...
ENUM`` for SQL), found by a byte search over the raw source. That keeps linting a
thousand model files close to the cost of parsing them; the benchmark calls
:func:`lint_paths`. Cross-module questions (is ``Status`` an enum?) wait until every
file is read, so a project module that is also linted is parsed once.
"""

from __future__ import annotations

import ast
import os
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from conventions.lint import downgrade, sql
from conventions.lint.facts import dotted, gather
from conventions.lint.names import ENUM_TYPES, LEAF_NAMES, MODULE_PREFIXES, STAR_EXPORTS
from conventions.lint.project import Project
from conventions.lint.references import MAP, visit
from conventions.lint.report import Comments, Finding, Position, display_path, suppressed
from conventions.lint.typing_rules import Candidate, mapped_candidate
from conventions.settings import project_root

SUFFIXES = (".py", ".sql")


def lint_paths(paths: Iterable[Path | str], *, project: Project | None = None) -> list[Finding]:
    """Lint files and directories (recursively: ``*.py``, ``*.sql``); return sorted findings."""
    project = project or Project([project_root(), Path.cwd()])
    findings: list[Finding] = []
    candidates: list[Candidate] = []
    for path in iter_files(paths):
        if path.endswith(".sql"):
            findings.extend(sql.lint_sql_file(path))
            continue
        scan = FileScan(path, project)
        findings.extend(scan.findings)
        candidates.extend(scan.candidates)
    for candidate in candidates:  # after every file is read: cross-module answers are cached
        finding = candidate.check(project)
        if finding is not None:
            findings.append(finding)
    return sorted(set(findings))


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
    ast.ClassDef: ("decorator_list", "bases", "keywords"),
    ast.FunctionDef: ("decorator_list", "args", "returns"),
    ast.AsyncFunctionDef: ("decorator_list", "args", "returns"),
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


def _word_offsets(source: bytes, bare: frozenset[str], modules: frozenset[str]) -> list[int]:
    """Offsets where an Enum spelling can start, found by byte search.

    ``bare``: names that are an Enum type by themselves (``SAEnum``), counted when not
    after a dot. ``modules``: local names of SQLAlchemy modules (``sa``, ``postgresql``),
    whose ``.Enum``/``.ENUM`` counts only when the dotted chain starts with one of
    them, so ``enum.Enum`` in a file that imports ``sqlalchemy as sa`` stays cold.
    Every Enum spelling contains ``Enum`` or ``ENUM``; only an alias without it
    (``from sqlalchemy import Enum as E``) needs a regex.
    """
    found: list[int] = []
    for core in (b"Enum", b"ENUM"):
        index = source.find(core)
        while index != -1:
            start, end = index, index + 4
            while start and source[start - 1] in _IDENTIFIER:
                start -= 1
            while end < len(source) and source[end] in _IDENTIFIER:
                end += 1
            word = source[start:end].decode("ascii", "replace")
            before = start - 1
            while before >= 0 and source[before] in _SPACE:
                before -= 1
            if before >= 0 and source[before] == 46:  # "." : an attribute
                if modules and word in LEAF_NAMES and _chain_head(source, before) in modules:
                    found.append(start)
            elif word in bare:
                found.append(start)
            index = source.find(core, end)
    others = frozenset(word for word in bare if "Enum" not in word and "ENUM" not in word)
    if others:
        found.extend(m.start() for m in _word_pattern(others).finditer(source))
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
    """Everything the static pass learns from one file, in one parse."""

    def __init__(self, path: str, project: Project) -> None:
        self.path = path
        self.shown = display_path(path)
        self.findings: list[Finding] = []
        self.candidates: list[Candidate] = []
        self._text: str | None = None
        self._comments: Comments | None = None
        self.words: frozenset[str] = frozenset()  # names that may end an Enum reference
        try:
            with open(path, "rb") as file:
                self.source = file.read()
            tree = ast.parse(self.source, filename=path)
        except (SyntaxError, ValueError, OSError) as err:
            self.source = b""
            self._unparsable(err)
            return
        self.facts = project.new_facts(path)
        project.register(self.facts)
        mapped: list[tuple[str, ast.AnnAssign]] = []
        gather(tree.body, self.facts, mapped=mapped)
        for cls, stmt in mapped:
            candidate = mapped_candidate(self, cls, stmt)
            if candidate is not None:
                self.candidates.append(candidate)
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

    def report(
        self, position: Position | ast.AST, code: str, message: str | Callable[[], str]
    ) -> None:
        """Record a finding unless a noqa on its first or last line silences it."""
        if not isinstance(position, Position):
            position = Position(
                position.lineno,  # type: ignore[attr-defined]
                position.col_offset + 1,  # type: ignore[attr-defined]
                position.end_lineno or position.lineno,  # type: ignore[attr-defined]
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
            reason = f"{err.msg}"
        else:
            reason = str(err)
        self.findings.append(
            Finding(self.shown, line, col, "HSE008", f"cannot parse this file: {reason}")
        )

    # -- which lines can hold a finding ----------------------------------------------

    def _hot_lines(self) -> list[int]:
        lower = self.source.lower()
        if b"enum" not in lower:
            return []  # every Enum spelling, alias import and AS ENUM contains the word
        bare: set[str] = set()
        modules: set[str] = set()
        for name, target in self.facts.aliases.items():
            if target in MODULE_PREFIXES:
                modules.add(name)  # alias.….Enum is reachable
            elif target in ENUM_TYPES:
                bare.add(name)
        for star in self.facts.stars:
            if star in MODULE_PREFIXES:
                bare |= STAR_EXPORTS.get(star, frozenset())
        self.words = frozenset(bare | LEAF_NAMES) if modules else frozenset(bare)
        offsets = sql.trigger_offsets(self.source, lower)
        if self.words:
            offsets.extend(_word_offsets(self.source, frozenset(bare), frozenset(modules)))
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
            inner = stmt.body[0].lineno if getattr(stmt, "body", None) else stmt.lineno + 1  # type: ignore[attr-defined]
            if hot[start] < inner:  # decorators, bases, test, iterable...
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
        kind = type(stmt)
        if kind is ast.Expr and type(stmt.value) is ast.Constant:  # type: ignore[attr-defined]
            return  # a docstring or bare string: text, not SQL anyone runs
        if kind is ast.Assign or kind is ast.AnnAssign:
            targets = stmt.targets if kind is ast.Assign else [stmt.target]  # type: ignore[attr-defined]
            if any(_last_name(target) == "type_annotation_map" for target in targets):
                visit(self, stmt.value, MAP)  # type: ignore[attr-defined]
                return
        visit(self, stmt)

    # -- expressions -------------------------------------------------------------------

    def enum_target(self, node: ast.AST) -> str | None:
        """Return the Enum type a Name/Attribute refers to, or None (cheap for most names)."""
        kind = type(node)
        if kind is ast.Name:
            leaf = node.id  # type: ignore[attr-defined]
        elif kind is ast.Attribute:
            leaf = node.attr  # type: ignore[attr-defined]
        else:
            return None
        if leaf not in self.words or type(node.ctx) is not ast.Load:  # type: ignore[attr-defined]
            return None
        target = self.qualify(node)
        return target if target in ENUM_TYPES else None

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


def _last_name(node: ast.expr) -> str | None:
    name = dotted(node)
    return name.rpartition(".")[2] if name else None
