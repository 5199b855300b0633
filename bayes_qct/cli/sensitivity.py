"""The `bayes-qct sensitivity` command: tipping points over a dropout assumption."""

from __future__ import annotations

from pathlib import Path

import typer

from bayes_qct.cli._common import console, err_console, handle_errors, setup_logging
from bayes_qct.cli._options import with_mechanism_grids
from bayes_qct.errors import BadInputError, Problem
from bayes_qct.modeling.designs import outcome_designs

app = typer.Typer(
    help="Sweep a dropout mechanism's parameter (pattern-mixture delta, selection phi) and "
    "report where each conclusion tips: `bayes-qct sensitivity offending --mechanism "
    "pattern-mixture --delta -2:2:17`.",
    no_args_is_help=True,
    invoke_without_command=True,
    context_settings={"allow_interspersed_args": True},
)


def _say(message: str) -> None:
    err_console.print(message, highlight=False, markup=False, soft_wrap=True)


@app.callback(invoke_without_command=True)
@handle_errors
@with_mechanism_grids
def sensitivity(
    ctx: typer.Context,
    outcome: str = typer.Argument(..., help="offending or drug-use"),
    mechanism: str = typer.Option(
        ...,
        "--mechanism",
        help="Mechanism whose parameter is swept: pattern-mixture, selection, shared-parameter.",
    ),
    data: Path | None = typer.Option(
        None, "--data", help="Cohort file (default: the bundled synthetic cohort)."
    ),
    mapping: Path | None = typer.Option(None, "--mapping", help="TOML column mapping."),
    model: Path | None = typer.Option(
        None, "--model", help="Model spec TOML (default: models/<outcome>.toml)."
    ),
    fit: Path | None = typer.Option(
        None, "--fit", help="Start from this fit folder (default: the outcome's default fit)."
    ),
    likelihood: str | None = typer.Option(None, "--likelihood", help="Likelihood family."),
    draws: int | None = typer.Option(None, "--draws", help="Draws per chain."),
    tune: int | None = typer.Option(None, "--tune", help="Warm-up iterations per chain."),
    chains: int | None = typer.Option(None, "--chains", help="Number of chains."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed."),
    sampler: str | None = typer.Option(None, "--sampler", help="Sampler of a base fit."),
    root: Path = typer.Option(Path("posterior"), "--root", help="Root of the fit folders."),
    out: Path | None = typer.Option(
        None, "--out", help="Sweep folder (default posterior/<outcome>/sensitivity/<sweep>/)."
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace a sweep folder that holds results of other arguments."
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="Refit on a local Dask cluster of this many processes."
    ),
    scheduler: str | None = typer.Option(
        None, "--scheduler", help="Address of an existing Dask scheduler for the refits."
    ),
    prior_sensitivity: bool = typer.Option(
        True, "--prior-sensitivity/--no-prior-sensitivity", help="Also power-scale the priors."
    ),
    refit_all: bool = typer.Option(
        False, "--refit-all", help="Refit every point of phi/lambda (no importance reweighting)."
    ),
    verbose: bool = typer.Option(False, "--verbose", help="Log progress to stderr."),
    quiet: bool = typer.Option(
        False, "--quiet", help="No stage or point messages (they go to stderr)."
    ),
    mechanism_params: dict[str, str] | None = None,
) -> None:
    """Sweep a mechanism's parameter and print where each conclusion tips."""
    if ctx.invoked_subcommand is not None:
        return
    setup_logging(verbose, stages=not quiet)
    if outcome not in outcome_designs():
        raise BadInputError(
            Problem(
                "command line",
                f"unknown outcome {outcome!r}",
                column="OUTCOME",
                expected=" or ".join(outcome_designs()),
            )
        )
    if workers is not None and workers < 1:
        raise BadInputError(
            Problem("command line", f"--workers is {workers}", column="--workers", expected=">= 1")
        )
    from bayes_qct.api import load_cohort, sweep
    from bayes_qct.reporting.text import sweep_text

    overrides = {
        "likelihood": likelihood,
        "sampler": sampler,
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "seed": seed,
    }
    result = sweep(
        load_cohort(data, mapping=mapping),
        outcome,
        mechanism=mechanism,
        grids=mechanism_params or {},
        overrides=overrides,
        model=model,
        fit=fit,
        root=root,
        out=out,
        force=force,
        workers=workers,
        scheduler=scheduler,
        prior_sensitivity=prior_sensitivity,
        reweight=not refit_all,
        report=None if quiet else _say,
    )
    console.print(sweep_text(result), highlight=False, markup=False, soft_wrap=True)
    _say(f"Written to {result.folder}")
