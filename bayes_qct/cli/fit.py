"""The `bayes-qct fit` command: fit an outcome's model, or reuse an unchanged fit."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from bayes_qct.cli._common import console, err_console, handle_errors, setup_logging
from bayes_qct.constants import EXIT_DIAGNOSTICS, LEGAL_STATUSES, OUTCOMES, WAVES
from bayes_qct.errors import BadInputError, Problem

app = typer.Typer(
    help="Fit the hierarchical model of an outcome (offending, drug-use) and write its "
    "posterior, summary and estimands: `bayes-qct fit offending [OPTIONS]`.",
    no_args_is_help=True,
)

DIFF = f"{LEGAL_STATUSES[0]}-{LEGAL_STATUSES[1]}"
CAVEAT = (
    "QCT-voluntary is an adjusted comparison (legal status was not randomised), not a causal "
    "effect; the t1 window is the 30 days before arrest for QCT but before admission for "
    "voluntary clients, which inflates QCT reductions (regression to the mean)."
)
# (quantity, legal statuses shown, format)
_ROWS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("expected_days", (*LEGAL_STATUSES, DIFF), "days"),
    ("full_data_mean", LEGAL_STATUSES, "days"),
    ("reduction", LEGAL_STATUSES, "pct"),
    ("reduction_difference", (DIFF,), "pct"),
    ("any_days", (*LEGAL_STATUSES, DIFF), "pct"),
)


def _fmt(value: float, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{100 * value:.0f}%" if kind == "pct" else f"{value:.1f}"


def contrasts_rich_table(contrasts: Any, heading: str) -> Table:
    """Compact table: estimand x group rows, waves as columns, mean [95% ETI] (P>0)."""
    table = Table(title=heading, title_justify="left", caption=CAVEAT, caption_justify="left")
    table.add_column("estimand", no_wrap=True)
    table.add_column("group", no_wrap=True)
    for wave in WAVES:
        table.add_column(wave, justify="right")
    for quantity, groups, kind in _ROWS:
        for group in groups:
            cells = []
            for wave in WAVES:
                row = contrasts[
                    (contrasts["quantity"] == quantity)
                    & (contrasts["legal_status"] == group)
                    & (contrasts["wave"] == wave)
                ]
                if row.empty:
                    cells.append("")
                    continue
                r = row.iloc[0]
                text = (
                    f"{_fmt(r['mean'], kind)} [{_fmt(r['lower'], kind)}, {_fmt(r['upper'], kind)}]"
                )
                if not math.isnan(r["prob_positive"]):
                    text += f" P>0 {r['prob_positive']:.2f}"
                cells.append(text)
            table.add_row(quantity, group, *cells)
    return table


def prior_rich_table(checks: Any, heading: str) -> Table:
    """Prior predictive statistics (all participants) by wave: mean [95% ETI] (observed)."""
    table = Table(title=heading, title_justify="left")
    table.add_column("statistic (all participants)")
    for wave in WAVES:
        table.add_column(wave, justify="right")
    subset = checks[checks["legal_status"] == "all"]
    for statistic in subset["statistic"].unique():
        cells = []
        for wave in WAVES:
            row = subset[(subset["statistic"] == statistic) & (subset["wave"] == wave)]
            if row.empty:
                cells.append("")
                continue
            r = row.iloc[0]
            cells.append(
                f"{r['replicated_mean']:.2f} [{r['replicated_lower']:.2f}, "
                f"{r['replicated_upper']:.2f}] (obs {r['observed']:.2f})"
            )
        table.add_row(statistic, *cells)
    return table


def _print_result(result: Any, *, prior_only: bool) -> None:
    if result.reused:
        console.print(
            f"[bold]Reusing[/] the unchanged fit in {result.folder} (made "
            f"{result.info.get('created_at', '?')}); nothing was refitted.",
            highlight=False,
        )
    if prior_only:
        heading = f"Prior predictive check: {_heading(result)}"
        console.print(prior_rich_table(result.tables["prior_predictive"], heading))
        console.print(f"Written to {result.folder}", highlight=False)
        return
    console.print(contrasts_rich_table(result.contrasts, _heading(result)))
    diagnostics = result.diagnostics
    if diagnostics is not None and diagnostics.ok:
        console.print(f"[green]{diagnostics.verdict()}[/]", highlight=False)
    elif diagnostics is not None:
        err_console.print(
            f"[bold red on white] WARNING [/] [bold red]{diagnostics.verdict()}[/]\n"
            "[red]Do not report these estimates before the sampler problems are fixed "
            "(more tuning, a higher target_accept, or a reparametrised model).[/]",
            highlight=False,
        )
    times = result.info.get("wall_times", {})
    timing = ", ".join(f"{k.removesuffix('_s')} {v:.1f} s" for k, v in times.items())
    console.print(f"Written to {result.folder} ({timing})", highlight=False)


def _heading(result: Any) -> str:
    return result.heading


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
    from bayes_qct.api import load_cohort
    from bayes_qct.estimands.diagnostics import R_HAT_MAX
    from bayes_qct.modeling.all_mechanisms import format_comparison, run_all_mechanisms

    cohort = load_cohort(data, mapping=mapping)
    table = run_all_mechanisms(
        cohort,
        outcome,
        overrides={k: v for k, v in overrides.items() if k != "missingness"},
        force=force,
        root=out if out is not None else "posterior",
        model=model,
        progress=not quiet,
    )
    console.print(format_comparison(table), highlight=False, markup=False)
    failed = table[(table["divergences"] > 0) | ~(table["max_r_hat"] <= R_HAT_MAX)]
    if len(failed):
        err_console.print(
            f"[bold red]WARNING: convergence checks failed for {', '.join(failed['missingness'])}; "
            "see each fit folder's fit.json.[/]",
            highlight=False,
        )
        if strict:
            raise typer.Exit(EXIT_DIAGNOSTICS)


@handle_errors
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
        help="Missing-data mechanism (mar, selection, ...), or `all`: one fit per mechanism "
        "and handling, then their estimands side by side.",
    ),
    phi: float | None = typer.Option(None, "--phi", help="Fix the selection model's phi."),
    lam: float | None = typer.Option(
        None, "--lambda", help="Fix the shared-parameter model's lambda."
    ),
    delta: float | None = typer.Option(None, "--delta", help="Pattern-mixture delta."),
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
    force: bool = typer.Option(False, "--force", help="Overwrite a different existing fit."),
    strict: bool = typer.Option(
        False, "--strict", help="Exit with code 3 when convergence checks fail."
    ),
    prior_only: bool = typer.Option(
        False, "--prior-only", help="Prior predictive check only (written to <folder>/prior/)."
    ),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    verbose: bool = typer.Option(False, "--verbose", help="Log progress to stderr."),
) -> None:
    """Fit the outcome's model; an unchanged re-run reuses the existing fit."""
    setup_logging(verbose)
    outcome = ctx.command.name
    if outcome not in OUTCOMES:
        raise BadInputError(
            Problem("<command line>", f"unknown outcome {outcome!r}", expected=" | ".join(OUTCOMES))
        )
    from bayes_qct.api import fit as run_fit
    from bayes_qct.api import load_cohort
    from bayes_qct.modeling.spec import load_spec

    overrides = {
        "likelihood": likelihood,
        "missingness": missingness,
        "phi": phi,
        "lambda": lam,
        "delta": delta,
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
        err_console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    result = run_fit(cohort, spec, out=out, force=force, prior_only=prior_only, progress=not quiet)
    _print_result(result, prior_only=prior_only)
    if strict and result.diagnostics is not None and not result.diagnostics.ok:
        raise typer.Exit(EXIT_DIAGNOSTICS)


for _outcome in OUTCOMES:
    app.command(
        _outcome,
        help=f"Fit the {_outcome} model (spec models/{_outcome}.toml, or --model FILE); "
        "an unchanged re-run reuses the existing fit.",
    )(fit)
