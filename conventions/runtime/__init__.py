"""What runs migrations and changes the database: the write side.

env.py's :func:`conventions.env.run` hands a command to :mod:`.environment`, which runs
it through :mod:`.step_runner` (one revision per transaction, under :mod:`.migrator_lock`,
retried by :mod:`.retry` within :mod:`.limits`, watched by :mod:`.blockers`, recorded by
:mod:`.recorder`); :mod:`.archive` keeps what a downgrade drops, :mod:`.safety` guards
Alembic's plain operations, :mod:`.backfill` runs batched data changes. Read-only
commands never import anything here (tests/test_package_imports.py).
"""
