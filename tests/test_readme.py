"""Every command in the README is run by a test (or, for `uv run pytest`, by CI)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bayes_qct.cli import app

README = Path(__file__).resolve().parents[1] / "README.md"
runner = CliRunner()


LONG = "(minutes)"
"""A README command whose comment says it takes minutes is parsed, not run, by the suite."""


def readme_commands(*, runnable: bool = False) -> list[list[str]]:
    """The `uv run bayes-qct ...` commands of the README's bash blocks, as argv lists."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    commands = []
    for block in blocks:
        for line in block.splitlines():
            line, _, comment = line.partition("#")
            line = line.strip()
            if runnable and LONG in comment:
                continue
            if line.startswith("uv run bayes-qct"):
                commands.append(shlex.split(line)[3:])
    return commands


def test_readme_shows_the_two_commands():
    text = README.read_text()
    assert "uv run bayes-qct fit offending" in text and "uv run pytest" in text
    assert readme_commands()


@pytest.mark.parametrize("argv", readme_commands(), ids=" ".join)
def test_readme_command_exists(argv):
    """Cheap: each README command parses (its --help works)."""
    words = [a for a in argv if not a.startswith("-")]
    path = [
        w
        for w in words
        if w
        in {
            "fit",
            "compare",
            "check",
            "audit",
            "sensitivity",
            "report",
            "simulate",
            "data",
            "validate",
        }
    ]
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output


@pytest.mark.slow
@pytest.mark.parametrize("argv", readme_commands(runnable=True), ids=" ".join)
def test_readme_command_runs(argv, tmp_path, monkeypatch):
    """Each README command runs to completion in a fresh folder, as a new user would."""
    from bayes_qct.data.io import bundled_cohort_path

    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_cohort.csv").write_bytes(bundled_cohort_path().read_bytes())
    result = runner.invoke(app, argv)
    assert result.exit_code == 0, result.output
