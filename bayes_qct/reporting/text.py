"""Plain-text renderings for an 80-column terminal.

Every table is a block of left-aligned columns (no borders, no wrapping), small enough
for 80 columns; anything wider lives in the CSV files and the report. Each rendering
starts with the line that says which data, model and missingness produced it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import Any

import pandas as pd

from bayes_qct.constants import WAVES
from bayes_qct.labels import (
    CAVEAT,
    CI_SHORT,
    CI_TEXT,
    DIFFERENCE,
    GROUP_NAMES,
    NO_DATA,
    QCT,
    VOLUNTARY,
    fmt_interval,
    is_missing,
)

WIDTH = 80


def wrap(text: str, *, indent: str = "") -> str:
    """Wrap prose at 80 columns."""
    return textwrap.fill(text, width=WIDTH, subsequent_indent=indent, break_on_hyphens=False)


def block(headers: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    """Return a table as aligned lines: header, rule, rows (no cell ever wraps)."""
    widths = [
        max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)
    ]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in body]
    return lines


# (quantity, column groups, unit, heading)
FIT_BLOCKS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("expected_days", (QCT, VOLUNTARY, DIFFERENCE), "days", "Expected days (expected_days)"),
    ("full_data_mean", (QCT, VOLUNTARY), "days", "Full-data mean days (full_data_mean)"),
    ("reduction", (QCT, VOLUNTARY, DIFFERENCE), "pct", "Reduction in expected days from t1"),
    ("any_days", (QCT, VOLUNTARY, DIFFERENCE), "pct", "Probability of any day (any_days)"),
)


def _cell(contrasts: pd.DataFrame, quantity: str, group: str, wave: str, unit: str) -> str:
    if quantity == "reduction" and group == DIFFERENCE:
        quantity = "reduction_difference"
    hit = contrasts[
        (contrasts["quantity"] == quantity)
        & (contrasts["legal_status"] == group)
        & (contrasts["wave"].astype(str) == wave)
    ]
    if hit.empty:
        return ""
    row = hit.iloc[0]
    if str(row.get("note", "") or "") == NO_DATA:
        return NO_DATA
    text = fmt_interval(row["mean"], row["lower"], row["upper"], unit)
    if group == DIFFERENCE and not is_missing(row.get("prob_positive")):
        text += f" P>0 {float(row['prob_positive']):.2f}"
    return text


def contrasts_text(contrasts: pd.DataFrame, heading: str) -> str:
    """Return the estimands of one fit: a block per quantity, waves as rows, groups as columns."""
    lines = [wrap(heading, indent="  "), ""]
    for quantity, groups, unit, title in FIT_BLOCKS:
        waves = WAVES[1:] if quantity == "reduction" else WAVES
        body = [[w, *(_cell(contrasts, quantity, g, w, unit) for g in groups)] for w in waves]
        if all(not any(cells[1:]) for cells in body):
            continue
        lines.append(f"{title}, mean [{CI_SHORT}]:")
        lines += block(["wave", *(GROUP_NAMES[g] for g in groups)], body)
        lines.append("")
    lines.append(
        wrap(
            f"Intervals: {CI_TEXT}s; P>0 is the posterior probability that the difference is "
            "positive. Days are per 30 days at liberty. expected_days averages the model's "
            "expectation over every enrolled participant, interviewed or not; "
            "full_data_mean keeps observed counts and draws missing ones from the model "
            "under the stated missingness assumption."
        )
    )
    lines.append(wrap(CAVEAT))
    return "\n".join(lines)


def prior_check_text(checks: pd.DataFrame, heading: str) -> str:
    """Prior predictive statistics (all participants) by wave, replicated vs observed."""
    subset = checks[checks["legal_status"] == "all"]
    body = []
    for statistic in subset["statistic"].unique():
        for wave in WAVES:
            hit = subset[(subset["statistic"] == statistic) & (subset["wave"] == wave)]
            if hit.empty:
                continue
            r = hit.iloc[0]
            body.append(
                [
                    statistic,
                    wave,
                    f"{r['replicated_mean']:.2f} [{r['replicated_lower']:.2f}, "
                    f"{r['replicated_upper']:.2f}]",
                    f"{r['observed']:.2f}",
                ]
            )
    lines = [wrap(heading, indent="  "), ""]
    lines += block(["statistic (all)", "wave", f"prior predictive [{CI_SHORT}]", "observed"], body)
    return "\n".join(lines)


def _interval(row: pd.Series, column: str, *, percent: bool) -> str:
    mean, lower, upper = row[column], row[f"{column} lower"], row[f"{column} upper"]
    if str(row.get(f"{column} note", "") or "") == NO_DATA:
        return "no data"
    if is_missing(mean) or not math.isfinite(float(mean)):
        return "-"
    if percent:
        return f"{100 * mean:+.0f}% [{100 * lower:+.0f}, {100 * upper:+.0f}]"
    return f"{mean:.1f} [{lower:.1f}, {upper:.1f}]"


def _flag(verdict: Any) -> str:
    """``!`` for a fit that failed its convergence checks, blank for one that passed."""
    return "" if str(verdict or "") == "converged" else "!"


def comparison_text(table: pd.DataFrame) -> str:
    """``--missingness all``: reductions, then expected days with each fit's verdict.

    Two blocks, each within 80 columns; data handlings are starred; a fit that failed
    its convergence checks is marked ``!`` in both blocks and listed under them.
    """
    from bayes_qct.fitting.mechanisms import ESTIMANDS, estimand_column

    wave = table.attrs.get("wave", "t4")
    reductions, days = [], []
    for _, row in table.iterrows():
        name = str(row["missingness"]) + ("*" if row["kind"] == "handling" else "")
        flag = _flag(row.get("verdict"))
        reductions.append(
            [
                flag,
                name,
                *(
                    _interval(row, estimand_column(q, g), percent=True)
                    for q, g in ESTIMANDS
                    if q != "expected_days"
                ),
            ]
        )
        days.append(
            [
                flag,
                name,
                *(
                    _interval(row, estimand_column(q, g), percent=False)
                    for q, g in ESTIMANDS
                    if q == "expected_days"
                ),
                str(row.get("parameter", "-")),
            ]
        )
    lines = [
        wrap(
            f"{table.attrs.get('outcome', '')}: estimands under each missingness handling "
            f"(mean [{CI_SHORT}])"
        ),
        wrap(f"data: {table.attrs.get('data', '?')}", indent="  "),
        "",
        f"reduction in expected days, t1 -> {wave}:",
        *block(["!", "missingness", QCT, VOLUNTARY, "QCT - vol."], reductions),
        "",
        f"expected days at {wave} (per 30 days at liberty) and dropout parameter:",
        *block(["!", "missingness", QCT, VOLUNTARY, "parameter"], days),
        "",
        "* a data handling: the model fitted on data handled as the paper did (complete",
        "  case, LOCF, mean imputation rounded to whole days); other rows model dropout.",
        "! the fit failed its convergence checks: do not report its numbers (see below).",
    ]
    for _, row in table.iterrows():
        if _flag(row.get("verdict")):
            lines.append(wrap(f"! {row['missingness']}: {row['verdict']}", indent="  "))
    return "\n".join(lines)


def ranking_text(result: Any) -> str:
    """``compare``: the families ranked by LOPO elpd, with each fit's verdict."""
    body = []
    for _, row in result.table.iterrows():
        body.append(
            [
                str(row["rank"]),
                str(row["family"]),
                f"{row['elpd']:.1f} ({row['se']:.1f})",
                f"{row['elpd_diff']:.1f} ({row['dse']:.1f})",
                str(row["method"]),
                f"{row['max_pareto_k']:.2f}",
                "NO" if _flag(row.get("verdict")) else "yes",
            ]
        )
    lines = [
        wrap("Likelihood families ranked by leave-one-participant-out elpd (se)"),
        wrap(f"data: {result.label}", indent="  "),
        "",
        *block(["#", "family", "elpd (se)", "diff (se)", "method", "max k", "converged"], body),
        "",
    ]
    lines += [wrap(f"- {note}", indent="  ") for note in result.notes]
    return "\n".join(lines)


def fits_text(table: pd.DataFrame) -> str:
    """Return the fit folders under a root: folder, mechanism, parameters, verdict."""
    body = [
        [str(r["folder"]), str(r["missingness"]), str(r["parameters"]), str(r["verdict"])]
        for _, r in table.iterrows()
    ]
    return "\n".join(block(["fit folder", "missingness", "parameters", "checks"], body))


def _unconverged_refits(result: Any, verdicts: dict[str, str]) -> list[str]:
    """Return a warning naming the refits that failed their checks and their points."""
    failed = {value: v for value, v in verdicts.items() if not str(v).startswith("converged")}
    if not failed:
        return []
    name = result.plan.parameters[0]
    table = result.table
    points = sorted(set(table.loc[table["verdict"].astype(str) != "converged", name]))
    reasons = "; ".join(
        f"{name} = {value}: {str(v).removeprefix('NOT CONVERGED: ')}" for value, v in failed.items()
    )
    return [
        wrap(
            f"WARNING: refits that did NOT CONVERGE ({reasons}). The points from their "
            f"draws ({name} = {', '.join(f'{v:g}' for v in points)}) and any tipping point "
            "among them are not to be reported until those refits converge (longer chains: "
            "--draws; see the verdict column of sensitivity.csv)."
        )
    ]


def sweep_text(result: Any) -> str:
    """Render a sweep: its grid, how points were obtained, and the tipping points.

    With a two-way grid the sentences are those along each parameter with the other at
    its reference value (0); every line of the grid is in tipping_points.csv.
    """
    plan, tipping = result.plan, result.tipping
    grid = "; ".join(
        f"{name} from {min(v):g} to {max(v):g} ({len(v)} values)" for name, v in plan.axes
    )
    methods = ", ".join(f"{n} {m}" for m, n in result.record.get("methods", {}).items())
    lines = [wrap(result.heading, indent="  "), "", wrap(f"Grid: {grid}; points: {methods}.")]
    base = result.record.get("base", {})
    if "fit_folder" in base:
        lines.append(wrap(f"Base posterior: {base['fit_folder']} ({base.get('verdict', '?')})."))
    if "anchors" in base:
        anchors = ", ".join(f"{v:g}" for v in base["anchors"])
        lines.append(
            wrap(f"Refitted at {plan.parameters[0]} = {anchors}; other points reweighted.")
        )
        lines += _unconverged_refits(result, base.get("verdicts", {}))
    references = plan.references()
    shown = tipping
    if len(plan.parameters) == 2:
        keep = []
        for _, row in tipping.iterrows():
            other = row["other_parameter"]
            keep.append(abs(row["other_value"] - references.get(other, 0.0)) < 1e-9)
        shown = tipping[keep]
    tips = shown[shown["tipping_value"].notna()]
    lines += ["", f"Tipping points ({CI_TEXT}s; interpolated between grid points):"]
    if tips.empty:
        lines.append("  none inside the grid: every conclusion holds (or fails) throughout.")
    lines += [wrap(f"- {sentence}", indent="  ") for sentence in tips["sentence"]]
    steady = shown[shown["tipping_value"].isna()]
    holds = int(steady["holds_at_reference"].sum())
    lines.append(
        wrap(
            f"No tipping point inside the grid for {len(steady)} conclusion(s): {holds} hold "
            f"throughout, {len(steady) - holds} never hold (see tipping_points.csv)."
        )
    )
    psense = result.psense
    if psense is not None and len(psense):
        sensitive = psense[psense["diagnosis"].astype(str).str.startswith("potential")]
        lines += ["", "Prior sensitivity (power-scaling of the base posterior):"]
        if sensitive.empty:
            lines.append("  no parameter is flagged as prior-sensitive.")
        else:
            names = ", ".join(sensitive["variable"].astype(str))
            lines.append(
                wrap(f"  flagged ({sensitive['diagnosis'].iloc[0]} ...): {names}", indent="  ")
            )
        flag = str(psense["flagged"].iloc[0] or "")
        if flag:
            lines.append(wrap(f"  {flag}", indent="  "))
    return "\n".join(lines)
