"""The `bayes-qct simulate` command: a synthetic cohort and its known full-data truth."""

from __future__ import annotations

from pathlib import Path

import typer

from bayes_qct.cli._common import console, handle_errors

app = typer.Typer(
    help=(
        "Draw synthetic cohorts with chosen size, effects and dropout mechanism, "
        "with their known truth."
    ),
    no_args_is_help=False,
    invoke_without_command=True,
)


def _parse_effects(items: list[str]) -> dict[str, float]:
    from bayes_qct.errors import BadInputError

    effects = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            effects[key.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise BadInputError(f"--effect {item!r}: expected NAME=NUMBER, e.g. offending.d4=-0.8")
    return effects


@app.callback(invoke_without_command=True)
@handle_errors
def simulate(
    out: Path = typer.Option(
        ..., "--out", help="CSV to write; the truth goes to <name>.truth.json."
    ),
    n: int = typer.Option(157, "--n", help="Number of participants."),
    sites: int = typer.Option(10, "--sites", help="Number of treatment sites."),
    share_qct: float = typer.Option(89 / 157, "--share-qct", help="Share on a court order."),
    dropout: str = typer.Option(
        "mar", "--dropout", help="mcar | mar | mnar | shared-parameter | pattern-mixture."
    ),
    strength: float | None = typer.Option(
        None, "--strength", help="Dependence of dropout (phi for mnar; <0: heavier users drop out)."
    ),
    delta: float = typer.Option(
        0.0, "--delta", help="Logit shift of missed values (pattern-mixture)."
    ),
    pattern: str = typer.Option("intermittent", "--pattern", help="intermittent | monotone."),
    dropout_outcome: str = typer.Option(
        "offending", "--dropout-outcome", help="Outcome that drives dropout."
    ),
    effect: list[str] = typer.Option(
        [], "--effect", help="Override a generator parameter, e.g. offending.d4=-0.8 (repeatable)."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
) -> None:
    """Write a simulated SYNTHETIC cohort and its full-data truth (before dropout)."""
    from bayes_qct.data.simulate import simulate_cohort, write_simulation

    df, truth = simulate_cohort(
        n_participants=n,
        n_sites=sites,
        share_qct=share_qct,
        effects=_parse_effects(effect),
        dropout=dropout,
        strength=strength,
        delta=delta,
        pattern=pattern,
        dropout_outcome=dropout_outcome,
        seed=seed,
    )
    csv_path, json_path = write_simulation(df, truth, out, force=force)
    s = truth["settings"]
    waves = " / ".join(str(v) for v in truth["interviewed_per_wave"].values())
    console.print(
        f"SYNTHETIC simulated cohort (bayes-qct generator {truth['generator_version']}, "
        f"seed {seed}): {s['n_participants']} participants ({s['n_qct']} QCT) at "
        f"{s['n_sites']} sites; dropout {s['dropout']} (strength {s['strength']:g}, "
        f"delta {s['delta']:g}, {s['pattern']}, driven by {s['dropout_outcome']}); "
        f"interviewed per wave {waves}.",
        highlight=False,
        markup=False,
    )
    rows = [
        r
        for r in truth["estimands"]
        if r["quantity"] in ("reduction", "reduction_difference") and r["wave"] == "t4"
    ]
    for r in rows:
        console.print(
            f"  truth (full data, before dropout): {r['outcome']} t1->t4 {r['quantity']} "
            f"{r['legal_status']}: {r['value']:.3f}",
            highlight=False,
            markup=False,
        )
    console.print(f"wrote {csv_path} and {json_path}", highlight=False, markup=False)
