"""Where a project's migrations are: alembic.ini's ``script_location`` and ``version_locations``.

The lint used to assume ``<root>/alembic/versions``; Flask-Migrate projects keep
``migrations/`` (with ``alembic.ini`` inside it and no ``script_location``), others
list several ``version_locations``. Alembic already knows how to read those keys
(``%(here)s``, ``path_separator``, the legacy separators), so this asks its own
``ScriptDirectory`` rather than parsing the file a second way. It is the lint's
one resolver until the project-wide one (issue 16, part A) replaces it.

Order: ``alembic.ini`` at the project root; else ``migrations/alembic.ini`` or a
``migrations/env.py`` (Flask-Migrate's layout, ``script_location = migrations``).
A relative ``script_location`` is read from the project root, where Alembic would
read it when run there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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

    candidates = [root / "alembic.ini", root / FLASK_MIGRATE_DIR / "alembic.ini"]
    for ini in candidates:
        if not ini.is_file():
            continue
        config = Config(str(ini))
        location = config.get_main_option("script_location")
        if not location:
            if ini.parent.name != FLASK_MIGRATE_DIR:
                continue
            location = str(ini.parent)  # Flask-Migrate passes it programmatically
        elif not Path(location).is_absolute():
            location = str((root / location).resolve())
        config.set_main_option("script_location", location)
        try:
            script = ScriptDirectory.from_config(config)
        except CommandError:  # the directory named does not exist
            return MigrationLocations(Path(location), (), _shown(ini, root))
        # Alembic resolves version_locations against the cwd; the root is that here.
        dirs = tuple(
            (Path(d) if Path(d).is_absolute() else root / d).resolve()
            for d in (script.version_locations or [script.versions])
        )
        return MigrationLocations(Path(script.dir).resolve(), dirs, _shown(ini, root))
    flask = root / FLASK_MIGRATE_DIR
    if (flask / "env.py").is_file():
        return MigrationLocations(flask.resolve(), ((flask / "versions").resolve(),), "migrations/")
    return MigrationLocations(None, (), "alembic.ini or migrations/ (neither exists)")


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
