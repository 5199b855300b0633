"""Every dropout mechanism and data handling on one cohort, and their estimands side by side.

``bayes-qct fit OUTCOME --missingness all`` runs :func:`run_all_mechanisms`: one fit per
registry entry (the mechanisms ``mar``, ``selection``, ``shared-parameter``,
``pattern-mixture`` and the paper's handlings ``complete-case``, ``locf``,
``mean-imputation``), each into its own folder ``<root>/<outcome>/<spec>-<mechanism>/``
through :func:`bayes_qct.api.fit` (so an unchanged fit is reused), then one table of the
estimands the hypotheses are about: the t1 -> t4 reduction per legal status, the
QCT - voluntary difference in reductions and the expected days at t4, with 95%
equal-tailed intervals.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayes_qct.constants import CI_PROB, HANDLINGS, LEGAL_STATUSES, MECHANISMS
from bayes_qct.data.cohort import Cohort

if TYPE_CHECKING:
    from bayes_qct.modeling.spec import ModelSpec

log = logging.getLogger(__name__)

ALL_MECHANISMS: tuple[str, ...] = (*MECHANISMS, *HANDLINGS)
"""Every mechanism and handling, in the order the comparison table lists them."""

DIFFERENCE = f"{LEGAL_STATUSES[0]}-{LEGAL_STATUSES[1]}"
ESTIMANDS: tuple[tuple[str, str], ...] = (
    ("reduction", LEGAL_STATUSES[0]),
    ("reduction", LEGAL_STATUSES[1]),
    ("reduction_difference", DIFFERENCE),
    ("expected_days", LEGAL_STATUSES[0]),
    ("expected_days", LEGAL_STATUSES[1]),
)
"""(quantity, legal_status) pairs of ``contrasts.csv`` the table shows, at one wave."""

OWN_OPTION: dict[str, str] = {
    "phi": "selection",
    "lambda": "shared-parameter",
    "delta": "pattern-mixture",
}
"""Mechanism options that apply to one mechanism only (others would get a needless label)."""


def estimand_column(quantity: str, group: str) -> str:
    """Column name of one estimand's posterior mean, e.g. ``reduction[QCT]``."""
    return f"{quantity}[{group}]"


def mechanism_overrides(name: str, overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """Return the spec overrides of one mechanism's fit: the user's, with the mechanism set.

    ``phi`` goes to the selection model only, ``lambda`` to shared-parameter only and
    ``delta`` to pattern-mixture only, so that the other fits keep their plain folder
    names (and are reused when unchanged).
    """
    out: dict[str, Any] = {"missingness": name}  # first: it names the folder first
    for key, value in (overrides or {}).items():
        if key in ("mechanism", "missingness") or OWN_OPTION.get(key, name) != name:
            continue
        out[key] = value
    return out


def estimand_row(contrasts: pd.DataFrame, *, wave: str = "t4") -> dict[str, float]:
    """Means and interval bounds of :data:`ESTIMANDS` at ``wave`` from ``contrasts.csv`` rows."""
    row: dict[str, float] = {}
    for quantity, group in ESTIMANDS:
        hit = contrasts[
            (contrasts["quantity"] == quantity)
            & (contrasts["legal_status"] == group)
            & (contrasts["wave"].astype(str) == wave)
        ]
        column = estimand_column(quantity, group)
        if hit.empty:
            values = (np.nan, np.nan, np.nan)
        else:
            first = hit.iloc[0]
            values = (float(first["mean"]), float(first["lower"]), float(first["upper"]))
        row[column], row[f"{column} lower"], row[f"{column} upper"] = values
    return row


def run_all_mechanisms(
    cohort: Cohort,
    outcome: str,
    *,
    overrides: Mapping[str, Any] | None = None,
    force: bool = False,
    root: str | os.PathLike = "posterior",
    model: str | os.PathLike | None = None,
    mechanisms: Sequence[str] = ALL_MECHANISMS,
    wave: str = "t4",
    progress: bool = False,
) -> pd.DataFrame:
    """Fit every mechanism and handling and tabulate their estimands, one row each.

    Parameters
    ----------
    cohort
        The cohort (``bayes_qct.api.load_cohort``).
    outcome
        ``offending`` or ``drug-use``.
    overrides
        Spec overrides for every fit (``draws``, ``sampler``, ``likelihood``, ...); the
        mechanism is set per fit, and ``phi``/``lambda``/``delta`` reach only the
        mechanism they belong to (:func:`mechanism_overrides`).
    force
        Overwrite existing fits that differ (passed to :func:`bayes_qct.api.fit`).
    root
        Root of the fit folders (``<root>/<outcome>/<model label>/``).
    model
        A spec file to start from instead of the outcome's default spec.
    mechanisms
        Which registry entries to fit (default all seven).
    wave
        The wave of the reductions (from t1) and expected days shown.
    progress
        Show each sampler's progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per mechanism: ``missingness``, ``kind`` (mechanism or handling),
        ``model`` (fit folder name), ``folder``, ``reused``, ``divergences``,
        ``max_r_hat``, then for each of :data:`ESTIMANDS` its posterior mean
        (``reduction[QCT]`` ...) and 95% ETI bounds (``... lower``, ``... upper``);
        ``attrs`` hold the data label, outcome, wave and interval.

    Raises
    ------
    RefusedOverwriteError
        When a folder holds a different fit and ``force`` is not set.
    """
    from bayes_qct import api
    from bayes_qct.modeling.missingness import get_mechanism
    from bayes_qct.modeling.spec import load_spec

    rows = []
    for name in mechanisms:
        own = mechanism_overrides(name, overrides)
        # the spec's own mechanism keeps its plain folder (e.g. posterior/offending/default/)
        base = load_spec(
            model or outcome, overrides={k: v for k, v in own.items() if k != "missingness"}
        )
        spec = base if base.missingness == name else load_spec(model or outcome, overrides=own)
        if spec.outcome != outcome:
            raise ValueError(f"spec {spec.source} is for {spec.outcome}, not {outcome}")
        log.info("fitting %s under %s (%s)", outcome, name, cohort.label)
        result = api.fit(cohort, spec, root=root, force=force, progress=progress)
        info = result.info
        rows.append(
            {
                "missingness": name,
                "kind": get_mechanism(name).kind,
                "model": spec.model_label(),
                "parameter": dropout_parameter(spec),
                "folder": str(result.folder),
                "reused": bool(result.reused),
                "divergences": info.get("divergences"),
                "max_r_hat": info.get("max_r_hat"),
                **estimand_row(result.contrasts, wave=wave),
            }
        )
    table = pd.DataFrame(rows)
    table.attrs.update({"data": cohort.label, "outcome": outcome, "wave": wave, "ci_prob": CI_PROB})
    return table


def dropout_parameter(spec: ModelSpec) -> str:
    """Name the mechanism's sensitivity parameter as the fit used it (``delta=0``, ``phi est.``)."""
    if spec.missingness == "selection":
        return "phi est." if spec.phi is None else f"phi={spec.phi:g}"
    if spec.missingness == "shared-parameter":
        return "lambda est." if spec.lambda_ is None else f"lambda={spec.lambda_:g}"
    if spec.missingness == "pattern-mixture":
        return f"delta={spec.delta:g}"
    return "-"


def _interval(row: pd.Series, column: str, *, percent: bool) -> str:
    mean, lower, upper = row[column], row[f"{column} lower"], row[f"{column} upper"]
    if not np.isfinite(mean):
        return "-"
    if percent:
        return f"{100 * mean:+.0f}% [{100 * lower:+.0f}, {100 * upper:+.0f}]"
    return f"{mean:.1f} [{lower:.1f}, {upper:.1f}]"


def _block(headers: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(c[i]) for c in body)) for i, h in enumerate(headers)]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip() for cells in body
    ]
    return lines


def format_comparison(table: pd.DataFrame) -> str:
    """Plain-text rendering of :func:`run_all_mechanisms`'s table for the terminal.

    Two blocks, each within 80 columns: the t1 -> wave reductions per group and their
    difference (percent), then the expected days at the wave per 30 days at liberty with
    each fit's divergences and largest r_hat; each value a posterior mean [95% ETI]. The
    header names the data, outcome and wave; data handlings are starred and the footer
    says what that means.
    """
    wave = table.attrs.get("wave", "t4")
    qct, vol = LEGAL_STATUSES
    reductions, days = [], []
    for _, row in table.iterrows():
        name = str(row["missingness"]) + ("*" if row["kind"] == "handling" else "")
        reductions.append(
            [
                name,
                *(
                    _interval(row, estimand_column(q, g), percent=True)
                    for q, g in ESTIMANDS
                    if q != "expected_days"
                ),
            ]
        )
        r_hat = row.get("max_r_hat")
        days.append(
            [
                name,
                *(
                    _interval(row, estimand_column(q, g), percent=False)
                    for q, g in ESTIMANDS
                    if q == "expected_days"
                ),
                str(row.get("parameter", "-")),
                str(row.get("divergences", "")),
                f"{r_hat:.3f}" if isinstance(r_hat, float) and np.isfinite(r_hat) else "-",
            ]
        )
    level = f"{100 * table.attrs.get('ci_prob', CI_PROB):.0f}% ETI"
    lines = [
        f"{table.attrs.get('outcome', '')}: estimands under each missingness handling "
        f"(mean [{level}])",
        f"data: {table.attrs.get('data', '?')}",
        "",
        f"reduction in expected days, t1 -> {wave}:",
        *_block(["missingness", qct, vol, f"{qct} - {vol}"], reductions),
        "",
        f"expected days at {wave} (per 30 days at liberty), dropout parameter, diagnostics:",
        *_block(["missingness", qct, vol, "parameter", "div", "max r_hat"], days),
        "",
        "* a data handling: the model fitted on data handled as the paper did (complete",
        "  case, LOCF, mean imputation rounded to whole days); other rows model dropout.",
    ]
    return "\n".join(lines)
