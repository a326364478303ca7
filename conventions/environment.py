"""Deprecated: env.py imports ``from conventions.env import run`` now.

Kept for one release so an env.py written against the old path keeps working; it
re-exports the same function and warns once at import.
"""

import warnings

from conventions.env import run, traceback_requested

__all__ = ["run", "traceback_requested"]

warnings.warn(
    "conventions.environment is deprecated: write 'from conventions.env import run' in env.py",
    DeprecationWarning,
    stacklevel=2,
)
