"""Follow a project's imports to the module that defines a name, reading each file once.

``Mapped[Status]`` is only an implicit ENUM if ``Status`` is an ``enum.Enum``; when
Status comes from another module of the project, this finds that module by its
dotted path (as Python would from the project root) and asks its facts. Modules
outside the project (the standard library, SQLAlchemy) are never opened.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from conventions.lint.facts import ModuleFacts, gather
from conventions.lint.spellings import LITERAL_NAMES, PY_ENUM_BASES, STAR_EXPORTS

Symbol = tuple[ModuleFacts | None, str]  # (defining project module or None, name)

_MAX_DEPTH = 12


class SourceTree:
    """Module lookup and name resolution over a set of root directories.

    Paths are plain absolute strings (``os.path.abspath``, no symlink resolution):
    this runs once per linted file, where pathlib's object churn would show.
    """

    def __init__(self, roots: list[Path]) -> None:
        self.roots = list(dict.fromkeys(os.path.abspath(root) for root in roots))
        self._by_path: dict[str, ModuleFacts | None] = {}
        self._where: dict[tuple[str, str], str | None] = {}
        self._directories: dict[str, tuple[str, str]] = {}  # dir -> (root, package)
        self._enum_memo: dict[tuple[str, str], bool] = {}
        self.origins: dict[tuple[str, str], Any] = {}  # conventions.lint.origins' memo
        self.imports: dict[tuple[str, str], Any] = {}  # (root, import target) -> spelling
        self.spellings: dict[str, frozenset[str]] = {}  # module path -> names that spell Enum
        # Shared by every file of one run: native enum type names some file creates or
        # extends, and column TYPE changes to judge against them at the end.
        self.enum_types: set[str] = set()
        self.retypes: list[Any] = []
        self._index: dict[str, list[str]] | None = None  # top-level name -> roots holding it
        self._libraries: dict[str, str | None] = {}  # top-level name -> its directory
        # Names a Mapped[...]/SQLModel field uses that no root, repository directory or
        # installed library defines: module -> places, reported once (stderr notice).
        self.unresolved: dict[str, list[str]] = {}
        self._ancestors: set[tuple[str, str]] | None = None
        self._expected: set[str] = set()
        self._parsed: dict[str, tuple[bytes, ast.Module]] = {}

    # -- locating files and modules ------------------------------------------------

    def new_facts(self, path: Path | str) -> ModuleFacts:
        """Return empty facts for ``path`` with its dotted name and import root."""
        absolute = os.path.abspath(path)
        directory, filename = os.path.split(absolute)
        root, package = self._directory(directory)
        stem = filename.rpartition(".")[0] or filename
        is_package = stem == "__init__"
        if is_package:
            name = package or os.path.basename(directory)
        else:
            name = f"{package}.{stem}" if package else stem
        return ModuleFacts(path=absolute, name=name, root=root, is_package=is_package)

    def _directory(self, directory: str) -> tuple[str, str]:
        """Return (import root, dotted package) for a directory, walking up __init__.py."""
        known = self._directories.get(directory)
        if known is None:
            if os.path.isfile(os.path.join(directory, "__init__.py")):
                parent, name = os.path.split(directory)
                root, package = self._directory(parent) if parent != directory else (parent, "")
                known = (root, f"{package}.{name}" if package else name)
            else:
                known = (directory, "")
            self._directories[directory] = known
        return known

    def register(self, facts: ModuleFacts) -> None:
        """Make a linted file's facts the answer for its module (no second read)."""
        self._by_path[facts.path] = facts

    def module(self, name: str, near: ModuleFacts) -> ModuleFacts | None:
        """Return the facts of project module ``name``, or None outside the project."""
        for root in (near.root, *self.roots):
            path = self._find(root, name)
            if path is not None:
                return self._load(path)
        return None

    def locate(self, name: str, near: ModuleFacts) -> tuple[str, ModuleFacts | None]:
        """Find module ``name`` anywhere: roots, then the repository, then installed libraries.

        Returns ``("project" | "repository" | "library", facts)``, ``("stdlib", None)``
        for the standard library (never read: its enums are not column types anyone
        maps implicitly), or ``("missing", None)``. Only asked when a ``Mapped[X]``
        needs to know whether ``X`` is an enum, so the repository walk and the library
        look-up happen at most once per top-level name.
        """
        found = self.module(name, near)
        if found is not None:
            return "project", found
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names:
            return "stdlib", None
        for root in self._repository_roots(top):
            path = self._find(root, name)
            if path is not None:
                return "repository", self._load(path)
        library = self._library(top)
        if library is not None:
            parent = os.path.dirname(library)
            path = self._find(parent, name)
            if path is not None:
                return "library", self._load(path)
            return "library", None
        return "missing", None

    def _repository_roots(self, top: str) -> list[str]:
        """Directories under the first root that hold a package or module named ``top``."""
        if self._index is None:
            self._index = _index_repository(self.roots[0]) if self.roots else {}
        return self._index.get(top, [])

    def _library(self, top: str) -> str | None:
        """The installed package directory (or module file) for ``top``, never imported."""
        if top not in self._libraries:
            where = None
            try:
                spec = importlib.util.find_spec(top)  # a top-level name imports nothing
            except (ImportError, ValueError):
                spec = None
            if spec is not None:
                locations = list(spec.submodule_search_locations or [])
                where = locations[0] if locations else spec.origin
            self._libraries[top] = where
        return self._libraries[top]

    def _find(self, root: str, name: str) -> str | None:
        key = (root, name)
        if key not in self._where:
            base = os.path.join(root, *name.split("."))
            found = None
            for candidate in (base + ".py", os.path.join(base, "__init__.py")):
                if os.path.isfile(candidate):
                    found = candidate
                    break
            self._where[key] = found
        return self._where[key]

    def expect(self, paths: list[str]) -> None:
        """Name the files this run will lint, so one read early for its imports is kept."""
        self._expected = {os.path.abspath(path) for path in paths}

    def take_parsed(self, path: str) -> tuple[bytes, ast.Module] | None:
        """The source and tree of a to-be-linted file already parsed for another's imports."""
        return self._parsed.pop(path, None)

    def _load(self, path: str) -> ModuleFacts | None:
        if path not in self._by_path:
            facts = self.new_facts(path)
            loaded: ModuleFacts | None = facts
            try:
                with open(path, "rb") as file:
                    source = file.read()
                tree = ast.parse(source, filename=path)
            except (OSError, SyntaxError, ValueError):
                loaded = None
            else:
                gather(tree.body, facts)
                if path in self._expected:  # its own scan comes later: parse it once
                    self._parsed[path] = (source, tree)
            self._by_path[path] = loaded
        return self._by_path[path]

    # -- resolving names -------------------------------------------------------------

    def resolve(self, facts: ModuleFacts, name: str, depth: int = 0) -> Symbol:
        """Return where ``name`` (as written in ``facts``' module) is defined."""
        head, _, rest = name.partition(".")
        if head in facts.classes and not rest:
            return facts, head
        if head in facts.aliases:
            target = facts.aliases[head] + (f".{rest}" if rest else "")
        else:
            star = next((m for m in reversed(facts.stars) if head in STAR_EXPORTS.get(m, ())), None)
            if star is None:
                return self._from_star(facts, name, depth)
            target = f"{star}.{name}"
        return self._global(target, facts, depth)

    def _from_star(self, facts: ModuleFacts, name: str, depth: int) -> Symbol:
        """``from app.enums import *``: a project module's names, last import first."""
        head = name.partition(".")[0]
        if depth <= _MAX_DEPTH:
            for star in reversed(facts.stars):
                owner = self.module(star, facts)
                if owner is None or owner is facts:
                    continue
                if binds(owner, head):
                    if head in owner.aliases and head not in owner.classes:
                        return self.resolve(owner, name, depth + 1)  # re-exported there
                    return owner, name  # defined there
                if owner.stars:  # a package __init__ that star-imports its modules
                    found = self._from_star(owner, name, depth + 1)
                    if found[0] is not None:
                        return found
        return None, name

    def _global(self, target: str, near: ModuleFacts, depth: int) -> Symbol:
        if target in PY_ENUM_BASES or target in LITERAL_NAMES or depth > _MAX_DEPTH:
            return None, target
        module, _, attr = target.rpartition(".")
        while module:
            owner = self.module(module, near)
            if owner is not None:
                if "." not in attr and attr in owner.aliases and attr not in owner.classes:
                    return self.resolve(owner, attr, depth + 1)  # a re-export
                return owner, attr
            module, _, first = module.rpartition(".")
            attr = f"{first}.{attr}"
        return None, target

    def is_enum(self, facts: ModuleFacts, name: str, depth: int = 0) -> bool:
        """Say whether ``name`` in ``facts``' module is a Python enum.Enum subclass."""
        owner, resolved = self.resolve(facts, name)
        if owner is None:
            return resolved in PY_ENUM_BASES
        key = (owner.path, resolved)
        if key not in self._enum_memo:
            self._enum_memo[key] = False  # cycle guard
            bases = owner.classes.get(resolved, ())
            self._enum_memo[key] = depth < _MAX_DEPTH and any(
                self.is_enum(owner, base, depth + 1) for base in bases
            )
        return self._enum_memo[key]

    def table_ancestors(self) -> set[tuple[str, str]]:
        """(path, class) of every class a SQLModel ``table=True`` class inherits from.

        SQLModel turns inherited fields into columns of the table class; the field's
        line (in the base) is where the fix goes. Computed once, after every file is read.
        """
        if self._ancestors is None:
            found: set[tuple[str, str]] = set()
            todo = [
                (facts, cls)
                for facts in list(self._by_path.values())
                if facts is not None
                for cls in facts.table_classes
            ]
            while todo:
                owner, cls = todo.pop()
                for base in owner.classes.get(cls, ()):
                    base_owner, name = self.resolve(owner, base)
                    if base_owner is not None and name in base_owner.classes:
                        key = (base_owner.path, name)
                        if key not in found:
                            found.add(key)
                            todo.append((base_owner, name))
            self._ancestors = found
        return self._ancestors

    def annotation_map_keys(self, facts: ModuleFacts, cls: str) -> list[Symbol]:
        """Return what ``cls`` and its bases map in ``type_annotation_map`` to a non-Enum.

        What a key maps to is resolved through the imports, so ``saEnum(MyEnum)`` for
        ``from sqlalchemy import Enum as saEnum`` (or a project alias of it) is an Enum
        entry, not an override that would hide every ``Mapped[MyEnum]``.
        """
        from conventions.lint.origins import dotted_origin  # origins builds on this module

        found: list[Symbol] = []
        seen: set[tuple[str, str]] = set()
        todo: list[tuple[ModuleFacts, str]] = [(facts, cls)]
        while todo:
            owner, name = todo.pop()
            if (owner.path, name) in seen or len(seen) > _MAX_DEPTH * 4:
                continue
            seen.add((owner.path, name))
            for key, value in owner.annotation_maps.get(name, ()):
                origin = dotted_origin(self, owner, value) if value else None
                if origin is None or not origin.is_type:
                    found.append(self.resolve(owner, key))
            for base in owner.classes.get(name, ()):
                base_owner, base_name = self.resolve(owner, base)
                if base_owner is not None and base_name in base_owner.classes:
                    todo.append((base_owner, base_name))
        return found


_SKIP_DIRECTORIES = frozenset(
    {"node_modules", "__pycache__", "site-packages", "venv", "env", "build", "dist", "htmlcov"}
)
_INDEX_LIMIT = 20_000  # directories: a bound on the one walk, for very large checkouts


def _index_repository(top: str) -> dict[str, list[str]]:
    """Map each top-level package or module name to the directories that hold it.

    A monorepo's ``packages/shared/src/shared/enums.py`` is importable as
    ``shared.enums`` from ``packages/shared/src``; that directory becomes a root for
    ``shared`` even though nobody listed it.
    """
    index: dict[str, list[str]] = {}
    seen = 0
    for directory, subdirs, files in os.walk(top):
        seen += 1
        if seen > _INDEX_LIMIT:
            break
        subdirs[:] = sorted(
            d for d in subdirs if not d.startswith(".") and d not in _SKIP_DIRECTORIES
        )
        if "__init__.py" in files:
            parent, name = os.path.split(directory)
            if not os.path.isfile(os.path.join(parent, "__init__.py")):
                index.setdefault(name, []).append(parent)
        else:
            for file in files:
                if file.endswith(".py"):
                    index.setdefault(file[:-3], []).append(directory)
    return index


def binds(facts: ModuleFacts, name: str) -> bool:
    """Whether a module binds ``name`` at module level (what ``import *`` would bring)."""
    return not name.startswith("_") and (
        name in facts.classes
        or name in facts.aliases
        or name in facts.values
        or name in facts.instances
        or name in facts.functions
    )
