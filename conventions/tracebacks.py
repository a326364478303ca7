"""Whether the user asked to see Python tracebacks instead of house error messages.

Kept apart from ``conventions.runtime`` so the CLI (and with it the read-only
commands) can ask without importing the code that changes the database.
"""

from __future__ import annotations

import os


def traceback_requested() -> bool:
    return os.environ.get("CONVENTIONS_TRACEBACK", "") not in ("", "0")
