"""Find a project's SQLAlchemy ``MetaData``, whatever shape its models take.

Projects hand their models over as a ``MetaData``, a declarative base
(``Base.metadata``), a ``registry``, or a Flask-SQLAlchemy ``db`` object
(``db.metadata``); ``[tool.conventions] metadata = "pkg.module:attr"`` names one in
configuration. env.py's :func:`conventions.env.run`, ``status`` and
``lint --models`` all resolve it here, so they agree on what "the models" are.

Module globals are read from ``vars(module)`` and classified by ``type(value)``,
never by ``getattr``/``isinstance`` on the value itself: Flask's ``current_app`` and
other context-local proxies evaluate on any attribute access and raise outside an
application context.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.orm import registry

from conventions.errors import MetadataNotFound

# Names a models module conventionally binds, most specific first.
_CANDIDATES = ("metadata", "Base", "db", "mapper_registry", "reg")

Target = MetaData | Sequence[MetaData]


def _is_proxy(value: Any) -> bool:
    """Whether ``value`` is a context-local proxy (werkzeug's LocalProxy and kin)."""
    cls = type(value)
    return any(k.__name__ in {"LocalProxy", "_ProxyLookup"} for k in cls.__mro__) or hasattr(
        cls, "_get_current_object"
    )


def _static_attr(value: Any, name: str) -> Any:
    """Read ``value.name`` only when ``value`` is a plain object, never a proxy."""
    if _is_proxy(value):
        return None
    try:
        return getattr(value, name, None)
    except Exception:  # a property that needs an app context, say: not a metadata holder
        return None


def locate(value: Any) -> Target | None:
    """Return the MetaData (or list of them) ``value`` stands for, or None."""
    if value is None or _is_proxy(value):
        return None
    if issubclass(type(value), MetaData):
        return value
    if (
        isinstance(value, (list, tuple))
        and value
        and all(issubclass(type(v), MetaData) for v in value)
    ):
        return list(value)
    if issubclass(type(value), registry):
        return value.metadata
    # A declarative base (class) or a Flask-SQLAlchemy ``db``: both expose .metadata.
    metadata = _static_attr(value, "metadata")
    if issubclass(type(metadata), MetaData):
        return metadata
    return None


def from_module(module_name: str) -> Target:
    """Return the MetaData a models module registers under a conventional name."""
    module = importlib.import_module(module_name)
    namespace = vars(module)
    for name in _CANDIDATES:
        if name in namespace:
            found = locate(namespace[name])
            if found is not None:
                return found
    raise MetadataNotFound(
        f"{module_name} binds none of {', '.join(_CANDIDATES)} to a MetaData, a declarative "
        "base, a registry or a Flask-SQLAlchemy db object.",
        target=module_name,
        hints=[
            'Name it: [tool.conventions] metadata = "your.models:Base" in pyproject.toml '
            "(or CONVENTIONS_METADATA).",
        ],
    )


def from_reference(reference: str) -> Target:
    """Resolve ``"pkg.module:attr"`` (``attr`` may be dotted) or a bare module name."""
    module_name, _, attr = reference.partition(":")
    if not attr:
        return from_module(module_name)
    value: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        value = vars(value).get(part) if hasattr(value, "__dict__") else None
        if value is None:
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
