"""The `bayes-qct check` command: the paper's frequentist analyses beside its published values."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from bayes_qct.cli._checks_table import fmt_ci, fmt_g, fmt_number, fmt_p, sections
from bayes_qct.cli._common import console, handle_errors, plain, print_warning, styled
from bayes_qct.constants import OUTCOMES

if TYPE_CHECKING:
    from bayes_qct.frequentist.checks import ChecksResult

app = typer.Typer(
    help="Reproduce the paper's frequentist analyses on the loaded cohort, side by side with "
    "the published values.",
    no_args_is_help=False,
    invoke_without_command=True,
    # the group has no sub-commands: let options follow the OUTCOME argument
    context_settings={"allow_interspersed_args": True},
)

CHECKS_FILE = "checks.csv"


def _print(result: ChecksResult, *, wide: bool = False) -> None:
    console.print(
        styled(
            f"{result.outcome}:",
            "bold",
            f"the paper's frequentist checks on {result.label}; handling per row",
        ),
        highlight=False,
    )
    if wide:
        _print_wide(result)
    else:
        for section in sections(result.comparison, width=console.width):
            console.print()
            console.print(styled(section.title, "bold"), highlight=False)
            console.print(section.table())
            for number, reason in section.footnotes:
                console.print(f"  [{number}] {reason}", highlight=False, markup=False)
        console.print(
            "\nEvery column, and what else the paper printed: checks.csv or --wide.",
            highlight=False,
            markup=False,
        )
    for note in result.notes:
        console.print(f"- {note}", highlight=False, markup=False)


def _print_wide(result: ChecksResult) -> None:
    table = Table(show_lines=False, pad_edge=False, box=None)
    for name, justify in (
        ("analysis", "left"),
        ("group", "left"),
        ("contrast", "left"),
        ("handling", "left"),
        ("n", "right"),
        ("compared", "left"),
        ("ours", "right"),
        ("paper", "right"),
        ("diff", "right"),
        ("95% CI", "right"),
        ("p", "right"),
        ("effect r", "right"),
        ("paper also printed", "left"),
        ("paper section", "left"),
        ("note", "left"),
    ):
        table.add_column(name, justify=justify)
    for row in result.comparison.itertuples(index=False):
        table.add_row(
            plain(row.analysis),
            plain(row.group),
            plain(row.contrast),
            plain(row.handling),
            fmt_number(row.n, 0) if not isinstance(row.n, float) or not math.isnan(row.n) else "",
            row.compared,
            fmt_number(row.ours),
            fmt_g(row.paper_value),
            fmt_g(row.difference),
            fmt_ci(row.lower, row.upper),
            fmt_p(row.p),
            fmt_number(row.effect_r, 2),
            plain(row.paper_detail),
            plain(row.paper_ref.split(" [")[0]),
            plain(row.note),
        )
    # a table this wide is read in a wide terminal or a file: never squeeze it to 80
    Console(width=max(console.width, 250)).print(table)


def _write(result: ChecksResult, path: Path, *, force: bool) -> None:
    from bayes_qct.errors import RefusedOverwriteError
    from bayes_qct.outputs import atomic_write_text

    text = result.table.to_csv(index=False, lineterminator="\n")
    if path.exists():
        if path.read_text(encoding="utf-8") == text:
            console.print(
                f"{path} is already up to date (same checks); not rewritten",
                highlight=False,
                markup=False,
            )
            return
        if not force:
            raise RefusedOverwriteError(
                f"{path} exists with different checks (other data or toolkit version); "
                "pass --force to overwrite it"
            )
    atomic_write_text(path, text, force=True)
    console.print(f"wrote {path}", highlight=False, markup=False)


@app.callback(invoke_without_command=True)
@handle_errors
def check(
    outcome: str = typer.Argument(..., help="offending, drug-use or all."),
    data: Path | None = typer.Option(
        None, "--data", help="Cohort file (default: the bundled synthetic cohort)."
    ),
    mapping: Path | None = typer.Option(None, "--mapping", help="TOML column mapping."),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Folder for checks.csv (default posterior/<outcome>/checks; with `all`, "
        "one sub-folder per outcome).",
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite a different checks.csv."),
    wide: bool = typer.Option(
        False,
        "--wide",
        help="Print the table with every column (about 250 characters wide) instead of "
        "one short table per analysis.",
    ),
) -> None:
    """Run the paper's frequentist analyses of an outcome beside its published values.

    Wilcoxon, Mann-Whitney, chi-square, t, Spearman and logistic analyses (complete case,
    LOCF, mean imputation) and a GEE on every observed interview; writes checks.csv. A
    check the data do not allow (one group, a constant covariate, no pairs) keeps its row
    with the reason in the note column.
    """
    from bayes_qct.api import load_cohort
    from bayes_qct.data.cohort import require_outcome
    from bayes_qct.errors import BadInputError
    from bayes_qct.frequentist.checks import run_checks

    if outcome not in (*OUTCOMES, "all"):
        raise BadInputError(
            f"unknown outcome {outcome!r}; expected one of {', '.join([*OUTCOMES, 'all'])}",
            file="<command line>",
        )
    outcomes = list(OUTCOMES) if outcome == "all" else [outcome]
    cohort = load_cohort(data, mapping=mapping)
    for name in outcomes:  # refuse before anything is written
        require_outcome(cohort, name)
    for warning in cohort.warnings:
        print_warning(warning)
    for name in outcomes:
        result = run_checks(cohort, name)
        _print(result, wide=wide)
        if out is None:
            folder = Path("posterior") / name / "checks"
        else:
            folder = out / name if outcome == "all" else out
        _write(result, folder / CHECKS_FILE, force=force)
