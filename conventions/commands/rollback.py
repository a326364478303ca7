"""``rollback``: step down (``make rollback`` is ``alembic downgrade -1``)."""

from __future__ import annotations

import argparse

from alembic import command

from conventions.project.alembic_config import alembic_config


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", default="-1", help="revision or -N (default -1)")


def run(args: argparse.Namespace) -> int:
    command.downgrade(alembic_config(), args.target)
    return 0
