"""The `bayes-qct simulate` command: a synthetic cohort and its known full-data truth."""

from __future__ import annotations

from pathlib import Path

import typer

from bayes_qct.cli._common import console, handle_errors, print_note

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
        "mar",
        "--dropout",
        help="mcar | mar | mnar | shared-parameter | pattern-mixture. Each takes only its "
        "own options: --strength and --dropout-outcome for mar, mnar and shared-parameter; "
        "--delta (required) for pattern-mixture; none for mcar.",
    ),
    strength: float | None = typer.Option(
        None,
        "--strength",
        help="Dependence of dropout, for mar, mnar (phi) and shared-parameter; <0: heavier "
        "users drop out. Default -2 (mar, mnar), -0.8 (shared-parameter).",
    ),
    delta: float | None = typer.Option(
        None,
        "--delta",
        help="Required with pattern-mixture, and only there: the logit shift of the missed "
        "values' mean. 0 draws them like the observed ones, which gives the same cohort as "
        "--dropout mcar.",
    ),
    pattern: str = typer.Option("intermittent", "--pattern", help="intermittent | monotone."),
    dropout_outcome: str | None = typer.Option(
        None,
        "--dropout-outcome",
        help="Outcome whose values drive mar, mnar or shared-parameter dropout (default "
        "offending).",
    ),
    effect: list[str] = typer.Option(
        [], "--effect", help="Override a generator parameter, e.g. offending.d4=-0.8 (repeatable)."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
) -> None:
    """Write a simulated SYNTHETIC cohort and its full-data truth (before dropout)."""
    from bayes_qct.data.dropout import MECHANISMS, SETTINGS_USED, refuse_unused
    from bayes_qct.data.simulate import simulate_cohort, write_simulation
    from bayes_qct.errors import BadInputError

    given = {"strength": strength, "delta": delta, "dropout_outcome": dropout_outcome}
    if dropout in MECHANISMS:
        flags = {k: "--" + k.replace("_", "-") for k, v in given.items() if v is not None}
        refuse_unused(dropout, flags)
    if dropout == "pattern-mixture" and delta is None:
        raise BadInputError(
            "--dropout pattern-mixture needs --delta, the logit shift of the missed values "
            "(--delta 0 draws them like the observed ones: the same cohort as --dropout mcar)",
            file="<command line>",
        )
    if dropout == "pattern-mixture" and delta == 0:
        print_note(
            "pattern-mixture with --delta 0 shifts nothing: this is the same cohort as "
            "--dropout mcar (same seed, same draws)"
        )
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
    used = {
        "strength": f"strength {s['strength']:g}",
        "delta": f"delta {s['delta']:g}",
        "dropout_outcome": f"driven by {s['dropout_outcome']}",
    }
    details = [text for key, text in used.items() if key in SETTINGS_USED[s["dropout"]]]
    waves = " / ".join(str(v) for v in truth["interviewed_per_wave"].values())
    console.print(
        f"SYNTHETIC simulated cohort (bayes-qct generator {truth['generator_version']}, "
        f"seed {seed}): {s['n_participants']} participants ({s['n_qct']} QCT) at "
        f"{s['n_sites']} sites; dropout {s['dropout']} ({', '.join([*details, s['pattern']])}); "
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
