"""`bayes-qct report`: every section from fit folders made without MCMC, the rules a
reviewer relies on (sources, disclosure, verdicts, missing pieces), and the command."""

from __future__ import annotations

import re
import shutil

import pytest
from typer.testing import CliRunner

from bayes_qct.cli import app
from bayes_qct.errors import RefusedOverwriteError
from bayes_qct.labels import NO_DATA
from bayes_qct.modeling.spec import load_spec
from bayes_qct.reporting import disclosure
from bayes_qct.reporting.document import Figure, Report, Section
from bayes_qct.reporting.inputs import gather
from bayes_qct.reporting.priors import implied_range, justification
from bayes_qct.reporting.render import SECTION_TITLES, build_report, write_report

runner = CliRunner()
DOT_PNG = b"\x89PNG\r\n\x1a\n(bytes stand in for an image)"
DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def _text(html: str) -> str:
    """The page without its embedded images."""
    return DATA_URI.sub("data:...", html)


def test_count_cells_under_five_show_less_than_five():
    assert [disclosure.count_cell(n) for n in (0, 1, 4, 5, 89)] == ["0", "<5", "<5", "5", "89"]
    assert disclosure.count_cell(float("nan")) == "-"
    assert disclosure.statistic_cell("3.2", 4) == disclosure.SUPPRESSED
    assert disclosure.statistic_cell("3.2", 5) == "3.2"


def test_a_total_that_would_reveal_a_small_cell_is_hidden():
    assert disclosure.count_row([14, 2], 16) == ["14", "<5", disclosure.HIDDEN]
    assert disclosure.count_row([0, 3], 3) == ["0", "<5", "<5"]
    assert disclosure.count_row([32, 33], 65) == ["32", "33", "65"]


def test_sections_come_in_the_reviewers_order_in_both_files(report_files):
    report, written = report_files
    assert [s.title for s in report.sections] == list(SECTION_TITLES)
    html = written.html.read_text()
    markdown = written.markdown.read_text()
    html_heads = re.findall(r"<h2>\d+\. ([^<]+)</h2>", html)
    md_heads = re.findall(r"^## \d+\. (.+)$", markdown, flags=re.M)
    assert html_heads == md_heads == list(SECTION_TITLES)
    assert re.findall(r"<h3>", html) and len(re.findall(r"^### ", markdown, flags=re.M)) == len(
        re.findall(r"<h3>", html)
    )


def test_the_page_is_self_contained(report_files):
    _, written = report_files
    html = written.html.read_text()
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert "<script" not in html
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sources and all(s.startswith(("data:", "#")) for s in sources), sources
    assert "http://" not in _text(html) and "https://" not in _text(html)


def test_markdown_tables_are_well_formed_and_figures_are_files(report_files):
    report, written = report_files
    markdown = written.markdown.read_text()
    for block in re.split(r"\n\n", markdown):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if lines:
            widths = {len(re.findall(r"(?<!\\)\|", line)) for line in lines}
            assert len(widths) == 1, block[:200]
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert len(links) == len(report.figures()) >= 8
    for link in links:
        assert (written.markdown.parent / link).is_file()


def test_every_table_and_figure_says_which_data_model_and_missingness(report_files):
    report, _ = report_files
    label = report.banner[0]
    for item in [*report.tables(), *report.figures()]:
        source = item.source
        if "published paper only" in source:
            continue  # the audit: no data, model or missingness involved
        assert "simulated(seed=7" in source or "cohort.csv" in source, (item.caption, source)
        assert "missingness" in source, (item.caption, source)
    assert "missingness: mar" in label


def test_no_participant_level_row_or_label_anywhere(report_files, report_root):
    report, written = report_files
    ids = {f"p{i:03d}" for i in range(30)}
    for text in (_text(written.html.read_text()), written.markdown.read_text()):
        assert not [i for i in ids if re.search(rf"\b{i}\b", text)]
        assert "v_participant[" not in text
    patterns = next(t for t in report.tables() if t.caption.startswith("Missingness patterns"))
    cells = [c for row in patterns.rows for c in row[1:]]
    assert disclosure.SMALL in cells
    assert not [c for c in cells if c.isdigit() and 0 < int(c) < disclosure.MIN_CELL]


def test_a_cell_no_data_informs_shows_the_words_not_a_number(report_files):
    report, _ = report_files
    table = next(t for t in report.tables() if t.caption.startswith("Probability of at least"))
    row = next(r for r in table.rows if r[0] == "t3")
    assert row[3] == NO_DATA


def test_failed_checks_are_listed_at_the_top(report_files):
    report, written = report_files
    html = written.html.read_text()
    first_section = html.index("<h2>")
    top = html[:first_section]
    assert "CHECK FAILED" in html and 'class="banner fail"' in top
    assert any("locf" in v for v in report.verdicts)


def test_a_mechanism_cell_no_data_informs_shows_the_words():
    import pandas as pd

    from bayes_qct.reporting.sections_more import mechanism_interval

    row = pd.Series({"r": 0.5, "r lower": 0.4, "r upper": 0.6, "r note": NO_DATA})
    assert mechanism_interval(row, "r", percent=True) == NO_DATA
    assert mechanism_interval(row.drop("r note"), "r", percent=True) == "50% [40%, 60%]"


def test_the_sweep_and_the_power_scaling_table_are_shown(report_files):
    report, _ = report_files
    captions = [t.caption for t in report.tables()]
    assert any(c.startswith("Tipping points") for c in captions)
    assert any(c.startswith("Power-scaling") for c in captions)
    assert any(f.name.startswith("sweep-pattern-mixture-delta") for f in report.figures())
    tips = next(t for t in report.tables() if t.caption.startswith("Tipping points"))
    assert [row[3] for row in tips.rows] == ["delta = 0.75"]  # the one inside the grid
    steady = next(t for t in report.tables() if t.caption.startswith("No tipping point"))
    assert len(steady.rows) == 1 and steady.rows[0][0].startswith("reduction")


def test_the_paper_sits_beside_check_and_the_estimand(report_files):
    report, _ = report_files
    table = next(t for t in report.tables() if t.caption.startswith("Published result"))
    wilcoxon = next(r for r in table.rows if "QCT (court-ordered), t1-t2" in r[0])
    assert wilcoxon[2].startswith("z = -6.46")
    assert wilcoxon[3].startswith("z = -2.90")
    assert wilcoxon[4].startswith("reduction [QCT (court-ordered), t2]")


def test_missing_pieces_name_the_command_that_makes_them(report_root, tmp_path):
    root = tmp_path / "posterior"
    fit = report_root / "offending" / "default"
    shutil.copytree(fit, root / "offending" / "default", ignore=shutil.ignore_patterns("prior"))
    report = build_report(gather("offending", root=root))
    missing = report.missing()
    for command in (
        "bayes-qct fit offending --prior-only",
        "bayes-qct compare offending",
        "bayes-qct check offending",
        "bayes-qct fit offending --missingness all",
        "bayes-qct sensitivity offending --mechanism pattern-mixture --delta -2:2:17",
        f"bayes-qct audit --out {root / 'audit.csv'}",
    ):
        assert command in missing, command
    assert [s.title for s in report.sections] == list(SECTION_TITLES)
    assert not [v for v in report.verdicts if "missingness comparison" in v]


def test_a_fit_that_failed_its_checks_is_the_first_verdict(report_files):
    report, written = report_files  # the stand-in draws do not mix
    assert "FAILED its convergence checks" in report.verdicts[0]
    assert "r_hat" in report.verdicts[0] and "Do not report" in report.verdicts[0]
    top = written.html.read_text().split("<h2>")[0]
    assert report.verdicts[0].split(":")[0] in top


def test_each_default_prior_has_its_justification():
    for overrides in (
        {},
        {"likelihood": "beta-binomial"},
        {"likelihood": "hurdle-beta-binomial", "missingness": "selection"},
        {"missingness": "shared-parameter", "covariates": ["age"]},
    ):
        spec = load_spec("offending", overrides=overrides)
        for name, prior in spec.priors.items():
            assert justification(name, prior) is not None, (overrides, name, prior)
    changed = {"dist": "normal", "mu": 0.0, "sigma": 5.0}
    assert justification("b0", changed) is None


def test_prior_ranges_are_read_on_the_readers_scale():
    assert implied_range({"dist": "normal", "mu": -1.0, "sigma": 1.5}, "days") == (
        "0.6 to 26.2 days of 30"
    )
    assert implied_range({"dist": "halfnormal", "sigma": 0.5}, "sd") == "SD below 0.98 (95%)"
    assert implied_range({"dist": "normal", "mu": 0.0, "sigma": 1.0}, "odds ratio") == (
        "odds ratio 0.14 to 7.1"
    )


def _report(*args):
    return runner.invoke(app, ["report", *map(str, args)], env={"COLUMNS": "80"})


def _small_report(text: str) -> Report:
    figure = Figure("dot", "A dot.", "a dot", png=DOT_PNG, source="s")
    section = Section("Only", text=[text], figures=[figure])
    report = Report("t", "offending", banner=["b"], sections=[section])
    report.number()
    return report


def test_an_unchanged_report_is_left_alone_and_a_different_one_refused(tmp_path):
    first = write_report(_small_report("one"), tmp_path)
    assert first.status == "written" and (first.figures / "01-dot.png").read_bytes() == DOT_PNG
    assert write_report(_small_report("one"), tmp_path).status == "unchanged"
    with pytest.raises(RefusedOverwriteError, match="--force"):
        write_report(_small_report("two"), tmp_path)
    assert "one" in first.html.read_text()
    assert write_report(_small_report("two"), tmp_path, force=True).status == "written"
    assert "two" in first.html.read_text() and "two" in first.markdown.read_text()


def test_the_command_overwrites_a_different_report_only_when_forced(report_root, tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    (out / "offending.html").write_text("an older report")
    assert RefusedOverwriteError("x").exit_code == 4  # what a refusal exits with
    forced = _report("offending", "--root", report_root, "--out", out, "--force")
    assert forced.exit_code == 0, forced.output
    assert "wrote" in forced.stdout and "CHECK FAILED" in forced.stdout
    assert all(len(line) <= 80 for line in forced.stdout.splitlines()), forced.stdout
    assert (out / "offending.md").is_file() and (out / "offending-figures").is_dir()
    assert "an older report" not in (out / "offending.html").read_text()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["stealing"], "stealing"),
        (["drug-use"], "bayes-qct fit drug-use"),
        (["all", "--fit", "default"], "--fit"),
    ],
)
def test_the_command_refuses_bad_input_with_exit_2(tmp_path, args, words):
    result = _report(*args, "--root", tmp_path, "--out", tmp_path / "r")
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert not (tmp_path / "r").exists()


def test_table_1_odds_ratios_point_to_the_desistance_model(report_files):
    report, _ = report_files
    table = next(t for t in report.tables() if t.caption.startswith("Published result"))
    table1 = [r for r in table.rows if r[1] == "Table 1"]
    assert table1 and all(r[4].startswith("answered by the desistance model") for r in table1)
