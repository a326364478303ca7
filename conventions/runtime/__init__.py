"""Runtime pieces that act while a migration runs (issue 12's layout).

:mod:`conventions.runtime.safety` guards Alembic's plain operations;
:mod:`conventions.runtime.backfill` runs batched, resumable data changes.
"""
