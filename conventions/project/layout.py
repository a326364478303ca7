"""Where a project keeps its migrations: the one place that answers it.

A project adopting the conventions already has a layout: ``migrations/`` (Flask-Migrate),
``db/alembic``, several ``version_locations``, its own ``file_template``, Alembic's
options in ``alembic.ini`` or in ``[tool.alembic]`` of ``pyproject.toml`` (Alembic 1.16+).
Every command (migrate, status, repair, baseline, the lint's manifest and squawk pass,
the harness) builds its Alembic ``Config`` here and asks Alembic itself where the
scripts are, so they all agree with what ``alembic upgrade`` reads.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from alembic.config import Config

# Alembic's own default; the scaffold's alembic.ini spells it out. A project whose
# file_template is anything else chose its own names, and the house name stays out.
ALEMBIC_DEFAULT_FILE_TEMPLATE = "%(rev)s_%(slug)s"


def _toml_has_alembic(path: Path) -> bool:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    table = data.get("tool", {}).get("alembic")
    return isinstance(table, dict) and "script_location" in table


def ini_file(root: Path) -> Path | None:
    """Return the project's alembic.ini.

    ``[tool.conventions] alembic_config`` (or ``CONVENTIONS_ALEMBIC_CONFIG``) names it,
    e.g. ``"zou/migrations/alembic.ini"`` for a package that keeps its migrations
    inside; else ``alembic.ini`` at the root, else Flask-Migrate's ``migrations/``.
    """
    from conventions.project.config import lookup

    named = lookup("alembic_config", root=root, env="CONVENTIONS_ALEMBIC_CONFIG").value
    if named:
        path = Path(str(named))
        return path if path.is_absolute() else root / path
    for candidate in (root / "alembic.ini", root / "migrations" / "alembic.ini"):
        if candidate.is_file():
            return candidate
    return None


def has_alembic_config(directory: Path) -> bool:
    """Whether ``directory`` holds an Alembic project (alembic.ini or [tool.alembic])."""
    return ini_file(directory) is not None or _toml_has_alembic(directory / "pyproject.toml")


def config(root: Path) -> Config:
    """Return the project's Alembic ``Config`` as the ``alembic`` command would build it.

    ``alembic.ini`` when present (with ``[tool.alembic]`` beside it, as Alembic reads
    both; Flask-Migrate keeps it in ``migrations/``); ``[tool.alembic]`` alone
    otherwise. ``script_location`` is made absolute so a command run from a
    subdirectory finds the same scripts.
    """
    ini = ini_file(root)
    toml = root / "pyproject.toml"
    cfg = Config(
        str(ini) if ini is not None else None,
        toml_file=str(toml) if _toml_has_alembic(toml) else None,
    )
    location = cfg.get_alembic_option("script_location")
    if location is None:
        # Flask-Migrate's alembic.ini names none (Migrate(directory=...) does): the
        # directory holding it and env.py is the scripts'.
        beside = ini is not None and (ini.parent / "env.py").is_file()
        location = str(ini.parent) if beside and ini is not None else "alembic"
    if ":" not in location or Path(location).is_absolute():  # not a package resource
        path = Path(location)
        cfg.set_main_option("script_location", str(path if path.is_absolute() else root / path))
    return cfg


@dataclass(frozen=True)
class Layout:
    """The resolved migration layout of one project."""

    root: Path
    script_location: Path
    version_locations: tuple[Path, ...]
    file_template: str | None  # None: the project has none of its own (house name applies)

    @property
    def versions(self) -> Path:
        """The first version location: where new revisions and SHA256SUMS go by default."""
        return self.version_locations[0]


def layout(root: Path) -> Layout:
    """Resolve ``root``'s script location, version locations and own file template."""
    from alembic.script import ScriptDirectory

    cfg = config(root)
    script = ScriptDirectory.from_config(cfg)
    raw = cfg.get_version_locations_list() or []
    locations = tuple(_resolve(root, item) for item in raw) or (Path(script.dir) / "versions",)
    template = cfg.get_alembic_option("file_template")
    own = template if template and template != ALEMBIC_DEFAULT_FILE_TEMPLATE else None
    return Layout(root, Path(script.dir).resolve(), tuple(p.resolve() for p in locations), own)


def _resolve(root: Path, item: str) -> Path:
    from alembic.util import coerce_resource_to_filename

    path = Path(coerce_resource_to_filename(item))
    # Alembic reads a relative location from the working directory; the tools run
    # from the project root, and read it from there wherever they are started.
    return path if path.is_absolute() else root / path


FLASK_MIGRATE_DIR = "migrations"


@dataclass(frozen=True)
class Locations:
    """Where the migrations are, as far as they exist, and what said so (for messages)."""

    script_location: Path | None
    version_dirs: tuple[Path, ...]
    source: str  # "alembic.ini", "migrations/alembic.ini", "pyproject.toml [tool.alembic]", ...


def migration_locations(root: Path) -> Locations:
    """Return the project's migration directories without failing when one is missing.

    The read-only tools (lint, squawk, the manifest check) report "no migration
    directory" in their own words, so this never raises: it is :func:`layout` with
    the failures turned into empty answers. A ``migrations/env.py`` without any
    ``alembic.ini`` is Flask-Migrate's layout (it passes the directory in code).
    """
    from alembic.util import CommandError

    ini = ini_file(root)
    if ini is None and not _toml_has_alembic(root / "pyproject.toml"):
        flask = root / FLASK_MIGRATE_DIR
        if (flask / "env.py").is_file():
            return Locations(flask.resolve(), ((flask / "versions").resolve(),), "migrations/")
        return Locations(None, (), "alembic.ini or migrations/ (neither exists)")
    source = _shown(ini, root) if ini is not None else "pyproject.toml [tool.alembic]"
    try:
        found = layout(root)
    except CommandError:  # the directory named does not exist
        named = config(root).get_main_option("script_location")
        return Locations(Path(named) if named else None, (), source)
    return Locations(found.script_location, found.version_locations, source)


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
