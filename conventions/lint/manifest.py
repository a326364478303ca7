"""Checksums of applied migrations, so an edit to one is caught at commit time.

``alembic/versions/SHA256SUMS`` is in ``sha256sum`` format (for files with LF line
endings ``sha256sum -c SHA256SUMS`` inside the directory verifies it by hand; the
house checksum reads CRLF as LF, so a Windows checkout is not an edit). The lint compares each
listed file with its recorded digest; ``--update-manifest`` appends files that
are new and never rewrites a digest that no longer matches — that is the edit
the manifest exists to refuse. To retire a line on purpose, edit the file by hand
in a commit of its own, where review sees it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from conventions.errors import ManifestMalformed
from conventions.history.checksums import file_checksum
from conventions.lint.report import Finding, display_path

MANIFEST_NAME = "SHA256SUMS"
HEADER = (
    "# SHA-256 of every applied migration in this directory (sha256sum format).\n"
    "# The lint fails when a listed file changes: never edit an applied migration,\n"
    "# write a new one. Record new files: python -m conventions lint --update-manifest\n"
)
_LINE = re.compile(r"^(?P<digest>[0-9a-f]{64}) [ *](?P<name>\S.*)$")


@dataclass
class Manifest:
    path: Path
    entries: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (digest, line)
    exists: bool = False


@dataclass
class Verdict:
    findings: list[Finding] = field(default_factory=list)
    new: list[Path] = field(default_factory=list)


def versions_dir(root: Path) -> Path:
    """Return the project's first version location (see :mod:`conventions.project.layout`)."""
    return version_dirs(root)[0]


def version_dirs(root: Path) -> list[Path]:
    """Return every version location; each keeps its own SHA256SUMS."""
    from conventions.project.layout import layout

    return list(layout(root).version_locations)


def load(versions: Path) -> Manifest:
    """Read the manifest beside the migrations; a missing file is an empty manifest."""
    path = versions / MANIFEST_NAME
    manifest = Manifest(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return manifest
    manifest.exists = True
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ManifestMalformed(path=display_path(path), line=number, text=line)
        manifest.entries[match["name"]] = (match["digest"], number)
    return manifest


def digest(path: Path) -> str:
    """The house checksum (shared with the history recorder): CRLF reads as LF."""
    return file_checksum(path)


def is_migration(path: Path, versions: Path) -> bool:
    return (
        path.suffix == ".py"
        and not path.name.startswith(("_", "."))
        and path.resolve().parent == versions
    )


def migration_files(versions: Path) -> list[Path]:
    return sorted(p for p in versions.glob("*.py") if is_migration(p, versions))


def check(files: Iterable[Path], manifest: Manifest, *, whole_directory: bool) -> Verdict:
    """Compare files with their recorded digests; list new ones; find deleted ones."""
    versions = manifest.path.parent
    verdict = Verdict()
    for path in files:
        if not is_migration(path, versions):
            continue
        recorded = manifest.entries.get(path.name)
        if recorded is None:
            verdict.new.append(path)
        elif digest(path) != recorded[0]:
            verdict.findings.append(_changed(path, manifest))
    if whole_directory:
        on_disk = {p.name for p in migration_files(versions)}
        for name, (_digest, number) in manifest.entries.items():
            if name not in on_disk:
                verdict.findings.append(_missing(name, number, manifest))
    return verdict


def update(manifest: Manifest) -> tuple[list[Path], Verdict]:
    """Append new migration files to the manifest; changed ones are reported, not rewritten."""
    versions = manifest.path.parent
    verdict = check(migration_files(versions), manifest, whole_directory=True)
    if verdict.new:
        lines = {name: recorded for name, (recorded, _line) in manifest.entries.items()}
        lines.update((path.name, digest(path)) for path in verdict.new)
        body = "".join(f"{lines[name]}  {name}\n" for name in sorted(lines))
        temporary = manifest.path.with_name(MANIFEST_NAME + ".tmp")
        temporary.write_text(HEADER + body, encoding="utf-8")
        temporary.replace(manifest.path)
    return verdict.new, verdict


def _changed(path: Path, manifest: Manifest) -> Finding:
    shown = display_path(path.resolve())
    return Finding(
        shown,
        1,
        1,
        "HSE010",
        f"applied migration {path.name} changed since {display_path(manifest.path)} recorded "
        f"it; never edit an applied migration: restore it (git restore {shown}) and write a "
        "new migration for the change",
    )


def _missing(name: str, number: int, manifest: Manifest) -> Finding:
    return Finding(
        display_path(manifest.path),
        number,
        1,
        "HSE011",
        f"applied migration {name} is listed here but missing from the directory; restore it "
        "(databases that ran it still point at its revision)",
    )
