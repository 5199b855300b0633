"""The `bayes-qct compare` command: rank likelihood families by leave-one-participant-out."""

from __future__ import annotations

from pathlib import Path

import typer

from bayes_qct.cli._common import console, err_console, handle_errors, setup_logging
from bayes_qct.errors import BadInputError, Problem
from bayes_qct.modeling.designs import outcome_designs

app = typer.Typer(
    help="Rank likelihood families by leave-one-participant-out expected log predictive "
    "density (participant intercept integrated out, PSIS; K-fold by participant where "
    "Pareto k stays high).",
    no_args_is_help=True,
    invoke_without_command=True,
    context_settings={"allow_interspersed_args": True},
)


@app.callback(invoke_without_command=True)
@handle_errors
def compare(
    ctx: typer.Context,
    outcome: str = typer.Argument(..., help="offending or drug-use"),
    families: str = typer.Option(
        "binomial,beta-binomial,zero-inflated-binomial,zero-inflated-beta-binomial,"
        "hurdle-beta-binomial",
        "--families",
        help="Comma-separated likelihood families to fit and rank.",
    ),
    data: Path | None = typer.Option(
        None, "--data", help="Cohort file (default: bundled synthetic cohort)."
    ),
    mapping: Path | None = typer.Option(None, "--mapping", help="TOML column mapping."),
    model: Path | None = typer.Option(
        None, "--model", help="Spec TOML (default: models/<outcome>.toml)."
    ),
    draws: int | None = typer.Option(None, "--draws"),
    tune: int | None = typer.Option(None, "--tune"),
    chains: int | None = typer.Option(None, "--chains"),
    seed: int | None = typer.Option(None, "--seed"),
    sampler: str | None = typer.Option(None, "--sampler"),
    kfold: int = typer.Option(
        10,
        "--kfold",
        help="Folds for the K-fold fallback; 0 = never refit (report PSIS with its Pareto k).",
    ),
    out: Path | None = typer.Option(
        None, "--out", help="CSV of the ranking (default posterior/<outcome>/compare.csv)."
    ),
    force: bool = typer.Option(False, "--force", help="Refit / overwrite changed results."),
    verbose: bool = typer.Option(False, "--verbose", "-v"),
) -> None:
    """Fit each family (reusing unchanged fits) and rank them by LOPO elpd."""
    if ctx.invoked_subcommand is not None:
        return
    setup_logging(verbose)
    if outcome not in outcome_designs():
        raise BadInputError(
            Problem(
                "command line",
                f"unknown outcome {outcome!r}",
                column="OUTCOME",
                expected=" or ".join(outcome_designs()),
            )
        )
    from bayes_qct.api import load_cohort
    from bayes_qct.fitting.families import run_comparison
    from bayes_qct.modeling.sample import sample_model
    from bayes_qct.reporting.text import ranking_text

    def say(message: str) -> None:
        err_console.print(message, highlight=False, markup=False)

    overrides = {
        k: v
        for k, v in {
            "draws": draws,
            "tune": tune,
            "chains": chains,
            "seed": seed,
            "sampler": sampler,
        }.items()
        if v is not None
    }
    result, path = run_comparison(
        load_cohort(data, mapping=mapping),
        outcome,
        [f.strip() for f in families.split(",") if f.strip()],
        sampler=sample_model,
        model=model,
        overrides=overrides,
        kfold=kfold or None,
        out=out,
        force=force,
        report=say,
    )
    console.print(ranking_text(result), highlight=False, markup=False)
    say(f"written: {path}")
