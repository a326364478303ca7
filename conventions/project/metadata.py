"""Find a project's SQLAlchemy ``MetaData``, whatever shape its models take.

Projects hand their models over as a ``MetaData``, a declarative base
(``Base.metadata``), a ``registry``, or a Flask-SQLAlchemy ``db`` object
(``db.metadata``); ``[tool.conventions] metadata = "pkg.module:attr"`` names one in
configuration. env.py's :func:`conventions.env.run`, ``status``, the harness and
``lint --models`` all resolve it here, so they agree on what "the models" are.

Nothing of the project's is evaluated to find out. A Flask app's modules hold
``current_app`` (a werkzeug ``LocalProxy``): touching any attribute of it outside an
app context raises, and the lint used to die with "bug in the tooling". Values are
classified by ``type(value)`` (C-level, never the proxy's ``__class__``) and
attributes are read with :func:`inspect.getattr_static` (dictionaries only: no
descriptors, no ``__getattr__``). What counts as holding metadata:

- a ``MetaData`` (or a list of them, for env.py's ``target_metadata``);
- a ``registry`` (and its metadata);
- a class with a static ``metadata``/``registry`` (a declarative base or a model);
- an object with a static ``Model`` class and/or ``metadatas`` dict — the shape of
  Flask-SQLAlchemy's ``db`` (``db.Model``, one MetaData per bind key).

A models module that fails to import is the project's error: it is raised as
:class:`~conventions.errors.ProjectCodeError` naming the module and line.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.exc import NoReferenceError
from sqlalchemy.orm import registry

from conventions.errors import ForeignKeyTargetMissing, MetadataNotFound

# Names a models module conventionally binds, most specific first.
_CANDIDATES = ("metadata", "Base", "db", "mapper_registry", "reg")
_MISSING = object()

Target = MetaData | Sequence[MetaData]


@dataclass
class Found:
    """Every MetaData and registry seen, in the order first seen (deduplicated by identity)."""

    metadatas: dict[int, MetaData] = field(default_factory=dict)
    registries: dict[int, registry] = field(default_factory=dict)

    def add(self, value: Any) -> None:
        """Record what ``value`` holds, looking only at types and static attributes."""
        kind = type(value)
        if issubclass(kind, MetaData):
            self.metadatas.setdefault(id(value), value)
        elif issubclass(kind, registry):
            self.registries.setdefault(id(value), value)
            self.add(value.metadata)
        elif kind is list or kind is tuple:
            if value and all(issubclass(type(v), MetaData) for v in value):
                for held in value:
                    self.add(held)
        elif issubclass(kind, type):
            self._class(value)
        elif not issubclass(kind, ModuleType):
            model = _static(value, "Model")
            if issubclass(type(model), type):
                self._class(model)
            metadatas = _static(value, "metadatas")
            if type(metadatas) is dict:
                for held in metadatas.values():
                    if issubclass(type(held), MetaData):
                        self.add(held)
            held = _static(value, "metadata")  # a plain attribute, never a property
            if issubclass(type(held), MetaData):
                self.add(held)

    def _class(self, cls: type) -> None:
        for name in ("metadata", "registry"):
            held = _static(cls, name)
            if issubclass(type(held), (MetaData, registry)):
                self.add(held)

    def target(self) -> Target | None:
        """The one MetaData found, the list of several, or None."""
        found = list(self.metadatas.values())
        if not found:
            return None
        return found[0] if len(found) == 1 else found


def _static(value: Any, name: str) -> Any:
    try:
        return inspect.getattr_static(value, name, _MISSING)
    except Exception:  # an exotic type whose MRO cannot be read: it holds nothing we know
        return _MISSING


def holders(modules: Iterable[ModuleType], attribute: str | None = None) -> Found:
    """Return every MetaData and registry the modules' globals hold (or ``attribute``'s)."""
    found = Found()
    for module in modules:
        namespace = vars(module)  # never getattr: a module __getattr__ runs code
        if attribute is not None:
            found.add(namespace.get(attribute))
            break
        for value in list(namespace.values()):
            found.add(value)
    return found


def locate(value: Any) -> Target | None:
    """Return the MetaData (or list of them) ``value`` stands for, or None."""
    found = Found()
    found.add(value)
    return found.target()


def import_models(module_name: str, *, root: Path | None = None) -> ModuleType:
    """Import the project's models module; its own failure is raised as the project's error."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        missing = err.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise MetadataNotFound(
                f"No module named {module_name} (looked for the models there).",
                target=module_name,
                hints=[
                    "Run from the project root, or name the models: [tool.conventions] "
                    'metadata = "your.models:Base" in pyproject.toml (or CONVENTIONS_METADATA).',
                ],
            ) from err
        raise _theirs(err, root) from err
    except Exception as err:
        raise _theirs(err, root) from err


def _theirs(err: Exception, root: Path | None) -> Exception:
    from conventions.project.script_errors import project_code_error

    if root is None:
        from conventions.db.settings import project_root

        root = project_root()
    return project_code_error(err, root) or err


def from_module(module_name: str, *, root: Path | None = None) -> Target:
    """Return the MetaData a models module registers.

    A conventional name (``metadata``, ``Base``, ``db``, ...) wins; failing that, the
    metadata with tables that the module's globals hold, as ``lint --models`` finds it.
    """
    module = import_models(module_name, root=root)
    namespace = vars(module)
    for name in _CANDIDATES:
        if name in namespace:
            found = locate(namespace[name])
            if found is not None:
                return found
    held = [m for m in holders([module]).metadatas.values() if m.tables]
    if held:
        return held[0] if len(held) == 1 else held
    raise MetadataNotFound(
        f"{module_name} binds none of {', '.join(_CANDIDATES)} to a MetaData, a declarative "
        "base, a registry or a Flask-SQLAlchemy db object, and holds no metadata with tables.",
        target=module_name,
        hints=[
            'Name it: [tool.conventions] metadata = "your.models:Base" in pyproject.toml '
            "(or CONVENTIONS_METADATA).",
        ],
    )


def from_reference(reference: str, *, root: Path | None = None) -> Target:
    """Resolve ``"pkg.module:attr"`` (``attr`` may be dotted) or a bare module name."""
    module_name, _, attr = reference.partition(":")
    if not attr:
        return from_module(module_name, root=root)
    value: Any = import_models(module_name, root=root)
    for part in attr.split("."):
        value = vars(value).get(part) if type(value) is ModuleType else _static(value, part)
        if value is None or value is _MISSING:
            value = None
            break
    found = locate(value)
    if found is None:
        raise MetadataNotFound(
            f"{reference} is not a MetaData, a declarative base, a registry or a "
            "Flask-SQLAlchemy db object.",
            target=reference,
            hints=["Point [tool.conventions] metadata at one of those (module:attribute)."],
        )
    return found


def configured_reference(root: Path) -> str | None:
    """Return ``[tool.conventions] metadata`` (CONVENTIONS_METADATA over it), if set."""
    from conventions.project.config import lookup

    value = lookup("metadata", root=root, env="CONVENTIONS_METADATA").value
    return str(value) if value else None


def first(target: Target) -> MetaData:
    """Return one MetaData for code that compares one (the first of a list)."""
    return target if isinstance(target, MetaData) else target[0]


_FK_MESSAGES = (
    # NoReferencedTableError
    re.compile(
        r"column '(?P<column>[^']+)' could not find table '(?P<table>[^']+)'.*"
        r"target column '(?P<target>[^']+)'"
    ),
    # NoReferencedColumnError
    re.compile(r"ForeignKey '(?P<spec>[^']+)' on table '(?P<table>[^']+)'"),
)


def unresolved_foreign_keys(err: NoReferenceError, metadata: Any = None) -> ForeignKeyTargetMissing:
    """Explain a ForeignKey that cannot be resolved, naming its column and target.

    With the metadata at hand every such ForeignKey is listed (a missing models module
    usually breaks several); otherwise the one SQLAlchemy named.
    """
    missing: list[tuple[str, str]] = []
    target = locate(metadata) if metadata is not None else None
    held_all = [] if target is None else [target] if isinstance(target, MetaData) else list(target)
    for held in held_all:
        for table in held.tables.values():
            for fk in table.foreign_keys:
                try:
                    fk.column  # noqa: B018  (resolving it is the check)
                except NoReferenceError:
                    missing.append((f"{table.fullname}.{fk.parent.name}", fk.target_fullname))
    if not missing:
        text = str(err)
        match = _FK_MESSAGES[0].search(text)
        if match:
            missing.append((match["column"], f"{match['table']}.{match['target']}"))
        elif match := _FK_MESSAGES[1].search(text):
            missing.append((f"table {match['table']}", match["spec"]))
    return ForeignKeyTargetMissing(missing=missing, reason=str(err))
