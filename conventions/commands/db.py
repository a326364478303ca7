"""``db``: the database every command uses — print its URL, stop it, open psql."""

from __future__ import annotations

import argparse
import os
import shutil

from conventions import logs
from conventions.db import embedded
from conventions.db.settings import configured_url, database_url, mask, project_root


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["url", "stop", "psql"])


def run(args: argparse.Namespace) -> int:
    root = project_root()
    if args.action == "stop":
        if configured_url(root) is not None:
            logs.warn("DATABASE_URL is set; there is no embedded server to stop.")
        if embedded.stop(root / ".pgdata"):
            logs.done("Embedded PostgreSQL stopped.")
        else:
            logs.info("Embedded PostgreSQL was not running.")
        return 0
    url = database_url(root)
    if args.action == "url":
        print(mask(url))
        return 0
    # The password goes in the environment, not argv, where `ps` would show it.
    if url.password:
        os.environ["PGPASSWORD"] = str(url.password)
    libpq = url.set(drivername="postgresql", password=None).render_as_string()
    psql = shutil.which("psql") or str(embedded.binary("psql"))
    os.execv(psql, [psql, libpq])
    return 0  # pragma: no cover - execv does not return
