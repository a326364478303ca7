"""The lint's promises in writing: code table, README, hook manifests, name table."""

from __future__ import annotations

import importlib
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import sqlalchemy
import yaml
from sqlalchemy import Enum

from conventions.lint.codes import PREFIX, RULES
from conventions.lint.spellings import ENUM_TYPES

ROOT = Path(__file__).resolve().parents[1]


def readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("## Lint and pre-commit hooks")
    assert start < text.index("## Environment variables")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def hooks() -> list[dict[str, object]]:
    return yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))


def test_codes_are_stable_unique_and_explained() -> None:
    codes = [rule.code for rule in RULES]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(rf"{PREFIX}\d{{3}}", code) for code in codes)
    # Append-only numbering: a code is never renumbered or reused.
    assert codes == [f"{PREFIX}{n:03d}" for n in range(1, len(codes) + 1)]
    assert all(rule.title and rule.rationale for rule in RULES)


def test_readme_names_every_rule_code_and_hook_id() -> None:
    section = readme_section()
    for rule in RULES:
        assert f"`{rule.code}`" in section, rule.code
    for hook in hooks():
        assert f"`{hook['id']}`" in section, hook["id"]
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    for repo in config["repos"]:
        for hook in repo["hooks"]:
            assert f"`{hook['id']}`" in section, hook["id"]


def test_each_published_hook_is_its_own_console_script() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for hook in hooks():
        assert hook["id"] == hook["entry"], hook
        module, _, function = scripts[hook["entry"]].partition(":")
        assert callable(getattr(importlib.import_module(module), function))
    # Importing the models needs the project's dependencies: not pre-commit's isolated env.
    languages = {hook["id"]: hook["language"] for hook in hooks()}
    assert languages == {
        "conventions-lint": "python",
        "conventions-lint-manifest": "python",
        "conventions-lint-models": "system",
        "conventions-squawk": "python",
    }


def test_the_local_config_runs_the_published_hooks_from_the_venv_plus_ruff() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    local = {hook["id"]: hook for hook in config["repos"][0]["hooks"]}
    assert {"ruff-check", "ruff-format"} <= set(local)
    for hook in hooks():
        assert local[hook["id"]]["entry"] == f".venv/bin/{hook['entry']}"


def test_published_hooks_select_files_as_the_local_ones_do() -> None:
    """Content checks run on staged files; only the manifest guard runs always."""
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    local = {hook["id"]: hook for hook in config["repos"][0]["hooks"]}
    keys = (
        ("always_run", False),
        ("pass_filenames", True),
        ("files", ""),
        ("types", ["file"]),
        ("types_or", []),
    )
    for hook in hooks():
        for key, default in keys:
            assert hook.get(key, default) == local[hook["id"]].get(key, default), (hook["id"], key)
    always = {h["id"] for h in hooks() if h.get("always_run")}
    assert always == {"conventions-lint-manifest"}
    # No layout baked into a pattern: the lint reads the project's configured paths.
    assert "files" not in {h["id"]: h for h in hooks()}["conventions-lint"]


def test_pre_commit_accepts_both_files() -> None:
    pre_commit = str(Path(sys.executable).with_name("pre-commit"))
    for command in ("validate-manifest", "validate-config"):
        name = (
            ".pre-commit-hooks.yaml"
            if command == "validate-manifest"
            else (".pre-commit-config.yaml")
        )
        done = subprocess.run(
            [pre_commit, command, name], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_every_public_sqlalchemy_enum_spelling_is_in_the_name_table() -> None:
    """If SQLAlchemy grows a new Enum alias, this fails until spellings.py knows it."""
    found = set()
    for info in pkgutil.walk_packages(sqlalchemy.__path__, "sqlalchemy."):
        if ".testing" in info.name or "mypy" in info.name:
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional driver dependency is not installed
            continue
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, Enum):
                found.add(f"{info.name}.{name}")
    found.add("sqlalchemy.Enum")
    assert found <= set(ENUM_TYPES), sorted(found - set(ENUM_TYPES))
