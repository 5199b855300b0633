"""The command line through typer's test runner."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bayes_qct.cli import app

runner = CliRunner()
GROUPS = ["fit", "compare", "check", "audit", "sensitivity", "report", "simulate", "data"]


def test_help_lists_every_group():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for group in GROUPS:
        assert group in result.output


@pytest.mark.parametrize("group", GROUPS)
def test_each_group_has_help(group):
    result = runner.invoke(app, [group, "--help"])
    assert result.exit_code == 0
    assert len(result.output.strip()) > 40


def test_validate_good_file(long_table, tmp_path):
    path = tmp_path / "good.csv"
    long_table.to_csv(path, index=False)
    before = set(tmp_path.iterdir())
    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output and "Participants by site" in result.output
    assert "Observed mean offending days" in result.output
    assert set(tmp_path.iterdir()) == before


def test_validate_bad_file_exit_2_nothing_written(long_table, tmp_path):
    long_table.loc[0, "offending_days"] = 99
    path = tmp_path / "bad.csv"
    long_table.to_csv(path, index=False)
    before = set(tmp_path.iterdir())
    result = runner.invoke(app, ["data", "validate", str(path)])
    assert result.exit_code == 2
    assert "row 1" in result.output and "offending_days" in result.output
    assert set(tmp_path.iterdir()) == before


def test_validate_with_mapping(long_table, tmp_path):
    path = tmp_path / "theirs.csv"
    long_table.rename(columns={"participant_id": "client_id"}).to_csv(path, index=False)
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nclient_id = "participant_id"\n')
    result = runner.invoke(app, ["data", "validate", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and "bayes-qct" in result.output


def test_bracketed_names_in_an_error_are_printed_as_written(long_table, tmp_path):
    path = tmp_path / "good.csv"
    long_table.to_csv(path, index=False)
    mapping = tmp_path / "m.toml"
    mapping.write_text('[column]\nclient_id = "participant_id"\n')
    result = runner.invoke(app, ["data", "validate", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 2
    assert "unknown table [column] (expected [columns] and [values.*])" in result.output


def test_bracketed_labels_in_the_data_are_printed_as_written(long_table, tmp_path, monkeypatch):
    long_table["site"] = long_table["site"].map({"site1": "[b]", "site2": "[red]x", "site3": "s3"})
    long_table = long_table[~long_table["participant_id"].isin(["p000", "p003"])]
    monkeypatch.chdir(tmp_path)
    long_table.to_csv("[x].csv", index=False)
    result = runner.invoke(app, ["data", "validate", "[x].csv"])
    assert result.exit_code == 0, result.output
    assert "site [b] has 2 participant(s)" in result.output  # the warning
    cells = [line.strip("│ ").split(" ")[0] for line in result.output.splitlines()]
    assert "[b]" in cells and "[red]x" in cells  # the table of sites
    assert "[x].csv" in result.output
