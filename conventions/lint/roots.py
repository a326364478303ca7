"""Where the lint looks for a project's modules: ``[tool.conventions.lint] src``.

``Mapped[Status]`` is an implicit ENUM only if ``Status`` is an ``enum.Enum``, and
``from shared.enums import Status`` names a module, not a file. Like ruff's
``src``, a list of directories (relative to the project root) that imports are
resolved against; the default ``[".", "src"]`` covers flat and src layouts, and a
monorepo lists its packages' roots. ``CONVENTIONS_LINT_SRC`` (paths separated by
``:`` or ``,``) overrides it for one run. A module found in none of them is still
looked for once across the repository before the lint says it cannot tell.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from conventions.errors import LintError
from conventions.project.config import lookup

KEY = "lint.src"
ENV = "CONVENTIONS_LINT_SRC"
DEFAULT = (".", "src")


class SourceRootsInvalid(LintError):
    """``[tool.conventions.lint] src`` is not a list of directory names."""

    def __init__(self, source: str, value: object) -> None:
        self.value = value
        super().__init__(
            f"{source} must be a list of directories (strings), got {value!r}.",
            hints=[
                'Write it as src = ["src", "packages/shared/src"], relative to the project root.'
            ],
        )


def source_roots(root: Path) -> list[Path]:
    """Return the configured source roots that exist, absolute, in the order given."""
    setting = lookup(KEY, root=root, env=ENV, default=list(DEFAULT))
    value = setting.value
    if isinstance(value, str):
        value = [part for part in re.split(rf"[,{re.escape(os.pathsep)}]", value) if part]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SourceRootsInvalid(setting.source, setting.value)
    found = []
    for item in value:
        path = (root / item.strip()).resolve()
        if path.is_dir():
            found.append(path)
    return found
