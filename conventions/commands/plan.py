"""``plan``: before a migration runs, see what it will lock, rewrite and block on the target.

Exit codes: 0 (without ``--check``, or the gate passed), 1 (``--check`` failed: a
statement would block reads or writes longer than the threshold, or a revision
could not be planned), 2 (usage). The result goes to stdout (table, Markdown or
one JSON document, also on error); progress and warnings go to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from conventions import logs
from conventions.errors import ConventionsError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "range",
        nargs="?",
        default=None,
        help="REV (plan up to REV) or FROM:TO; default: from the target's revision to heads",
    )
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="one JSON document (keys in README)")
    out.add_argument("--markdown", action="store_true", help="Markdown for a pull request")
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit 1 if a statement would block reads or writes longer than max_blocking",
    )
    parser.add_argument(
        "--rows",
        nargs="+",
        default=[],
        metavar="TABLE=N",
        type=_row_arg,
        help="row counts by hand (no target database is read)",
    )
    parser.add_argument("--stats", type=Path, help="sizes from a file written by --export-stats")
    parser.add_argument(
        "--export-stats",
        type=Path,
        metavar="FILE",
        help="write the target's revision and table sizes to FILE and exit (read-only)",
    )


def _row_arg(given: str) -> str:
    from conventions.plan.sizes import BadRowCount, parse_rows

    try:
        parse_rows([given])
    except BadRowCount as err:
        raise argparse.ArgumentTypeError(err.message) from None
    return given


def _range(given: str | None) -> tuple[tuple[str, ...] | None, str]:
    if not given:
        return None, "heads"
    if ":" in given:
        lower, _, upper = given.partition(":")
        lower_revs = () if lower in ("", "base") else tuple(lower.split(","))
        return lower_revs, upper or "heads"
    return None, "head" if given == "head" else given


def run(args: argparse.Namespace) -> int:
    _logs_to_stderr()
    try:
        return _run(args)
    except ConventionsError as err:
        if args.json:
            print(json.dumps({"error": err.message, "hints": list(err.hints)}, indent=2))
            logs.error(str(err))
            return 1
        raise


def _logs_to_stderr() -> None:
    """stdout carries the plan; every log line of this command goes to stderr."""
    logs.install(sys.stderr)
    for handler in logs.logger.handlers:
        if getattr(handler, "_house", False) and isinstance(handler, logging.StreamHandler):
            handler.setStream(sys.stderr)


def _run(args: argparse.Namespace) -> int:
    from conventions.db.settings import database_url, mask, project_root
    from conventions.harness.project import Project
    from conventions.plan import gate, sizes
    from conventions.plan.run import Request, make_plan, read_target
    from conventions.plan.scratch import scratch_server_url

    root = project_root()
    if args.export_stats is not None:
        url = database_url(root)
        target = read_target(url)
        args.export_stats.write_text(
            json.dumps(target.to_json(mask(url)), indent=2) + "\n", encoding="utf-8"
        )
        logs.done(
            f"Wrote {len(target.tables)} table size(s) at revision "
            f"{', '.join(target.revision or ()) or 'base'} to {args.export_stats}"
        )
        return 0
    rows = sizes.parse_rows(args.rows)
    stats = sizes.load(args.stats) if args.stats is not None else None
    lower, upper = _range(args.range)
    project = Project(root)
    if upper not in ("heads", "head"):
        _known(project, upper)
    for rev in lower or ():
        _known(project, rev)
    request = Request(
        upper="heads" if upper == "head" else upper,
        lower=lower,
        target=None if (stats is not None or rows) else database_url(root),
        stats=stats,
        rows=rows,
        scratch_url=scratch_server_url(root),
        threshold=gate.max_blocking(root),
    )
    if request.target is None and lower is None and stats is None:
        logs.warn(
            "No target database is read (--rows): planning from base; give FROM:TO to "
            "start elsewhere."
        )
    outcome: list[int] = []
    make_plan(project, request, on_ready=lambda plan: outcome.append(_report(plan, rows, args)))
    return outcome[0]


def _report(plan, rows: dict[str, float], args: argparse.Namespace) -> int:
    from conventions.plan import gate, render

    _unused_rows(plan, rows)
    found = gate.failures(plan)
    if args.json:
        print(json.dumps(render.as_json(plan, found), indent=2))
    elif args.markdown:
        sys.stdout.write(render.markdown(plan))
    else:
        sys.stdout.write(render.text(plan))
    sys.stdout.flush()
    if not plan.complete:
        logs.warn("The plan is incomplete: a revision could not run on the scratch database.")
    if args.check:
        for failure in found:
            logs.error(
                f"{failure.revision.label}: {failure.statement.short or '(revision)'} "
                f"{failure.reason}.\n  → safe alternative: {failure.advice}"
            )
        if found:
            return 1
        logs.done(
            "plan --check: nothing blocks reads or writes for more than "
            f"{gate.seconds_text(plan.threshold)}"
        )
    return 0


def _known(project, revision: str) -> None:
    from alembic.util import CommandError

    from conventions.plan.run import UnknownRevision

    try:
        found = project.script.get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        raise UnknownRevision(revision)


def _unused_rows(plan, rows: dict[str, float]) -> None:
    touched = {lock.relation for rev in plan.revisions for s in rev.statements for lock in s.locks}
    for table in rows:
        if table not in touched:
            logs.warn(f"--rows {table}: no pending statement touches this table (a typo?).")
