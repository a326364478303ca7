"""``python -m bench`` (``make bench``): run the measurements, write the report.

The big table and its writer exist only for the measurements that need them
(1-4); the rest use small databases of their own. A measurement that fails is
written up as failed, the others still run, and the exit status says so.
"""

from __future__ import annotations

import os
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

import psycopg2

from bench import db, machine, report
from bench.config import ROOT, BenchConfig, from_env
from bench.context import Context
from bench.results import Section, Target
from bench.scenarios import ALL, Measurement
from bench.stats import duration
from bench.writer import Writer
from conventions import logs
from conventions.db.diagnose import connection_error
from conventions.db.settings import configured_url
from conventions.errors import ConventionsError
from conventions.harness.scratch import DatabaseFactory


def _run(measurement: Measurement, ctx: Context, sections: list[Section]) -> bool:
    name = f"{measurement.number}. {measurement.title}"
    logs.start(name)
    started = time.perf_counter()
    try:
        section = measurement.load().run(ctx)
    except Exception as err:
        detail = f"{type(err).__name__}: {err}".strip()
        logs.error(f"{name} failed: {detail}")
        if os.environ.get("BENCH_TRACEBACK"):
            logs.info(traceback.format_exc())
        sections.append(
            Section(
                number=measurement.number,
                key=f"{measurement.number}-failed",
                title=measurement.title,
                how=f"**This measurement failed in this run:** `{detail.splitlines()[0]}`",
                columns=[],
                rows=[],
                targets=[Target(measurement.title, "–", None, f"the measurement failed: {detail}")],
            )
        )
        return False
    sections.append(section)
    logs.done(f"{name} ({duration(time.perf_counter() - started)})")
    return True


def main() -> int:
    logs.install()
    try:
        config = from_env()
    except ValueError as err:
        logs.error(f"{err}; see the bench target in `make help` and README's Benchmarks section")
        return 2
    try:
        factory = DatabaseFactory()
        _check_server(factory)
    except ConventionsError as err:  # no server, bad DATABASE_URL: the house message says why
        logs.error(str(err))
        return 1
    return _bench(config, factory)


def _check_server(factory: DatabaseFactory) -> None:
    """Fail with the house connection message before creating anything."""
    try:
        db.connect(factory.admin).close()
    except psycopg2.OperationalError as err:
        raise connection_error(err, factory.admin) from None


def _bench(config: BenchConfig, factory: DatabaseFactory) -> int:
    started = time.perf_counter()
    load_start = machine.load()
    activity_start = db.activity(factory.admin)
    chosen = [m for m in ALL if not config.only or m.number in config.only]
    sections: list[Section] = []
    ok = True
    server: dict[str, str] = {}
    fill_s = None
    logs.start(f"Benchmarks ({config.label}, {config.rows:,} rows): {len(chosen)} measurements")
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        ctx = Context(config, factory, Path(tmp))
        on_table = [m for m in chosen if m.needs_table]
        if on_table:
            with factory.scratch(prefix="bench") as url:
                logs.info(f"    filling notification_campaigns with {config.rows:,} rows")
                fill_s = db.fill(url, config.rows)
                server = db.server_info(url)
                logs.info(f"    filled in {duration(fill_s)} ({server.get('table_size')})")
                writer_file = config.raw_dir / (
                    "writer-quick.bin" if config.quick else "writer.bin"
                )
                with Writer(url, writer_file, rows=config.rows, rate=config.writer_rate) as writer:
                    ctx.url, ctx.writer = url, writer
                    for measurement in on_table:
                        ok = _run(measurement, ctx, sections) and ok
                ctx.url = ctx.writer = None
        else:
            server = db.server_info(factory.admin)
        for measurement in chosen:
            if not measurement.needs_table:
                ok = _run(measurement, ctx, sections) and ok
    info = report.RunInfo(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        elapsed_s=time.perf_counter() - started,
        machine=machine.describe(),
        server=server,
        load_start=load_start,
        load_end=machine.load(),
        database="embedded server" if configured_url(ROOT) is None else "DATABASE_URL",
        fill_s=fill_s,
        activity_start=activity_start,
        activity_end=db.activity(factory.admin),
    )
    path = report.write(config, info, sorted(sections, key=lambda s: s.number))
    if config.update_readme:
        block = report.readme_block(sorted(sections, key=lambda s: s.number), config, info)
        if not report.update_readme(ROOT / "README.md", block):
            logs.warn("README.md has no bench markers; its Benchmarks section was not updated")
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    message = f"Report written to {where} in {duration(info.elapsed_s)}"
    (logs.finish if ok else logs.error)(message + ("" if ok else " (some measurements failed)"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
