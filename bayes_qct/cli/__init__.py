"""The ``bayes-qct`` command line: a thin typer layer over the library."""

from __future__ import annotations

import typer

from bayes_qct.cli import audit, check, compare, data, fit, report, sensitivity, simulate
from bayes_qct.constants import TOOLKIT_VERSION as __version__

app = typer.Typer(
    name="bayes-qct",
    help=(
        "Bayesian reanalysis of the QCT drug-treatment cohort: hierarchical models of "
        "offending and drug-use days with explicit dropout models, the paper's own "
        "frequentist checks side by side, and an audit of its published numbers."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
app.add_typer(fit.app, name="fit")
app.add_typer(compare.app, name="compare")
app.add_typer(check.app, name="check")
app.add_typer(audit.app, name="audit")
app.add_typer(sensitivity.app, name="sensitivity")
app.add_typer(report.app, name="report")
app.add_typer(simulate.app, name="simulate")
app.add_typer(data.app, name="data")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bayes-qct {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Bayesian reanalysis toolkit for the QCT cohort."""


def main() -> None:
    """Console-script entry point."""
    app()
