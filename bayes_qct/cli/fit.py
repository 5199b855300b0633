"""The `bayes-qct fit` command: fit an outcome's model, or reuse what exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from bayes_qct.cli._common import (
    console,
    err_console,
    handle_errors,
    print_warning,
    setup_logging,
)
from bayes_qct.cli._options import with_mechanism_options
from bayes_qct.constants import EXIT_DIAGNOSTICS
from bayes_qct.errors import BadInputError, Problem
from bayes_qct.modeling.designs import outcome_designs

app = typer.Typer(
    help="Fit the model of an outcome (day counts: offending, drug-use; one row per "
    "participant: desistance, retention, days-retained) and write its posterior, summary "
    "and estimands: `bayes-qct fit offending [OPTIONS]`.",
    no_args_is_help=True,
)


def _say(message: str) -> None:
    """Progress and notes go to stderr (results to stdout)."""
    err_console.print(message, highlight=False, markup=False, soft_wrap=True)


def _print_prior(result: Any) -> None:
    from bayes_qct.reporting.text import prior_check_text

    heading = f"Prior predictive check: {result.heading}"
    text = prior_check_text(result.tables["prior_predictive"], heading)
    console.print(text, markup=False, highlight=False, soft_wrap=True)
    if result.reused:
        _say(f"Reused the unchanged prior check in {result.folder}: nothing was drawn.")
    else:
        _say(f"Written to {result.folder}")


def _print_verdict(result: Any, label: str = "") -> None:
    from bayes_qct.reporting.text import wrap

    diagnostics = result.diagnostics
    prefix = f"{label}: " if label else ""
    if diagnostics is not None and diagnostics.ok:
        console.print(
            wrap(prefix + diagnostics.verdict()), markup=False, highlight=False, soft_wrap=True
        )
    elif diagnostics is not None:
        verdict = wrap(f"WARNING {prefix}{diagnostics.verdict()}")
        console.print(verdict, markup=False, highlight=False, soft_wrap=True)
        _say(
            "WARNING: do not report these estimates before the sampler problems are fixed. "
            f"What usually helps: {diagnostics.advice()}."
        )


def _say_written(result: Any) -> None:
    if result.reused:
        _say(
            f"Reused the unchanged fit in {result.folder} (made {result.record.created_at}): "
            "nothing was sampled or written."
        )
        return
    times = result.record.wall_times
    if result.posterior_from:
        _say(
            f"Reused the posterior draws of {result.posterior_from} (the same posterior: "
            f"{result.spec.parameter_summary()} only changes post-processing); "
            f"post-processed and written to {result.folder} in "
            f"{times.get('fit_total_s', float('nan')):.1f} s."
        )
        return
    timing = ", ".join(f"{k.removesuffix('_s')} {v:.1f} s" for k, v in times.items())
    _say(f"Written to {result.folder} ({timing})")


def _print_result(result: Any, companions: dict[str, Any]) -> None:
    """Print the fit (and its companions) as its design renders them, then each verdict."""
    from bayes_qct.reporting.fit_text import fit_text

    console.print(fit_text(result, companions), markup=False, highlight=False, soft_wrap=True)
    _print_verdict(result, "this fit" if companions else "")
    for label, other in companions.items():
        _print_verdict(other, label)
    for fit_result in (result, *companions.values()):
        _say_written(fit_result)


def _fit_all(
    outcome: str,
    data: Path | None,
    mapping: Path | None,
    model: Path | None,
    overrides: dict[str, Any],
    out: Path | None,
    force: bool,
    strict: bool,
    quiet: bool,
) -> None:
    """``--missingness all``: every mechanism and handling, one comparison table."""
    from bayes_qct.api import load_cohort, load_spec
    from bayes_qct.fitting.mechanisms import run_all_mechanisms, write_comparison
    from bayes_qct.modeling.designs import get_design
    from bayes_qct.modeling.sample import sample_model
    from bayes_qct.reporting.text import comparison_text

    design = get_design(load_spec(model if model is not None else outcome).design)
    if design.mechanisms is not None:
        raise BadInputError(
            Problem(
                "command line",
                f"--missingness all compares every mechanism of the day-count models; design "
                f"{design.name!r} takes {' | '.join(design.mechanisms)}: fit each with "
                "--missingness NAME",
                column="--missingness",
            )
        )
    cohort = load_cohort(data, mapping=mapping)
    root = out if out is not None else Path("posterior")
    table = run_all_mechanisms(
        cohort,
        outcome,
        sampler=sample_model,
        overrides={k: v for k, v in overrides.items() if k != "missingness"},
        force=force,
        root=root,
        model=model,
        progress=not quiet,
        report=_say,
    )
    console.print(comparison_text(table), highlight=False, markup=False, soft_wrap=True)
    _say(f"Written to {write_comparison(table, root, outcome)}")
    failed = table[table["verdict"] != "converged"]
    if len(failed) and strict:
        raise typer.Exit(EXIT_DIAGNOSTICS)


@handle_errors
@with_mechanism_options
def fit(
    ctx: typer.Context,
    data: Path | None = typer.Option(
        None, "--data", help="Cohort file (default: the bundled synthetic cohort)."
    ),
    mapping: Path | None = typer.Option(None, "--mapping", help="TOML column mapping."),
    model: Path | None = typer.Option(
        None, "--model", help="Model spec TOML (default: models/<outcome>.toml)."
    ),
    likelihood: str | None = typer.Option(None, "--likelihood", help="Likelihood family."),
    missingness: str | None = typer.Option(
        None,
        "--missingness",
        help="Missing-data mechanism (mar, selection, shared-parameter, pattern-mixture) or "
        "the paper's handling (complete-case, locf, mean-imputation), or `all`: one fit per "
        "mechanism and handling, then their estimands side by side.",
    ),
    draws: int | None = typer.Option(None, "--draws", help="Draws per chain."),
    tune: int | None = typer.Option(None, "--tune", help="Warm-up iterations per chain."),
    chains: int | None = typer.Option(None, "--chains", help="Number of chains."),
    seed: int | None = typer.Option(None, "--seed", help="Random seed."),
    sampler: str | None = typer.Option(None, "--sampler", help="nutpie, numpyro or pymc."),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Fit folder (default posterior/<outcome>/<model>/; with --missingness all, "
        "the root that replaces posterior/).",
    ),
    force: bool = typer.Option(
        False, "--force", help="Overwrite a different existing fit; resample, reusing nothing."
    ),
    strict: bool = typer.Option(
        False, "--strict", help="Exit with code 3 when convergence checks fail."
    ),
    prior_only: bool = typer.Option(
        False, "--prior-only", help="Prior predictive check only (written to <folder>/prior/)."
    ),
    participant_draws: bool | None = typer.Option(
        None,
        "--participant-draws/--no-participant-draws",
        help="Write every draw of the participant intercepts, pointwise log-likelihoods and "
        "replicates to posterior.nc (default: for cohorts of at most 2,000 participants).",
    ),
    quiet: bool = typer.Option(
        False, "--quiet", help="No progress bar or stage messages (both go to stderr)."
    ),
    verbose: bool = typer.Option(False, "--verbose", help="Log progress to stderr."),
    mechanism_params: dict[str, float] | None = None,
) -> None:
    """Fit the outcome's model; an unchanged re-run reuses the existing fit."""
    setup_logging(verbose, stages=not quiet)
    outcome = ctx.command.name
    if outcome not in outcome_designs():
        raise BadInputError(
            Problem(
                "command line",
                f"unknown outcome {outcome!r}",
                expected=" | ".join(outcome_designs()),
            )
        )
    from bayes_qct.api import fit as run_fit
    from bayes_qct.api import load_cohort, load_spec

    overrides = {
        "likelihood": likelihood,
        "missingness": missingness,
        **(mechanism_params or {}),
        "sampler": sampler,
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "seed": seed,
    }
    if missingness == "all":
        _fit_all(outcome, data, mapping, model, overrides, out, force, strict, quiet)
        return
    spec = load_spec(model if model is not None else outcome, overrides=overrides)
    if spec.outcome != outcome:
        raise BadInputError(
            Problem(
                str(model), f"the spec is for {spec.outcome!r}, not {outcome!r}", column="outcome"
            )
        )
    cohort = load_cohort(data, mapping=mapping)
    for warning in cohort.warnings:
        print_warning(warning)
    result = run_fit(
        cohort,
        spec,
        out=out,
        force=force,
        prior_only=prior_only,
        progress=not quiet,
        participant_draws=participant_draws,
    )
    if prior_only:
        _print_prior(result)
        return
    from functools import partial

    from bayes_qct.fitting.companions import fit_companions

    companions = fit_companions(
        cohort,
        spec,
        fit=partial(run_fit, participant_draws=participant_draws),
        overrides=overrides,
        model=model,
        out=out,
        force=force,
        progress=not quiet,
        report=None if quiet else _say,
    )
    _print_result(result, companions)
    failed = [r for r in (result, *companions.values()) if r.diagnostics and not r.diagnostics.ok]
    if strict and failed:
        raise typer.Exit(EXIT_DIAGNOSTICS)


for _outcome in outcome_designs():
    app.command(
        _outcome,
        help=f"Fit the {_outcome} model (spec models/{_outcome}.toml, or --model FILE); "
        "an unchanged re-run reuses the existing fit.",
    )(fit)
