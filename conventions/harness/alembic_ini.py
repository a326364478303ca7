"""The logging half of an ``alembic.ini``, as ``alembic init`` writes it.

Throw-away projects (the benchmarks' plain Alembic project, the tests' foreign-shaped
one) need a complete ``alembic.ini``; the logging sections are the same stock text in
each, so it is written once here. Only the stream differs: a project whose app talks
on stdout logs there too.
"""

from __future__ import annotations

from typing import Literal

_LOGGING = """\
[loggers]
keys = root,sqlalchemy,alembic

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console
qualname =

[logger_sqlalchemy]
level = WARNING
handlers =
qualname = sqlalchemy.engine

[logger_alembic]
level = INFO
handlers =
qualname = alembic

[handler_console]
class = StreamHandler
args = (sys.{stream},)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)-5.5s [%(name)s] %(message)s
"""


def logging_sections(stream: Literal["stderr", "stdout"] = "stderr") -> str:
    """Return the ``[loggers]`` … ``[formatter_generic]`` sections, logging to ``stream``.

    The text is meant to follow an ``[alembic]`` section; ``%`` signs are left as
    ``configparser`` interpolation expects them in the file.
    """
    return _LOGGING.replace("{stream}", stream)
