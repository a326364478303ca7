"""Every revision in alembic/versions, held to the house promises — with no test per file.

The tests are the harness's own (:mod:`conventions.harness.suite`), parametrized by
the plugin loaded in conftest.py over Alembic's ScriptDirectory at collection time,
so a revision added tomorrow is tested by the next ``make test``. This is the whole
module ``python -m conventions init`` writes into a project that adopts the harness.
"""

from conventions.harness.suite import *  # noqa: F403
