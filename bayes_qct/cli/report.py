"""The `bayes-qct report` command group."""

from __future__ import annotations

import typer

from bayes_qct.cli._common import not_built

app = typer.Typer(
    help="Render fit folders, checks and the audit as an HTML report for reviewers.",
    no_args_is_help=False,
    invoke_without_command=True,
)


@app.callback(invoke_without_command=True)
def _main(ctx: typer.Context) -> None:
    """Run the group without a subcommand."""
    if ctx.invoked_subcommand is None:
        not_built("report", "a coming version")
