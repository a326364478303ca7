"""A migration file or env.py that Python cannot load: which file, which line, the fix.

Alembic imports every revision file to build its graph and runs env.py as a module,
so a typo there surfaces as a bare SyntaxError or ImportError from deep inside
Alembic. That is the user's file, not a bug in the tooling: it gets one paragraph
naming the file and line, like any other bad input. Errors whose location is not a
project file (the tooling itself, an installed package) are left alone.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from conventions.errors import BrokenScript, ProjectCodeError

# The tooling's own files (conventions/, two levels up from here) are never the project's.
_PACKAGE = Path(__file__).resolve().parents[1]
_TRACEBACK_HINT = (
    "For the full traceback: python -m conventions --traceback …, CONVENTIONS_TRACEBACK=1, "
    "or alembic --raiseerr …"
)


def broken_script(err: BaseException, *, roots: Sequence[Path]) -> BrokenScript | None:
    """Return the house error for ``err`` if it comes from loading a file under ``roots``."""
    if isinstance(err, SyntaxError) and err.filename:
        path = Path(err.filename)
        if not _project_file(path, roots):
            return None
        code = (err.text or "").strip()
        shown = f"\n    {code}" if code else ""
        return BrokenScript(
            f"Cannot load {_shown(path)}, line {err.lineno}: {type(err).__name__}: {err.msg}. "
            f"Nothing was run.{shown}",
            path=str(path),
            line=err.lineno,
            hints=[
                f"Fix that line, then check the file: python -m py_compile {_shown(path)}",
                _TRACEBACK_HINT,
            ],
        )
    if isinstance(err, ImportError):
        frames = [
            frame
            for frame in traceback.extract_tb(err.__traceback__)
            if _project_file(Path(frame.filename), roots)
        ]
        if not frames:
            return None
        where = frames[-1]  # the innermost project line: the import that failed
        path = Path(where.filename)
        missing = getattr(err, "name", None)
        fix = (
            f"Install {missing.split('.')[0]!r} into the project's environment "
            "(add it to pyproject.toml and requirements.lock), or correct the module name."
            if isinstance(err, ModuleNotFoundError) and missing
            else "Correct the import (is the name spelled right, does that module define it?)."
        )
        return BrokenScript(
            f"Cannot load {_shown(path)}, line {where.lineno}: {type(err).__name__}: {err}. "
            f"Nothing was run.\n    {(where.line or '').strip()}",
            path=str(path),
            line=where.lineno,
            hints=[fix, _TRACEBACK_HINT],
        )
    return None


def project_code_error(err: BaseException, root: Path) -> ProjectCodeError | None:
    """Return the house error for an exception raised by the project's own code.

    An app factory that needs its config, a model reading ``current_app`` at import:
    the innermost traceback line under the project root (outside this package and
    installed packages) is where it happened. That is their code, not a bug in the
    tooling, and the message says so, naming the module and the line.
    """
    frames = [
        frame
        for frame in traceback.extract_tb(err.__traceback__)
        if _project_file(Path(frame.filename), [root])
    ]
    if not frames:
        return None
    where = frames[-1]
    path = Path(where.filename).resolve()
    module = _module_name(path, root.resolve())
    return ProjectCodeError(
        f"The project's code raised {type(err).__name__}: {err} — in {module} "
        f"({_shown(path)}, line {where.lineno}).\n    {(where.line or '').strip()}",
        module=module,
        path=str(path),
        line=where.lineno or 0,
        hints=[
            "This is the project's code, not the tooling: fix it there (an app factory "
            "may need its configuration or an app context pushed; see README, "
            "'Adopt it in your project').",
            _TRACEBACK_HINT,
        ],
    )


@dataclass(frozen=True)
class Frame:
    """A line of the project's own code in a traceback."""

    path: Path
    line: int
    code: str


def project_frame(err: BaseException, roots: Sequence[Path]) -> Frame | None:
    """Return the innermost traceback frame in the project's own files (not ours, not site)."""
    if isinstance(err, SyntaxError) and err.filename:
        path = Path(err.filename)
        if path.is_file() and _project_file(path, roots):
            return Frame(path.resolve(), err.lineno or 1, (err.text or "").strip())
        return None
    for summary in reversed(traceback.extract_tb(err.__traceback__)):
        path = Path(summary.filename)
        if path.is_file() and _project_file(path, roots):
            return Frame(path.resolve(), summary.lineno or 1, (summary.line or "").strip())
    return None


def _module_name(path: Path, root: Path) -> str:
    try:
        parts = list(path.relative_to(root).with_suffix("").parts)
    except ValueError:
        return path.stem
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts) or path.stem


def _project_file(path: Path, roots: Sequence[Path]) -> bool:
    if not path.suffix == ".py":
        return False
    path = path.resolve()
    if path.is_relative_to(_PACKAGE) or "site-packages" in path.parts:
        return False
    return any(path.is_relative_to(root.resolve()) for root in roots)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
