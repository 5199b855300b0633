"""The `bayes-qct sensitivity` command group."""

from __future__ import annotations

import typer

from bayes_qct.cli._common import not_built

app = typer.Typer(
    help="Tipping-point sweeps over the dropout (MNAR) parameters and the priors.",
    no_args_is_help=False,
    invoke_without_command=True,
)


@app.callback(invoke_without_command=True)
def _main(ctx: typer.Context) -> None:
    """Run the group without a subcommand."""
    if ctx.invoked_subcommand is None:
        not_built("sensitivity", "a coming version")
