"""The `bayes-qct data` command group: read, validate and summarise cohort files."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from bayes_qct.cli._common import console, handle_errors, plain, print_warning, styled
from bayes_qct.constants import LEGAL_STATUSES, WAVES

app = typer.Typer(help="Read, validate and summarise cohort files.", no_args_is_help=True)


@app.command("validate")
@handle_errors
def validate(
    path: Path | None = typer.Argument(
        None,
        help="Cohort file (.csv, .parquet, .sav, .dta; long or wide). "
        "Default: the bundled synthetic cohort.",
    ),
    mapping: Path | None = typer.Option(None, "--mapping", help="TOML column mapping."),
    outcome: str | None = typer.Option(
        None,
        "--outcome",
        help="Also require observed values of this outcome (offending, drug-use).",
    ),
) -> None:
    """Validate a cohort file against the data contract and print a summary."""
    from bayes_qct.api import load_cohort
    from bayes_qct.data.io import load_cohort_file
    from bayes_qct.data.summary import summarise

    cohort = (
        load_cohort_file(path, mapping=mapping, outcome=outcome)
        if outcome
        else load_cohort(path, mapping=mapping)
    )
    summary = summarise(cohort)
    console.print(styled("valid:", "bold green", summary.label), highlight=False)
    if cohort.mapping_path is not None:
        for line in (
            f"sha256 of the file:    {cohort.file_sha256}",
            f"sha256 of the mapping: {cohort.mapping_sha256} ({cohort.mapping_path})",
            f"sha256 of the two (the data's key, as above): {cohort.sha256}",
        ):
            console.print(line, highlight=False, markup=False, soft_wrap=True)
    console.print(
        f"{cohort.n_participants} participants, {int(cohort.data['interviewed'].sum())} interviews",
        highlight=False,
    )
    for warning in cohort.warnings:
        print_warning(warning)

    table = Table(title="Participants by site and legal status")
    table.add_column("site")
    for col in summary.participants.columns:
        table.add_column(str(col), justify="right")
    for site, row in summary.participants.iterrows():
        table.add_row(plain(site), *(str(v) for v in row))
    console.print(table)

    table = Table(title="Observed per wave")
    table.add_column("wave")
    for col in summary.observed.columns:
        table.add_column(col, justify="right")
    for wave, row in summary.observed.iterrows():
        table.add_row(str(wave), *(str(int(v)) for v in row))
    console.print(table)

    means = summary.means
    for outcome_name in means["outcome"].unique():
        table = Table(
            title=f"Observed mean {outcome_name} days per 30 (n), complete cases "
            "per wave, no imputation"
        )
        table.add_column("legal_status")
        for wave in WAVES:
            table.add_column(wave, justify="right")
        for status in (*LEGAL_STATUSES, "all"):
            cells = means[(means["outcome"] == outcome_name) & (means["legal_status"] == status)]
            table.add_row(
                status, *(f"{r.mean:.1f} ({r.n})" if r.n else "- (0)" for r in cells.itertuples())
            )
        console.print(table)
    if cohort.synthetic:
        _print_calibration(cohort)


def _print_calibration(cohort) -> None:
    from bayes_qct.calibration.targets import calibration_table

    calib = calibration_table(cohort)
    table = Table(title="Calibration of this synthetic cohort to the paper's published figures")
    for col in ("target", "paper", "achieved", "tolerance", "within", "section"):
        table.add_column(col, justify="left" if col in ("target", "section") else "right")
    for row in calib.itertuples(index=False):
        table.add_row(
            plain(row.target),
            f"{row.paper_value:.4g}",
            f"{row.achieved:.4g}",
            str(row.tolerance),
            "yes" if row.ok else "[red]NO[/]",
            plain(row.paper_section),
        )
    console.print(table)
    console.print(
        f"{int(calib['ok'].sum())} of {len(calib)} calibration targets within tolerance.",
        highlight=False,
    )
