"""The `bayes-qct audit` command: check the paper's published numbers against each other."""

from __future__ import annotations

import math
from pathlib import Path

import typer
from rich.table import Table

from bayes_qct.cli._common import console, handle_errors, plain, styled
from bayes_qct.errors import RefusedOverwriteError
from bayes_qct.outputs import atomic_write_text

app = typer.Typer(
    help="Check the paper's published numbers against each other (chi-square, r, p, GRIM, sums).",
    no_args_is_help=False,
    invoke_without_command=True,
)

DEFAULT_OUT = Path("posterior/audit.csv")
_STYLE = {
    "ok": "green",
    "close": "yellow",
    "mismatch": "bold red",
    "inconsistent": "bold red",
    "odd": "magenta",
    "not checkable": "dim",
}


def _num(x: float) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.4g}"


def write_if_changed(path: Path, text: str, *, force: bool) -> str:
    """Write ``text`` atomically; leave an identical file alone; refuse a different one.

    Returns ``"written"`` or ``"unchanged"``; raises ``RefusedOverwriteError`` (exit 4)
    when a different file exists and ``force`` is false.
    """
    if path.exists() and not path.is_dir():
        if path.read_text(encoding="utf-8") == text:
            return "unchanged"
        if not force:
            raise RefusedOverwriteError(
                f"{path} exists with different content; pass --force to overwrite it"
            )
    atomic_write_text(path, text, force=True)
    return "written"


@app.callback(invoke_without_command=True)
@handle_errors
def _main(
    ctx: typer.Context,
    out: Path = typer.Option(DEFAULT_OUT, "--out", help="Where to write the audit table (CSV)."),
    force: bool = typer.Option(False, "--force", help="Overwrite a different existing --out."),
    problems_only: bool = typer.Option(
        False, "--problems-only", help="Print only mismatches, inconsistencies and oddities."
    ),
) -> None:
    """Recompute every statistic the paper's own numbers allow; print and save the table."""
    if ctx.invoked_subcommand is not None:
        return
    from bayes_qct.frequentist.audit import PROBLEM_VERDICTS, audit  # lazy: 3 s of imports

    result = audit()
    table = result.table
    console.print(
        "[bold]Audit of the published paper's numbers[/] - source: the published paper "
        "(registry bayes_qct/data/paper.toml). No participant data, model or missing-data "
        "handling is involved: every recomputed value comes from other printed numbers.",
        highlight=False,
    )
    shown = table[table["verdict"].isin(PROBLEM_VERDICTS)] if problems_only else table
    view = Table(show_lines=False, header_style="bold")
    for name in ("verdict", "check", "entry", "reported", "recomputed", "section"):
        view.add_column(name, overflow="fold")
    for row in shown.itertuples():
        style = _STYLE.get(row.verdict, "")
        view.add_row(
            styled(row.verdict, style),
            plain(row.check),
            plain(row.entry_id),
            _num(row.reported),
            _num(row.recomputed),
            plain(row.section),
        )
    console.print(view)
    counts = table["verdict"].value_counts()
    console.print(
        "Verdicts: " + ", ".join(f"{k} {int(v)}" for k, v in counts.items()),
        highlight=False,
        markup=False,
    )
    status = write_if_changed(out, table.to_csv(index=False, lineterminator="\n"), force=force)
    console.print(f"Audit table {status}: {out}", highlight=False, markup=False)
    console.print(
        f"\n[bold]Findings ({len(result.findings)})[/] - what does not reconcile or is odd:"
    )
    for number, finding in enumerate(result.findings, 1):
        console.print(f"{number}. {finding}", highlight=False, markup=False)
