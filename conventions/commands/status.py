"""``status``: applied and pending revisions, heads, drift, catalog checks, recent history."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from alembic.util import CommandError

from conventions import logs
from conventions.db.connect import connected
from conventions.db.settings import mask, project_root, project_url
from conventions.errors import NotPostgreSQL
from conventions.history.records import HistoryRow
from conventions.project.alembic_config import alembic_config
from conventions.project.env_capture import HandOver, capture
from conventions.project.metadata import configured_reference, first, from_reference
from conventions.project.script_errors import project_code_error
from conventions.reports.status import Status, read_status
from conventions.result_stream import others_to_stderr


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 unless at head with no drift or edits"
    )
    parser.add_argument(
        "--history", type=_history_count, default=10, metavar="N", help="last N steps"
    )
    parser.add_argument(
        "--models",
        default=None,
        metavar="MODULE[:ATTR]",
        help="the models (default: [tool.conventions] metadata, else what env.py hands "
        "run(), else app.models)",
    )


HISTORY_MAX = 100_000


def _history_count(raw: str) -> int:
    """Parse --history N: a whole number the history query can take (0 shows none)."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if not 0 <= value <= HISTORY_MAX:
        raise argparse.ArgumentTypeError(f"{value} is not between 0 and {HISTORY_MAX}")
    return value


def run(args: argparse.Namespace) -> int:
    # With --json, stdout is the JSON document alone: what the project's code and
    # Alembic print while loading goes to stderr.
    with others_to_stderr(args.json):
        status = _gather(args)
    if args.json:
        print(json.dumps(status.as_json(), indent=2))
    else:
        print(render(status))
    return 1 if args.check and not status.ok else 0


def _gather(args: argparse.Namespace) -> Status:
    root = project_root()
    script = ScriptDirectory.from_config(alembic_config(root))
    handed, env_problem = _hand_over(root)
    metadata, models_problem = _metadata(args.models, root, handed)
    url = project_url(root, handed=handed.url, config_url=handed.config_url)
    if url.get_backend_name() != "postgresql":
        raise NotPostgreSQL(dialect=url.get_backend_name())
    with connected(url, application="conventions status") as (engine, connection):
        status = read_status(
            connection,
            script,
            database=mask(engine.url),
            metadata=metadata,
            history_limit=args.history,
            options=handed.options,
        )
    if models_problem:
        status.drift_note = models_problem
    if env_problem:
        logs.warn(env_problem)
    return status


def _hand_over(root: Path) -> tuple[HandOver, str | None]:
    """What env.py hands run() (metadata, include_object, URL); empty if it cannot load."""
    try:
        return capture(root) or HandOver(), None
    except Exception as err:  # their env.py or app: report it, check what we can
        explained = project_code_error(err, root)
        return HandOver(), (
            "env.py could not be loaded, so its include_object and URL are not used: "
            f"{explained or f'{type(err).__name__}: {err}'}"
        )


def _metadata(explicit: str | None, root: Path, handed: HandOver) -> tuple[Any, str | None]:
    reference = explicit or configured_reference(root)
    if reference is None and handed.metadata is not None:
        return first(handed.metadata), None
    reference = reference or "app.models"
    try:
        return first(from_reference(reference, root=root)), None
    except (ImportError, CommandError) as err:
        return None, f"not checked: cannot load {reference} ({err})"
    except Exception as err:
        explained = project_code_error(err, root)
        return None, f"not checked: cannot load {reference} ({explained or err})"


def _section(title: str, items: list[str], *, none: str = "none") -> list[str]:
    if not items:
        return [f"{title}: {none}"]
    return [f"{title}: {len(items)}", *(f"  - {item}" for item in items)]


def _history_line(row: HistoryRow) -> str:
    outcome = "ok" if row.success else "FAILED"
    who = f"{row.db_user}@{row.client_host or '?'}" + (f" ({row.os_user})" if row.os_user else "")
    line = (
        f"  {row.started_at:%Y-%m-%d %H:%M:%S}  {row.direction:<9} {row.revision}  "
        f"{row.file_name or '-'}  {outcome}  {row.duration_ms}ms  {who}"
    )
    extra = row.error or row.note
    if extra:
        line += f"\n      {extra.splitlines()[0]}"
    return line


def render(status: Status) -> str:
    """Return the human-readable report (the order a person asks the questions in)."""
    heads = set(status.heads)
    current = ", ".join(f"{c} (head)" if c in heads else c for c in status.current)
    lines = [
        f"Database: {status.database}",
        f"Current:  {current or 'none (no migration applied)'}",
        f"Heads:    {', '.join(status.heads) or 'none'}"
        + ("  ← multiple heads: alembic merge heads" if len(status.heads) > 1 else ""),
        "Revisions (oldest first):",
        *(f"  [{'X' if r.applied else ' '}] {r.revision}  {r.file}" for r in status.revisions),
    ]
    pending = len(status.pending)
    lines.append(
        f"Pending:  {pending} (python -m conventions migrate)"
        if pending
        else "Pending:  none (up to date)"
    )
    if status.unknown:
        lines += _section("Applied revisions missing from the version locations", status.unknown)
    if status.baseline_needed:
        lines += _section(
            "Tables built outside migrations (baseline: python -m conventions baseline)",
            status.baseline_needed,
        )
    lines += _section(
        "Edited since applied (python -m conventions repair)",
        [f"{name} ({rev})" for rev, name in status.edited],
    )
    lines += _section("Drift (models vs database)", status.drift, none=status.drift_note or "none")
    lines += _section("NOT VALID constraints", status.not_valid_constraints)
    lines += _section("Invalid indexes (interrupted CONCURRENTLY)", status.invalid_indexes)
    lines += _section("Native ENUM types", status.enum_types)
    lines += _section("Tables without a primary key", status.tables_without_primary_key)
    if status.archives:
        lines.append(
            f"Archived data from downgrades: {status.archives} (python -m conventions archive list)"
        )
    if status.history:
        lines.append(f"Last {len(status.history)} step(s):")
        lines += [_history_line(row) for row in status.history]
    else:
        lines.append("History: none recorded yet")
    return "\n".join(lines)
