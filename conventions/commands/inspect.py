"""``inspect TABLE``: a table's columns, indexes and constraints, with definitions."""

from __future__ import annotations

import argparse
import json

from conventions.db.connect import connected
from conventions.reports.table import inspect_table, render
from conventions.result_stream import others_to_stderr


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("table", help="table name, optionally schema-qualified (public.offers)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def run(args: argparse.Namespace) -> int:
    with (
        others_to_stderr(args.json),
        connected(application="conventions inspect") as (_engine, connection),
    ):
        table = inspect_table(connection, args.table)
    print(json.dumps(table.as_json(), indent=2) if args.json else render(table))
    return 0
