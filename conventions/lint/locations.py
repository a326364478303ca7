"""Where a project's migrations are: alembic.ini's ``script_location`` and ``version_locations``.

The lint used to assume ``<root>/alembic/versions``; Flask-Migrate projects keep
``migrations/`` (with ``alembic.ini`` inside it and no ``script_location``), others
list several ``version_locations``. Alembic already knows how to read those keys
(``%(here)s``, ``path_separator``, the legacy separators), so this asks its own
``ScriptDirectory`` rather than parsing the file a second way. It is the lint's
one resolver until the project-wide one (issue 16, part A) replaces it.

Order: the ``alembic.ini`` named by ``[tool.conventions] alembic_config`` (or
``CONVENTIONS_ALEMBIC_CONFIG``); ``alembic.ini`` at the project root (with ``[tool.alembic]`` of
``pyproject.toml``, which Alembic 1.16+ reads beside it); ``migrations/alembic.ini``
or a ``migrations/env.py`` (Flask-Migrate's layout, ``script_location =
migrations``); ``[tool.alembic]`` alone.
A relative ``script_location`` is read from the project root, where Alembic would
read it when run there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLASK_MIGRATE_DIR = "migrations"


@dataclass(frozen=True)
class MigrationLocations:
    """The script directory and every version directory under it (or beside it)."""

    script_location: Path | None
    version_dirs: tuple[Path, ...]
    source: str  # what was read, for messages: "alembic.ini", "migrations/alembic.ini", ...


def migration_locations(root: Path) -> MigrationLocations:
    """Return the project's migration directories as Alembic would resolve them."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from conventions.project.layout import ini_file

    toml = root / "pyproject.toml" if _has_tool_alembic(root / "pyproject.toml") else None
    # The alembic.ini the project configured (alembic_config), else the usual places.
    named = ini_file(root)
    candidates = (root / "alembic.ini", root / FLASK_MIGRATE_DIR / "alembic.ini")
    for ini in (
        *((named,) if named is not None and named not in candidates else ()),
        *candidates,
        None,
    ):
        if ini is not None and not ini.is_file():
            continue
        if ini is None and toml is None:
            break
        config = _config(Config, ini, toml)
        location = config.get_alembic_option("script_location") if toml else None
        location = location or config.get_main_option("script_location")
        if not location:
            if ini is None or not (ini.parent / "env.py").is_file():
                continue
            location = str(ini.parent)  # Flask-Migrate passes it programmatically
        elif not Path(location).is_absolute():
            location = str((root / location).resolve())
        config.set_main_option("script_location", location)
        source = _shown(ini, root) if ini is not None else "pyproject.toml [tool.alembic]"
        try:
            script = ScriptDirectory.from_config(config)
        except CommandError:  # the directory named does not exist
            return MigrationLocations(Path(location), (), source)
        # Alembic resolves version_locations against the cwd; the root is that here.
        dirs = tuple(
            (Path(d) if Path(d).is_absolute() else root / d).resolve()
            for d in (script.version_locations or [script.versions])
        )
        return MigrationLocations(Path(script.dir).resolve(), dirs, source)
    flask = root / FLASK_MIGRATE_DIR
    if (flask / "env.py").is_file():
        return MigrationLocations(flask.resolve(), ((flask / "versions").resolve(),), "migrations/")
    return MigrationLocations(None, (), "alembic.ini or migrations/ (neither exists)")


def _has_tool_alembic(path: Path) -> bool:
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return isinstance(data.get("tool", {}).get("alembic"), dict)


def _config(factory: Any, ini: Path | None, toml: Path | None) -> Any:
    """Alembic's Config; ``toml_file`` exists from Alembic 1.16 on."""
    if toml is None:
        return factory(str(ini)) if ini is not None else factory()
    try:
        return factory(str(ini) if ini is not None else None, toml_file=str(toml))
    except TypeError:  # an Alembic without pyproject support reads only the .ini
        return factory(str(ini)) if ini is not None else factory()


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
