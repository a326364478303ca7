"""``migrate``: apply every pending migration (what ``make migrate`` runs)."""

from __future__ import annotations

import argparse

from alembic import command

from conventions.project.alembic_config import alembic_config


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", default="head", help="revision to upgrade to")
    parser.add_argument("--sql", action="store_true", help="print the SQL instead of running it")


def run(args: argparse.Namespace) -> int:
    command.upgrade(alembic_config(), args.target, sql=args.sql)
    return 0
