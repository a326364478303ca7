"""Find a project's metadata in its imported modules without running any of its code.

``lint --models`` used to ``getattr`` every module global looking for ``.metadata``.
A Flask app's modules hold ``current_app`` (a werkzeug ``LocalProxy``): touching
any attribute of it outside an app context raises, and the lint died with "bug in
the tooling". Here values are classified by ``type(value)`` (C-level, never the
proxy's ``__class__``) and attributes are read with :func:`inspect.getattr_static`
(dictionaries only: no descriptors, no ``__getattr__``). What counts as holding
metadata:

- a ``MetaData``;
- a ``registry`` (and its metadata);
- a class with a static ``metadata``/``registry`` (a declarative base or a model);
- an object with a static ``Model`` class and/or ``metadatas`` dict — the shape of
  Flask-SQLAlchemy's ``db`` (``db.Model``, one MetaData per bind key).

``--models pkg.module:attr`` names the holder directly; it is classified the same way.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.orm import registry

_MISSING = object()
_PACKAGE = Path(__file__).resolve().parents[1]


@dataclass
class Found:
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

    def _class(self, cls: type) -> None:
        for name in ("metadata", "registry"):
            held = _static(cls, name)
            if issubclass(type(held), (MetaData, registry)):
                self.add(held)


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


@dataclass(frozen=True)
class Frame:
    path: Path
    line: int
    code: str


def project_frame(err: BaseException, roots: Sequence[Path]) -> Frame | None:
    """Return the innermost traceback frame in the project's own files (not ours, not site)."""
    resolved = [root.resolve() for root in roots]
    frames = traceback.extract_tb(err.__traceback__)
    if isinstance(err, SyntaxError) and err.filename:
        return _frame(Path(err.filename), err.lineno or 1, err.text or "", resolved)
    for summary in reversed(frames):
        frame = _frame(Path(summary.filename), summary.lineno or 1, summary.line or "", resolved)
        if frame is not None:
            return frame
    return None


def _frame(path: Path, line: int, code: str, roots: Sequence[Path]) -> Frame | None:
    if path.suffix != ".py" or not path.is_file():
        return None
    path = path.resolve()
    if path.is_relative_to(_PACKAGE) or "site-packages" in path.parts:
        return None
    if not any(path.is_relative_to(root) for root in roots):
        return None
    return Frame(path, line, code.strip())
