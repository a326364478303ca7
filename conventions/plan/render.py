"""Print a plan: the house log style table (stdout), Markdown for a pull request, JSON.

One row per lock a statement took (a statement that took none still gets a row):
statement, lock, what it blocks, rewrite/scan, target rows, estimated hold; then
one verdict line per revision. JSON keys are documented in README ("plan").
"""

from __future__ import annotations

from typing import Any

from conventions import logs
from conventions.plan import gate
from conventions.plan.locks import strength
from conventions.plan.report import (
    LockPlan,
    Plan,
    RevisionPlan,
    StatementPlan,
    shorten,
    statement_json,
)

HEADERS = ("statement", "lock", "blocks", "rewrite/scan", "target rows", "est. hold")


def _rows(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"{value:,.0f}"


def _work(s: StatementPlan) -> str:
    parts = []
    if s.rewritten:
        parts.append("rewrite")
    elif s.estimate.work == "index build":
        parts.append("index build")
    if s.scanned and not s.rewritten and s.estimate.work != "index build":
        parts.append("scan")
    if s.estimate.data_dependent:
        parts.append("data-dependent")
    return ", ".join(parts) or "-"


def _grouped(locks: list[LockPlan]) -> list[tuple[LockPlan, int]]:
    """Fold the index locks a table statement takes into its table's row, same mode."""
    tables = {(lock.relation, lock.mode) for lock in locks if lock.kind == "table"}
    folded: dict[tuple[str, str], int] = {}
    rows: list[tuple[LockPlan, int]] = []
    for lock in locks:
        owner = (lock.table, lock.mode)
        if lock.kind == "index" and owner in tables:
            folded[owner] = folded.get(owner, 0) + 1
        else:
            rows.append((lock, 0))
    return [(lock, folded.get((lock.relation, lock.mode), 0)) for lock, _ in rows]


def _table_rows(rev: RevisionPlan, width: int) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for s in rev.statements:
        where = {"autocommit": " [after commit, own txn]", "after commit": " [after commit]"}
        label = shorten(s.sql, width) + where.get(s.transaction, "")
        existing = sorted(
            (lock for lock in s.locks if not lock.new),
            key=lambda lock: (lock.kind != "table", lock.relation),
        )
        created = [lock for lock in s.locks if lock.new]
        if not s.locks:
            hold = "-" if s.observed else "not observed"
            lock_text = "(already held)" if s.transaction != "autocommit" else "-"
            rows.append((label, lock_text, "-", _work(s), "-", hold))
        if created:
            strongest = max(created, key=lambda lock: strength(lock.mode))
            tables = [lock.relation for lock in created if lock.kind == "table"]
            names = tables or [created[0].relation]
            more = f" (+{len(created) - len(names)})" if len(created) > len(names) else ""
            rows.append(
                (
                    label,
                    f"{strongest.mode} new {', '.join(names)}{more}",
                    "nothing (new)",
                    _work(s),
                    "new",
                    gate.seconds_text(strongest.hold_seconds),
                )
            )
            label = "″"
        for lock, indexes in _grouped(existing):
            blocks = ", ".join(lock.blocking) or "nothing"
            more = f" (+{indexes} index{'es' if indexes > 1 else ''})" if indexes else ""
            rows.append(
                (
                    label,
                    f"{lock.mode} {lock.relation}{more}",
                    blocks,
                    _work(s),
                    _rows(lock.target_rows),
                    gate.seconds_text(lock.hold_seconds),
                )
            )
            label = "″"
    if rev.failed is not None:
        rows.append((shorten(rev.failed.sql, width), "-", "-", "could not run", "-", "-"))
    return rows


def text(plan: Plan) -> str:
    """The house log style: a header per revision, an aligned table, a verdict line."""
    lines = [_summary(plan)]
    for note in plan.notes:
        lines.append(f"{logs.mark('warn')} {note}")
    if not plan.revisions:
        lines.append(
            f"{logs.mark('done')} nothing pending: the target is at the requested revision"
        )
    total = len(plan.revisions)
    for number, rev in enumerate(plan.revisions, 1):
        lines.append("")
        lines.append(f"{logs.mark('start')} [{number}/{total}] {rev.label}")
        rows = [HEADERS, *_table_rows(rev, 60)]
        widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
        for row in rows:
            lines.append(
                "  "
                + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
            )
        ok, line = gate.verdict(rev, plan.threshold)
        lines.append(f"{logs.mark('done' if ok else 'error')} {line}")
        lines.extend(_limits(rev))
    return "\n".join(lines) + "\n"


def _limits(rev: RevisionPlan) -> list[str]:
    found = []
    for s in rev.statements:
        if s.estimate.data_dependent:
            found.append(f"   note: {s.short}: data-dependent; costed as touching every row")
        if not s.observed:
            found.append(f"   note: {s.short}: ran outside a transaction too fast to see its locks")
        if s.estimate.unknown and s.estimate.work != "catalog only":
            found.append(f"   note: {s.short}: size unknown for {', '.join(s.estimate.unknown)}")
    if rev.failed is not None:
        found.append(f"   could not run on scratch: {rev.failed.short}: {rev.failed.error}")
    return found


def _summary(plan: Plan) -> str:
    rates = ""
    if plan.rates is not None:
        r = plan.rates
        rates = (
            f"; per row on scratch: rewrite {r.rewrite * 1e6:.2f} µs, scan {r.scan * 1e6:.2f} µs,"
            f" index {r.index * 1e6:.2f} µs (text keys {r.text_index * 1e6:.2f} µs)"
        )
    revision = ", ".join(plan.start) or "base"
    return (
        f"plan: {len(plan.revisions)} revision(s) from {revision}; sizes from "
        f"{plan.sizes.source}; threshold {gate.seconds_text(plan.threshold)}{rates}"
    )


def markdown(plan: Plan) -> str:
    """The same for a pull-request comment."""
    out = [f"### Migration plan\n\n{_summary(plan)}\n"]
    for note in plan.notes:
        out.append(f"> ⚠️ {note}\n")
    for rev in plan.revisions:
        ok, line = gate.verdict(rev, plan.threshold)
        out.append(f"#### {'✅' if ok else '❌'} `{rev.label}`\n")
        out.append("| " + " | ".join(HEADERS) + " |")
        out.append("|" + "---|" * len(HEADERS))
        for row in _table_rows(rev, 80):
            cells = [cell.replace("|", "\\|") for cell in row]
            cells[0] = f"`{cells[0]}`" if cells[0] != "″" else cells[0]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
        out.append(f"**{line}**")
        out.extend(note.strip() for note in _limits(rev))
        out.append("")
    return "\n".join(out) + "\n"


def as_json(plan: Plan, failures: list[gate.Failure] | None = None) -> dict[str, Any]:
    """The plan as one JSON document (keys documented in README)."""
    rates = plan.rates
    found = failures if failures is not None else gate.failures(plan)
    return {
        "target": {
            "source": plan.sizes.source,
            "database": plan.sizes.database,
            "revision": list(plan.sizes.revision or ()),
            "server_version": plan.sizes.server_version,
        },
        "scratch": {
            "server_version": plan.scratch_version,
            "build_seconds": round(plan.scratch_seconds, 3),
            "trace_seconds": round(plan.trace_seconds, 3),
            "per_row_seconds": None
            if rates is None
            else {
                "rewrite": rates.rewrite,
                "text_index": rates.text_index,
                "scan": rates.scan,
                "index": rates.index,
                "calibration_rows": rates.rows,
                "calibration_row_bytes": round(rates.row_bytes, 1),
            },
        },
        "threshold_seconds": plan.threshold,
        "complete": plan.complete,
        "notes": plan.notes,
        "revisions": [
            {
                "revision": rev.revision,
                "label": rev.label,
                "ok": gate.verdict(rev, plan.threshold)[0],
                "verdict": gate.verdict(rev, plan.threshold)[1],
                "statements": [statement_json(s) for s in rev.statements],
                "could_not_run": None
                if rev.failure is None
                else {
                    "statement": rev.failed.sql.strip() if rev.failed else None,
                    "error": rev.failure,
                },
                "skipped": rev.skipped,
            }
            for rev in plan.revisions
        ],
        "check": {
            "passed": not found,
            "failures": [
                {
                    "revision": f.revision.revision,
                    "statement": f.statement.sql.strip(),
                    "relation": f.lock.relation if f.lock else None,
                    "mode": f.lock.mode if f.lock else None,
                    "estimated_hold_seconds": round(f.lock.hold_seconds, 6) if f.lock else None,
                    "reason": f.reason,
                    "safe_alternative": f.advice,
                }
                for f in found
            ],
        },
    }
