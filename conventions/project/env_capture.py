"""Read what a project's env.py hands the runtime, without running a command.

A project's env.py knows things nothing else does: its metadata (often behind an app
factory), its ``include_object`` (views, tables owned elsewhere), its URL (from the
app's config). ``status`` must see the same as ``alembic check`` does, so instead of
a second configuration it loads env.py with a capture marker in
``config.attributes``: :func:`conventions.env.run` records what it was given
and returns before it connects or plans anything. ``dont_mutate`` keeps an env.py
that does not call ``run()`` from creating ``alembic_version``.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory

from conventions.project.alembic_config import alembic_config

CAPTURE = "conventions.capture"  # the key conventions.env.run() looks for


@dataclass
class HandOver:
    """What env.py gave ``run()``: metadata, the composed configure() options, its URL."""

    metadata: Any = None
    options: dict[str, Any] = field(default_factory=dict)
    url: Any = None
    config_url: str | None = None  # sqlalchemy.url after env.py ran (Flask-Migrate sets it)


def capture(root: Path) -> HandOver | None:
    """Load ``root``'s env.py in capture mode; None when it does not call ``run()``.

    Whatever env.py prints goes to stderr (stdout carries a command's result).
    Errors from env.py or the project code it imports propagate to the caller.
    """
    config = alembic_config(root)
    box: dict[str, Any] = {}
    config.attributes[CAPTURE] = box
    script = ScriptDirectory.from_config(config)

    def plan_nothing(_heads: Any, _context: Any) -> list[Any]:
        return []

    with (
        contextlib.redirect_stdout(sys.stderr),
        EnvironmentContext(config, script, fn=plan_nothing, dont_mutate=True),
    ):
        script.run_env()
    if not box:
        return None
    ini_url = config.get_main_option("sqlalchemy.url")
    if ini_url and ini_url.startswith("driver://"):  # `alembic init`'s placeholder
        ini_url = None
    return HandOver(box.get("metadata"), dict(box.get("options") or {}), box.get("url"), ini_url)
