"""Deprecated: throw-away databases live in ``conventions.harness.scratch`` now.

Kept for one release so a project's tests written against the old path keep working.
"""

import warnings

from conventions.harness.scratch import DatabaseFactory, child_env, connect, run_cli, url_text

__all__ = ["DatabaseFactory", "child_env", "connect", "run_cli", "url_text"]

warnings.warn(
    "conventions.testing is deprecated: import from conventions.harness.scratch",
    DeprecationWarning,
    stacklevel=2,
)
