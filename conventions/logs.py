"""The seed's logging standard: 🔧 start, ✅ step done, ⚠️ warning, ❌ error, 🎉 finished.

Emoji help a person scanning a terminal and hurt everyone grepping a CI log, so the
marks become words when output is not a terminal or ``NO_COLOR``/``PLAIN_LOGS`` is
set (``PLAIN_LOGS=0`` forces emoji). Library code logs; only the CLI and env.py
install the handler.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from types import TracebackType
from typing import TextIO

from conventions.db.redact import redact

LOGGER_NAME = "conventions"

_EMOJI = {"start": "🔧", "done": "✅", "warn": "⚠️ ", "error": "❌", "finish": "🎉"}
_PLAIN = {
    "start": "[start]",
    "done": "[ok]",
    "warn": "[warn]",
    "error": "[error]",
    "finish": "[done]",
}

logger = logging.getLogger(LOGGER_NAME)


def plain_mode(stream: TextIO | None = None) -> bool:
    """Decide between emoji and words, honouring the user's explicit choice first."""
    forced = os.environ.get("PLAIN_LOGS")
    if forced is not None and forced != "":
        return forced not in ("0", "false", "no")
    if os.environ.get("NO_COLOR"):
        return True
    stream = stream or sys.stdout
    return not (hasattr(stream, "isatty") and stream.isatty())


class _MarkFormatter(logging.Formatter):
    def __init__(self, plain: bool) -> None:
        super().__init__()
        self.marks = _PLAIN if plain else _EMOJI

    def format(self, record: logging.LogRecord) -> str:
        mark = getattr(record, "mark", None)
        if mark is None:
            mark = {logging.WARNING: "warn", logging.ERROR: "error"}.get(record.levelno)
        text = redact(record.getMessage())
        return f"{self.marks[mark]} {text}" if mark else text


class _HouseHandler(logging.StreamHandler[TextIO]):
    """The handler :func:`install` adds; ``_house`` marks it for code that looks for it."""

    _house = True


def install(stream: TextIO | None = None) -> None:
    """Send house log lines to ``stream`` once per process (idempotent)."""
    stream = stream or sys.stdout
    for handler in logger.handlers:
        if getattr(handler, "_house", False):
            return
    handler = _HouseHandler(stream)
    handler.setFormatter(_MarkFormatter(plain_mode(stream)))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    if sys.excepthook is sys.__excepthook__:
        sys.excepthook = _redacted_traceback


def _redacted_traceback(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    """Print an uncaught exception's traceback (asked for, or a bug) with secrets masked."""
    text = "".join(traceback.format_exception(kind, value, tb))
    sys.stderr.write(redact(text))


def mark(name: str) -> str:
    """Return the mark the installed handler uses, for marks inside a line."""
    for handler in logger.handlers:
        if isinstance(handler.formatter, _MarkFormatter):
            return handler.formatter.marks[name].strip().strip("[]")
    return _PLAIN[name].strip("[]") if plain_mode() else _EMOJI[name].strip()


def _live() -> logging.Logger:
    """Return the house logger, enabled again if a project's env.py disabled it.

    ``logging.config.fileConfig(alembic.ini)`` at the top of an env.py disables every
    logger that existed before it (``disable_existing_loggers``), ours included: the
    error that ends a command would be lost and the command exit 1 in silence.
    """
    logger.disabled = False
    return logger


def start(message: str) -> None:
    _live().info(message, extra={"mark": "start"})


def done(message: str) -> None:
    _live().info(message, extra={"mark": "done"})


def warn(message: str) -> None:
    _live().warning(message, extra={"mark": "warn"})


def error(message: str) -> None:
    _live().error(message, extra={"mark": "error"})


def finish(message: str) -> None:
    _live().info(message, extra={"mark": "finish"})


def info(message: str) -> None:
    _live().info(message)
