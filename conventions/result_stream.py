"""Keep stdout for a command's result: everything else printed meanwhile goes to stderr.

``status --json | python -m json.tool`` must parse even when the project's code (its
app factory, its models, Alembic's fileConfig logging) prints while it loads. So,
while a ``--json`` command works, file descriptor 1, ``sys.stdout`` and the house log
handler all point at stderr; the result is written after, to the real stdout.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def others_to_stderr(enabled: bool = True) -> Iterator[None]:
    """Send whatever is printed inside the block to stderr (fd 1 included)."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    saved_fd = _dup(1)
    handlers = [h for h in _all_handlers() if getattr(h, "stream", None) is sys.stdout]
    for handler in handlers:
        handler.setStream(sys.stderr)
    try:
        if saved_fd is not None:
            os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        if saved_fd is not None:
            os.dup2(saved_fd, 1)
            os.close(saved_fd)
        for handler in handlers:
            handler.setStream(sys.stdout)


def _dup(fd: int) -> int | None:
    try:
        return os.dup(fd)
    except OSError:  # no fd 1 (a daemon, an embedded interpreter): Python-level only
        return None


def _all_handlers() -> list[logging.StreamHandler[Any]]:
    loggers = [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
    found = []
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler):
                found.append(handler)
    return found
