"""The `bayes-qct report` command: one self-contained page per outcome for reviewers."""

from __future__ import annotations

from pathlib import Path

import typer

from bayes_qct.cli._common import console, err_console, handle_errors, setup_logging
from bayes_qct.constants import OUTCOMES

app = typer.Typer(
    help="Render an outcome's fits, checks, audit and sensitivity sweeps as one "
    "self-contained HTML page (and Markdown) for reviewers: `bayes-qct report offending`.",
    no_args_is_help=False,
    invoke_without_command=True,
    # the group has no sub-commands: let options follow the OUTCOME argument
    context_settings={"allow_interspersed_args": True},
)

DEFAULT_OUT = Path("reports")


def _print(text: str) -> None:
    """Print a result line, wrapped at 80 columns, as written (no markup)."""
    from bayes_qct.reporting.text import wrap

    console.print(wrap(text, indent="    "), highlight=False, markup=False, soft_wrap=True)


@app.callback(invoke_without_command=True)
@handle_errors
def report(
    outcome: str = typer.Argument(..., help="offending, drug-use or all."),
    root: Path = typer.Option(
        Path("posterior"), "--root", help="Where the fits and other outputs are (posterior/)."
    ),
    fit: str | None = typer.Option(
        None,
        "--fit",
        help="The main fit: a folder name under <root>/<outcome>/ or a path (default: the "
        "outcome spec's folder, e.g. posterior/offending/default). Not with `all`.",
    ),
    out: Path = typer.Option(
        DEFAULT_OUT, "--out", help="Folder for <outcome>.html, <outcome>.md and the figures."
    ),
    force: bool = typer.Option(False, "--force", help="Overwrite a different existing report."),
    verbose: bool = typer.Option(False, "--verbose", help="Log progress to stderr."),
) -> None:
    """Write reports/<outcome>.html and .md from what posterior/ holds; fits nothing.

    Sections: the question and the data, the model, computation, the posterior
    predictive check, the answers (with the paper's results side by side), dropout,
    prior sensitivity, the audit and provenance. A piece not made yet says which command
    makes it; a fit that failed its convergence checks is flagged at the top.
    """
    from bayes_qct.errors import BadInputError
    from bayes_qct.reporting.inputs import gather
    from bayes_qct.reporting.render import build_report, write_report

    setup_logging(verbose)
    if outcome not in (*OUTCOMES, "all"):
        raise BadInputError(
            f"unknown outcome {outcome!r}; expected one of {', '.join([*OUTCOMES, 'all'])}",
            file="<command line>",
        )
    if outcome == "all" and fit is not None:
        raise BadInputError("--fit names one outcome's fit; not with `all`", file="<command line>")
    names = list(OUTCOMES) if outcome == "all" else [outcome]
    found = {name: gather(name, root=root, fit=fit) for name in names}  # refuse first
    for name, inputs in found.items():
        err_console.print(
            f"{name}: reading {inputs.fit.folder} and its neighbours; drawing the figures",
            highlight=False,
            markup=False,
        )
        built = build_report(inputs)
        written = write_report(built, out, force=force)
        action = "unchanged (same report)" if written.status == "unchanged" else "wrote"
        _print(f"{name}: {action} {written.html} and {written.markdown}")
        _print(f"  {inputs.heading}")
        for verdict in built.verdicts:
            _print(f"  CHECK FAILED: {verdict}")
        if not built.verdicts:
            _print("  every convergence check passed")
        missing = list(dict.fromkeys(built.missing()))
        if missing:
            _print("  not made yet (the report says what each adds): " + "; ".join(missing))
