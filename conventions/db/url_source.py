"""Where ``DATABASE_URL`` came from, and refusing one that was given but is unusable.

A user who set ``DATABASE_URL`` believes they are migrating that database. If the
value is empty, or the ``.env`` line holding it does not parse, falling back to the
embedded server (the behaviour for "not set") migrates a local database while they
think staging was migrated, and exits 0. So "given" and "not given" are told apart
strictly:

* not in the environment and no ``.env`` (or a ``.env`` without the key): not given,
  the embedded server is used;
* set in the environment, even to ``""``: given; empty is an error;
* a ``.env`` that is not UTF-8, or has a line python-dotenv cannot parse: an error
  naming the file and line, whichever key the line holds (the line may be the
  ``DATABASE_URL`` the user meant);
* ``DATABASE_URL=`` in ``.env``, or a value that expands to nothing
  (``${UNDEFINED}``): an error naming the file, the line and the variable.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from conventions.db import redact
from conventions.errors import DatabaseUrlError

KEY = "DATABASE_URL"
# Migrations may need another road to the same database than the application (a direct
# or session-mode URL when the application goes through a transaction pooler).
MIGRATION_KEY = "CONVENTIONS_MIGRATION_URL"
MIGRATION_SETTING = "migration_url"
_REFERENCE = re.compile(r"\$\{(?P<name>[^}:]+)(?::-(?P<default>[^}]*))?\}")


@dataclass(frozen=True)
class GivenUrl:
    """A URL the user gave, and where: ``origin`` is said in every message about it."""

    value: str
    origin: str


class EnvFileError(DatabaseUrlError):
    """``.env`` exists but cannot be read: not UTF-8, or a line that does not parse."""

    def __init__(self, message: str, *, path: Path, line: int, hints: list[str]) -> None:
        self.path = path
        self.line = line
        super().__init__(message, hints=hints)


def given_url(root: Path, environ: dict[str, str] | None = None) -> GivenUrl | None:
    """Return the URL the user gave, or None if none was.

    First the migration URL (``CONVENTIONS_MIGRATION_URL`` in the environment or
    ``.env``, then ``migration_url`` in ``[tool.conventions]``), then ``DATABASE_URL``
    (environment, then ``root/.env``).
    """
    env = os.environ if environ is None else environ
    for key in (MIGRATION_KEY, KEY):
        if key in env:
            return _from_environment(key, env[key])
        found = _from_env_file(root / ".env", env, key)
        if found is not None:
            return found
        if key == MIGRATION_KEY:
            found = _from_pyproject(root)
            if found is not None:
                return found
    return None


def _from_environment(key: str, raw: str) -> GivenUrl:
    value = raw.strip()
    redact.remember(value)
    if not value:
        raise DatabaseUrlError(
            f"{key} is set in the environment but empty. Nothing was run: an empty "
            "value would silently use the embedded server instead.",
            hints=[
                f"Set it to the database to migrate, or unset it (unset {key}) to use "
                "the embedded server.",
            ],
        )
    return GivenUrl(value, f"the environment variable {key}")


def _from_pyproject(root: Path) -> GivenUrl | None:
    from conventions.project.config import lookup

    setting = lookup(MIGRATION_SETTING, root=root)
    if setting.value is None:
        return None
    origin = f"{root / 'pyproject.toml'} [tool.conventions] {MIGRATION_SETTING}"
    if not isinstance(setting.value, str) or not setting.value.strip():
        raise DatabaseUrlError(
            f"{origin} must be a non-empty string (a PostgreSQL URL). Nothing was run.",
            hints=["Give the URL migrations use, or delete the key."],
        )
    redact.remember(setting.value)
    return GivenUrl(setting.value.strip(), origin)


def _from_env_file(
    path: Path, env: dict[str, str] | os._Environ[str], key: str = KEY
) -> GivenUrl | None:
    if not path.is_file():
        return None
    data = path.read_bytes()
    try:
        content = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise EnvFileError(
            f"{path}, line {line}: not UTF-8 (byte 0x{data[err.start]:02x}). Nothing was run: "
            f"{KEY} may be on that line.",
            path=path,
            line=line,
            hints=["Save .env as UTF-8 (e.g. iconv -f latin1 -t utf-8), or delete the line."],
        ) from None
    from dotenv.parser import parse_stream

    found: tuple[str, int] | None = None
    for binding in parse_stream(io.StringIO(content)):
        text = binding.original.string
        # A binding's text starts with the blank lines before it; count them in.
        line = binding.original.line + text[: len(text) - len(text.lstrip())].count("\n")
        if binding.error:
            # The secret may be on the broken line: show it redacted.
            redact.remember(binding.original.string)
            shown = redact.redact(binding.original.string.strip())
            raise EnvFileError(
                f"{path}, line {line}: python-dotenv cannot parse {shown!r}. Nothing was run: "
                f"{KEY} may be on that line, and guessing would migrate the wrong database.",
                path=path,
                line=line,
                hints=[
                    "Each line is KEY=value; quote a value with spaces and close the quote "
                    'on the same line: DATABASE_URL="postgresql://user:pw@host/db"',
                ],
            )
        if binding.key == key:
            found = (binding.value or "", line)
    if found is None:
        return None
    raw, line = found
    redact.remember(raw)
    from dotenv import dotenv_values

    # python-dotenv's own expansion (earlier lines of the file, then the environment).
    value = (dotenv_values(stream=io.StringIO(content)).get(key) or "").strip()
    redact.remember(value)
    origin = f"{path}, line {line}"
    if not value:
        names = [m.group("name") for m in _REFERENCE.finditer(raw)]
        missing = [name for name in names if not env.get(name)]
        why = (
            f"it expands {', '.join('${' + n + '}' for n in missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not set"
            if missing
            else "the value is empty"
        )
        raise DatabaseUrlError(
            f"{key} in {origin} is empty: {why}. Nothing was run: an empty value would "
            "silently use the embedded server instead.",
            hints=[
                "Give the URL on that line, or delete the line to use the embedded server.",
            ],
        )
    return GivenUrl(value, origin)
