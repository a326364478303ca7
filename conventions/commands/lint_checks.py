"""The four checks behind ``python -m conventions lint``: files, models, squawk, manifest.

Each one gathers findings, drops what ``[tool.conventions.lint]`` turns off
(select/ignore/per-file-ignores), then holds the rest against the baseline
(:mod:`conventions.lint.baseline`): ``--baseline`` records them, any other run
prints only new ones. ``conventions.commands.lint`` parses the command line.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from conventions import logs
from conventions.commands.lint import DEFAULT_MODELS, notice, print_findings, roots, usage_error
from conventions.lint.config import LintConfig, expand_defaults
from conventions.lint.report import Finding, display_path

if TYPE_CHECKING:
    from conventions.lint.squawk import Skipped

_LINE_PREFIX = re.compile(r"^line \d+: ")

# Names shown in the "nothing to check" message.
_HOW_TO_CONFIGURE = (
    "Name them (python -m conventions lint myapp/models migrations/versions) or configure "
    "them in pyproject.toml (the migration directories come from alembic.ini's "
    "script_location, or [tool.alembic]):\n"
    '    [tool.conventions.lint]\n    paths = ["myapp/models"]\n'
    '    [tool.alembic]\n    script_location = "migrations"'
)


def files(args: argparse.Namespace, config: LintConfig) -> int:
    from conventions.lint.static import iter_files, lint_paths
    from conventions.project.layout import migration_locations

    locations = migration_locations(config.root)
    defaults = expand_defaults(config, locations.version_dirs)
    missing = [p for p in config.paths or () if not (config.root / p).exists()]
    if missing:
        notice(f"configured lint path(s) not found ({config.paths_source}): {', '.join(missing)}")
    if args.configured_only:
        scope = [os.path.abspath(p) for p in defaults]
        paths = [
            Path(p)
            for p in iter_files(args.paths)
            if any(_under(os.path.abspath(p), s) for s in scope)
        ]
        if not paths:
            return 0  # a hook run: no staged file lies in the lint paths
    else:
        paths = list(args.paths) or defaults
    listed = [Path(p) for p in iter_files(paths)]
    if not listed:
        return usage_error(_nothing_to_check(config, args.paths, locations))
    findings = [f for f in lint_paths(listed) if config.allows(f.code, f.path)]
    if not args.configured_only:  # the hook has its own always-run manifest guard
        findings += _manifest_findings(config, locations.version_dirs, listed)
    judged = {config.relative(p) for p in listed}
    whole = not args.paths
    return _finish(args, config, "files", findings, judged=lambda rel: whole or rel in judged)


def _under(path: str, scope: str) -> bool:
    return path == scope or path.startswith(scope.rstrip(os.sep) + os.sep)


def _nothing_to_check(config: LintConfig, given: Sequence[Path], locations: object) -> str:
    if given:
        where = ", ".join(display_path(p) for p in given)
    else:
        if config.paths is not None:
            models = f"the configured paths ({config.paths_source}: {', '.join(config.paths)})"
        else:
            models = "app/models (the default)"
        dirs = ", ".join(display_path(d) for d in getattr(locations, "version_dirs", ()))
        where = (
            f"{models} or the migration directories "
            f"(named by {getattr(locations, 'source', 'alembic.ini')}: {dirs or 'none found'})"
        )
    return f"lint: nothing to check: no *.py or *.sql file in {where}. " + _HOW_TO_CONFIGURE


def _manifest_findings(
    config: LintConfig, version_dirs: Iterable[Path], listed: Iterable[Path]
) -> list[Finding]:
    from conventions.lint import manifest

    findings: list[Finding] = []
    given = list(listed)
    for versions in version_dirs:
        if not versions.is_dir():
            continue
        recorded = manifest.load(versions)
        in_dir = [p for p in given if manifest.is_migration(p, versions)]
        # Deleted migrations are checked on every run: pre-commit never passes a deleted file.
        verdict = manifest.check(in_dir, recorded, whole_directory=True)
        findings += [f for f in verdict.findings if config.allows(f.code, f.path)]
        _notice_new(verdict.new, recorded.path)
    return findings


def _notice_new(new: Sequence[Path], manifest_path: Path) -> None:
    if not new:
        return
    notice(
        f"{len(new)} migration file(s) not yet in {display_path(manifest_path)} "
        f"({_some(new)}); once applied (merged), record them: "
        "python -m conventions lint --update-manifest"
    )


def _some(paths: Sequence[Path], limit: int = 3) -> str:
    """Name a few files, and count the rest: a 549-file list is no message."""
    names = sorted(p.name for p in paths)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def manifest(config: LintConfig, *, update: bool) -> int:
    from conventions.lint import manifest as checksums
    from conventions.project.layout import migration_locations

    locations = migration_locations(config.root)
    dirs = [d for d in locations.version_dirs if d.is_dir()]
    if not dirs:
        return usage_error(
            f"lint: no migration directory to check: read {locations.source} "
            "(script_location / version_locations) and looked for migrations/."
        )
    if not update:
        findings: list[Finding] = []
        for versions in dirs:
            recorded = checksums.load(versions)
            verdict = checksums.check(
                checksums.migration_files(versions), recorded, whole_directory=True
            )
            findings += [f for f in verdict.findings if config.allows(f.code, f.path)]
            _notice_new(verdict.new, recorded.path)
        print_findings(f.render() for f in sorted(findings))
        return 1 if findings else 0
    failed = False
    for versions in dirs:
        recorded = checksums.load(versions)
        added, verdict = checksums.update(recorded)
        print_findings(f.render() for f in sorted(verdict.findings))
        shown = display_path(recorded.path)
        if added:
            logs.done(f"Recorded {len(added)} migration file(s) in {shown}: {_some(added)}")
        else:
            logs.info(f"{shown}: no new migration files to record.")
        if verdict.findings:
            failed = True
            logs.error(
                f"{len(verdict.findings)} applied migration(s) changed or missing; "
                f"{shown} was not rewritten for them."
            )
    return 1 if failed else 0


def models(args: argparse.Namespace, config: LintConfig) -> int:
    from conventions.lint.metadata import find_module, lint_models

    names = [name or config.models or DEFAULT_MODELS for name in args.models]
    for name in names:
        if not find_module(name, roots=roots()):
            return usage_error(
                f"lint: no module named {name.partition(':')[0]!r} (looked from "
                f"{', '.join(display_path(r) or '.' for r in dict.fromkeys(roots()))}). "
                "Pass --models your.models, or set it in pyproject.toml: "
                '[tool.conventions] metadata = "your.models" (or "your.models:db").'
            )
    from conventions.errors import NoMetadataFound

    findings: list[Finding] = []
    for name in names:
        try:
            findings.extend(lint_models(name, roots=roots()))
        except NoMetadataFound as err:  # checked nothing: never a success
            return usage_error(str(err))
    findings = [f for f in sorted(set(findings)) if config.allows(f.code, f.path)]
    return _finish(args, config, "models", findings, judged=lambda _rel: True)


def squawk(args: argparse.Namespace, config: LintConfig) -> int:
    from conventions.lint import squawk as squawk_check

    only: set[Path] | None = None
    if args.paths and not any(p.name == squawk_check.CONFIG_NAME for p in args.paths):
        revisions = {p.resolve() for p in squawk_check.revision_files(config.root)}
        only = {p.resolve() for p in args.paths} & revisions
        if not only:
            return 0  # a hook run on files that are not revisions
    elif not squawk_check.revision_files(config.root):
        from conventions.project.layout import migration_locations

        locations = migration_locations(config.root)
        return usage_error(
            f"lint --squawk: no revision files to check: read {locations.source} "
            "(script_location / version_locations) and found none."
        )
    skipped: list[squawk_check.Skipped] = []
    violations = squawk_check.run(config.root, only=only, skipped=skipped)
    if skipped:
        notice(_skipped_notice(skipped))
    findings = [v.finding() for v in violations]
    findings = [f for f in findings if config.allows(f.code, f.path)]
    judged_paths = {config.relative(p) for p in only} if only is not None else None
    return _finish(
        args,
        config,
        "squawk",
        findings,
        judged=lambda rel: judged_paths is None or rel in judged_paths,
    )


def _skipped_notice(skipped: Sequence[Skipped]) -> str:
    """Name each skipped revision; past a handful, one line per distinct reason."""
    head = f"squawk skipped {len(skipped)} revision(s) that cannot render offline"
    items = sorted(skipped)
    if len(items) <= 5:
        return f"{head}: " + "; ".join(s.render() for s in items)
    groups: dict[str, list[str]] = {}
    for item in items:
        reason = _LINE_PREFIX.sub("", item.reason)
        groups.setdefault(reason, []).append(item.path)
    lines = [
        f"  {len(paths)} × {reason}: {_some([Path(p) for p in paths])}"
        for reason, paths in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    how = "name files to see each one's line: python -m conventions lint --squawk FILE ..."
    return f"{head} ({how}):\n" + "\n".join(lines)


def _finish(
    args: argparse.Namespace,
    config: LintConfig,
    check: str,
    findings: list[Finding],
    *,
    judged: Callable[[str], bool],
) -> int:
    """Record (``--baseline``) or hold findings against the baseline; print; exit code."""
    from conventions.lint import baseline

    recorded = baseline.load(config.baseline)
    keys = baseline.Keys(check, config.relative)
    shown = display_path(config.baseline)
    if args.baseline:
        count, refused = baseline.record(recorded, findings, keys, judged=judged)
        print_findings(f.render() for f in refused)
        logs.done(
            f"Recorded {count} {check} finding(s) in {shown}; commit it. "
            "Later runs fail only on findings it does not hold."
        )
        if refused:
            logs.error(
                f"{len(refused)} finding(s) about applied migrations (HSE010/HSE011) are never "
                "baselined: restore the files."
            )
            return 1
        return 0
    outcome = baseline.apply(recorded, findings, keys, judged=judged, root=config.root)
    print_findings(f.render() for f in outcome.new)
    if outcome.baselined:
        notice(f"{outcome.baselined} known finding(s) in {shown} not shown.")
    if outcome.dropped:
        notice(
            f"{outcome.dropped} {check} finding(s) in {shown} are gone; dropped them from the "
            "file. Commit it."
        )
    return 1 if outcome.new else 0
