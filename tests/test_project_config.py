"""[tool.conventions] in pyproject.toml, the environment over it (conventions.project.config)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conventions.project.config import ConfigFileError, lookup


def _project(tmp_path: Path, toml: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(toml, encoding="utf-8")
    return tmp_path


def test_environment_wins_over_pyproject_which_wins_over_default(tmp_path: Path) -> None:
    root = _project(tmp_path, "[tool.conventions.safety]\nthreshold_rows = 500\n")
    env = {"CONVENTIONS_SAFETY_THRESHOLD_ROWS": "7"}
    got = lookup(
        "safety.threshold_rows",
        root=root,
        env="CONVENTIONS_SAFETY_THRESHOLD_ROWS",
        default=10_000,
        environ=env,
    )
    assert (got.value, got.source) == ("7", "environment CONVENTIONS_SAFETY_THRESHOLD_ROWS")
    got = lookup("safety.threshold_rows", root=root, env="X", default=10_000, environ={})
    assert (got.value, got.source) == (
        500,
        "pyproject.toml [tool.conventions] safety.threshold_rows",
    )
    got = lookup("safety.missing", root=root, default=3, environ={})
    assert (got.value, got.source) == (3, "default")


def test_no_pyproject_gives_defaults(tmp_path: Path) -> None:
    assert lookup("lint.paths", root=tmp_path, default=["x"], environ={}).value == ["x"]


def test_broken_pyproject_names_file_and_line(tmp_path: Path) -> None:
    root = _project(tmp_path, "[tool.conventions]\nlint = = 1\nother = 2\n")
    with pytest.raises(ConfigFileError) as caught:
        lookup("lint.paths", root=root, environ={})
    assert "pyproject.toml is not valid TOML" in str(caught.value)
    assert "line 2" in str(caught.value)
