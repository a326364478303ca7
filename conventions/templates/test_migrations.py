"""Every Alembic revision of this project, held to the house promises (house-migrations).

Written by ``python -m conventions init``; edit freely. Each revision upgrades,
downgrades and upgrades again on a real PostgreSQL (``DATABASE_URL``, else the
embedded server of the ``server`` extra), keeps seeded data, is idempotent, and
writes no native ENUM. Needs ``pip install 'house-migrations[harness]'``.

Seed data: ``[tool.conventions.harness]`` in pyproject.toml (generated rows on/off or
per table, legacy ENUMs, one-way revisions, declared data changes), or a session
fixture ``migration_seed_rows`` in conftest.py returning ``{"table": [{...}]}``.
Revisions or models that read Flask's ``current_app`` at import need an app pushed
before collection: at the top of conftest.py, ``create_app().app_context().push()``.
"""

from conventions.harness.suite import *  # noqa: F403

# The harness plugin parametrizes the suite over this project's revisions.
pytest_plugins = ["conventions.harness.plugin"]
