"""Follow a project's imports to the module that defines a name, reading each file once.

``Mapped[Status]`` is only an implicit ENUM if ``Status`` is an ``enum.Enum``; when
Status comes from another module of the project, this finds that module by its
dotted path (as Python would from the project root) and asks its facts. Modules
outside the project (the standard library, SQLAlchemy) are never opened.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

from conventions.lint.facts import ModuleFacts, gather
from conventions.lint.names import LITERAL_NAMES, PY_ENUM_BASES, STAR_EXPORTS

Symbol = tuple[ModuleFacts | None, str]  # (defining project module or None, name)

_MAX_DEPTH = 12


class Project:
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

    def _load(self, path: str) -> ModuleFacts | None:
        if path not in self._by_path:
            facts: ModuleFacts | None = self.new_facts(path)
            try:
                with open(path, "rb") as file:
                    tree = ast.parse(file.read(), filename=path)
            except (OSError, SyntaxError, ValueError):
                facts = None
            else:
                gather(tree.body, facts)  # type: ignore[arg-type]
            self._by_path[path] = facts
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
                return None, name
            target = f"{star}.{name}"
        return self._global(target, facts, depth)

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

    def annotation_map_keys(self, facts: ModuleFacts, cls: str) -> list[Symbol]:
        """Return what ``cls`` and its bases map in ``type_annotation_map`` (not to Enum)."""
        found: list[Symbol] = []
        seen: set[tuple[str, str]] = set()
        todo: list[tuple[ModuleFacts, str]] = [(facts, cls)]
        while todo:
            owner, name = todo.pop()
            if (owner.path, name) in seen or len(seen) > _MAX_DEPTH * 4:
                continue
            seen.add((owner.path, name))
            found.extend(self.resolve(owner, key) for key in owner.annotation_maps.get(name, ()))
            for base in owner.classes.get(name, ()):
                base_owner, base_name = self.resolve(owner, base)
                if base_owner is not None and base_name in base_owner.classes:
                    todo.append((base_owner, base_name))
        return found
