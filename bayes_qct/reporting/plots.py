"""The report's own figures (plain matplotlib), and what every figure shares.

Figures are readable in greyscale: groups differ by line style and marker, not colour
alone; axes of day counts say "days out of 30"; groups are named as the paper names them
(:data:`bayes_qct.labels.GROUP_NAMES`). Each function returns a
:class:`~bayes_qct.reporting.document.Figure` holding PNG bytes (deterministic: no
timestamp or software tag is written into the file).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from bayes_qct.constants import MAX_DAYS, WAVE_MONTHS, WAVES
from bayes_qct.labels import ALL, CI_TEXT, DIFFERENCE, GROUP_NAMES, NO_DATA, QCT, VOLUNTARY
from bayes_qct.reporting.disclosure import is_small
from bayes_qct.reporting.document import Figure

DAYS_AXIS = f"days out of {MAX_DAYS}"
"""The label of every axis of day counts."""

GROUP_STYLE: dict[str, dict[str, Any]] = {
    QCT: {"color": "black", "linestyle": "-", "marker": "o"},
    VOLUNTARY: {"color": "0.4", "linestyle": "--", "marker": "s"},
    ALL: {"color": "0.55", "linestyle": ":", "marker": "^"},
    DIFFERENCE: {"color": "black", "linestyle": "-.", "marker": "D"},
}
"""Line style, marker and grey level per group: distinct without colour."""
HATCH = {QCT: "////", VOLUNTARY: "\\\\\\\\", ALL: "...."}

RC = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "bayes-qct",
    "hatch.linewidth": 0.6,
}


@contextmanager
def style() -> Iterator[None]:
    """Matplotlib settings shared by every figure (headless Agg backend)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    with plt.rc_context(RC):
        yield


def png(fig: Any, *, dpi: int = 110) -> bytes:
    """Return a matplotlib figure as PNG bytes and close it (no metadata in the file)."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def wave_ticks(ax: Any) -> None:
    """Label an x axis of months with the waves (``t2`` / ``6 months``)."""
    ax.set_xticks([WAVE_MONTHS[w] for w in WAVES])
    ax.set_xticklabels(
        [f"{w}\n{'intake' if WAVE_MONTHS[w] == 0 else f'{WAVE_MONTHS[w]} months'}" for w in WAVES]
    )
    ax.set_xlabel("interview wave")


def _cells(contrasts: pd.DataFrame, quantity: str, group: str) -> pd.DataFrame:
    rows = contrasts[(contrasts["quantity"] == quantity) & (contrasts["legal_status"] == group)]
    rows = rows.set_index(rows["wave"].astype(str)).reindex(list(WAVES))
    keep = rows["note"].fillna("").astype(str) != NO_DATA if "note" in rows else True
    return rows[keep & rows["mean"].notna()]


def trajectory_figure(
    contrasts: pd.DataFrame,
    observed: pd.DataFrame | None,
    published: Sequence[dict[str, Any]],
    *,
    source: str,
) -> Figure:
    """Draw expected days by group x wave with 95% bands, observed and published means.

    Parameters
    ----------
    contrasts
        The fit's ``contrasts.csv``.
    observed
        ``observed_vs_model.csv`` (observed means of the interviewed); a mean of fewer
        than 5 people is not drawn.
    published
        The paper's values in days out of 30: dicts with ``group``, ``wave``, ``value``,
        ``handling`` (``observed`` or ``locf``).
    source
        Data, model and missingness line.
    """
    import matplotlib.pyplot as plt

    with style():
        fig, ax = plt.subplots(figsize=(7.2, 4.2))
        for group in (QCT, VOLUNTARY):
            s = GROUP_STYLE[group]
            cells = _cells(contrasts, "expected_days", group)
            x = [WAVE_MONTHS[w] for w in cells.index]
            ax.fill_between(
                x,
                cells["lower"],
                cells["upper"],
                facecolor="0.9" if group == QCT else "none",
                edgecolor=s["color"],
                hatch=None if group == QCT else HATCH[group],
                linewidth=0.0,
                label=f"{GROUP_NAMES[group]}: {CI_TEXT}",
            )
            ax.plot(
                x,
                cells["mean"],
                color=s["color"],
                linestyle=s["linestyle"],
                linewidth=2,
                label=f"{GROUP_NAMES[group]}: expected days (model)",
            )
            if observed is not None:
                obs = observed[(observed["legal_status"] == group)]
                obs = obs[~obs["n_observed"].map(is_small) & obs["observed_mean"].notna()]
                ax.plot(
                    [WAVE_MONTHS[w] for w in obs["wave"]],
                    obs["observed_mean"],
                    linestyle="none",
                    marker=s["marker"],
                    markerfacecolor="white",
                    markeredgecolor=s["color"],
                    markersize=7,
                    label=f"{GROUP_NAMES[group]}: observed mean of those interviewed",
                )
            for handling, marker in (("observed", "x"), ("locf", "+")):
                points = [p for p in published if p["group"] == group and p["handling"] == handling]
                if points:
                    ax.plot(
                        [WAVE_MONTHS[p["wave"]] + 0.35 for p in points],
                        [p["value"] for p in points],
                        linestyle="none",
                        marker=marker,
                        color=s["color"],
                        markersize=9,
                        markeredgewidth=1.6,
                        label=f"{GROUP_NAMES[group]}: paper"
                        + (" (LOCF)" if handling == "locf" else ""),
                    )
        wave_ticks(ax)
        ax.set_ylabel(f"expected {DAYS_AXIS}")
        ax.set_ylim(0, MAX_DAYS)
        ax.set_xlim(-1, max(WAVE_MONTHS.values()) + 1.5)
        ax.grid(axis="y", color="0.85", linewidth=0.6)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        data = png(fig)
    return Figure(
        name="trajectories",
        caption=(
            "Expected days by group and wave (lines) with their "
            f"{CI_TEXT}s (bands: grey fill for {GROUP_NAMES[QCT]}, hatched for "
            f"{GROUP_NAMES[VOLUNTARY]}); open markers: observed means of those interviewed "
            "(a mean of fewer than 5 people is not drawn); crosses: the values the paper "
            "published (x: observed means read from its Figure 1 or text, +: its LOCF means), "
            "drawn just right of their wave."
        ),
        alt="Line chart of expected days out of 30 by wave for the two groups, with bands, "
        "observed means and published values.",
        png=data,
        source=source,
    )


def mechanisms_figure(table: pd.DataFrame, *, wave: str, source: str) -> Figure:
    """Reductions t1 -> ``wave`` and their QCT - voluntary difference under each mechanism."""
    import matplotlib.pyplot as plt

    from bayes_qct.fitting.mechanisms import estimand_column

    panels = (
        ("reduction", QCT),
        ("reduction", VOLUNTARY),
        ("reduction_difference", DIFFERENCE),
    )
    names = [
        str(m) + ("*" if k == "handling" else "")
        for m, k in zip(table["missingness"], table["kind"], strict=True)
    ]
    flags = [str(v) != "converged" for v in table["verdict"]]
    with style():
        fig, axes = plt.subplots(1, 3, figsize=(9.0, 0.42 * len(table) + 1.4), sharey=True)
        y = np.arange(len(table))[::-1]
        for ax, (quantity, group) in zip(axes, panels, strict=True):
            column = estimand_column(quantity, group)
            mean = 100 * table[column].astype(float).to_numpy()
            low = 100 * table[f"{column} lower"].astype(float).to_numpy()
            high = 100 * table[f"{column} upper"].astype(float).to_numpy()
            s = GROUP_STYLE[group]
            ax.hlines(y, low, high, color=s["color"], linewidth=1.6)
            for yi, m, bad in zip(y, mean, flags, strict=True):
                ax.plot(
                    m,
                    yi,
                    marker=s["marker"],
                    color=s["color"],
                    markerfacecolor="white" if bad else s["color"],
                )
            ax.axvline(0, color="0.6", linewidth=0.8)
            label = "reduction" if quantity == "reduction" else "difference in reductions"
            ax.set_title(f"{GROUP_NAMES[group]}", fontsize=10)
            ax.set_xlabel(f"{label}, t1 -> {wave} (%)")
            ax.grid(axis="x", color="0.9", linewidth=0.6)
        axes[0].set_yticks(y)
        axes[0].set_yticklabels(
            [n + (" (!)" if f else "") for n, f in zip(names, flags, strict=True)]
        )
        data = png(fig)
    return Figure(
        name="mechanisms",
        caption=(
            f"Reduction in expected days from t1 to {wave} per group, and the QCT - voluntary "
            f"difference, under each missingness assumption: mean and {CI_TEXT}. * a data "
            "handling of the paper fed to the same model; (!) and an open marker: that fit "
            "failed its convergence checks."
        ),
        alt="Three panels of intervals, one row per missingness assumption.",
        png=data,
        source=source,
    )


SWEEP_ROWS: tuple[tuple[str, str], ...] = (
    ("reduction", QCT),
    ("reduction", VOLUNTARY),
    ("reduction_difference", DIFFERENCE),
)
"""The estimands a one-parameter sweep's heat map shows, one row each."""


def _heat(ax: Any, prob: np.ndarray, mean: np.ndarray, scale: float) -> Any:
    """Shade cells by P(> 0) and print the mean over P(> 0) in each."""
    image = ax.imshow(prob, cmap="Greys", vmin=0, vmax=1, aspect="auto", origin="lower")
    for i, j in zip(*np.nonzero(np.isfinite(prob)), strict=True):
        ax.text(
            j,
            i,
            f"{round(scale * mean[i, j]) + 0:.0f}\n{prob[i, j]:.2f}",  # + 0: no "-0"
            ha="center",
            va="center",
            fontsize=7,
            color="white" if prob[i, j] > 0.55 else "black",
        )
    return image


def _grid_position(values: list[float], value: float) -> float:
    """Position of ``value`` on a heat map's axis of grid ``values`` (interpolated)."""
    return float(np.interp(value, values, np.arange(len(values))))


def sweep_figure(
    table: pd.DataFrame,
    parameters: dict[str, list[float]],
    *,
    wave: str,
    tipping: pd.DataFrame | None,
    source: str,
    name: str,
) -> Figure | None:
    """Draw a sweep as a heat map of P(> 0) with the posterior means printed in the cells.

    One swept parameter: a row per estimand (the reductions and their QCT - voluntary
    difference at ``wave``), the grid across, each conclusion's tipping point a dashed
    line. Two parameters: the difference in reductions over the two-way grid.
    """
    import matplotlib.pyplot as plt

    names = [p for p in parameters if p in table.columns]
    if table.empty or not names or len(names) > 2:
        return None
    at_wave = table[table["wave"].astype(str) == wave]
    xs = sorted(at_wave[names[0]].astype(float).unique())
    if len(names) == 1:
        series = [
            (q, g)
            for q, g in SWEEP_ROWS
            if ((at_wave["quantity"] == q) & (at_wave["legal_status"] == g)).any()
        ]
        labels = [
            f"{'difference' if g == DIFFERENCE else 'reduction'}, {GROUP_NAMES[g]}"
            for _, g in series
        ]
    else:
        series = [("reduction_difference", DIFFERENCE)]
        labels = sorted(at_wave[names[1]].astype(float).unique())
    if not series:
        return None
    prob = np.full((len(labels), len(xs)), np.nan)
    mean = np.full_like(prob, np.nan)
    for row in at_wave.itertuples(index=False):
        key = (row.quantity, row.legal_status)
        if key not in series:
            continue
        i = series.index(key) if len(names) == 1 else labels.index(float(getattr(row, names[1])))
        j = xs.index(float(getattr(row, names[0])))
        prob[i, j], mean[i, j] = float(row.prob_positive), float(row.mean)
    with style():
        fig, ax = plt.subplots(figsize=(min(2.6 + 0.5 * len(xs), 10), 1.3 + 0.5 * len(labels)))
        image = _heat(ax, prob, mean, 100.0)
        ax.set_xticks(range(len(xs)))
        ax.set_xticklabels([f"{v:g}" for v in xs], fontsize=8)
        ax.set_xlabel(names[0])
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels([str(v) if isinstance(v, str) else f"{v:g}" for v in labels])
        ax.set_ylabel(names[1] if len(names) == 2 else "")
        if tipping is not None and len(names) == 1 and "tipping_value" in tipping:
            shown = tipping[  # the tipping points of the rows drawn, not of every estimand
                tipping["wave"].astype(str).eq(wave)
                & pd.Series(
                    list(zip(tipping["quantity"], tipping["legal_status"], strict=True)),
                    index=tipping.index,
                ).isin(series)
            ]
            for value in shown["tipping_value"].dropna().astype(float):
                ax.axvline(_grid_position(xs, value), color="black", linestyle="--", lw=1.2)
        fig.colorbar(image, ax=ax, label="P(> 0)", fraction=0.04)
        data = png(fig)
    what = (
        f"the reductions t1 -> {wave} and their {GROUP_NAMES[DIFFERENCE]} difference"
        if len(names) == 1
        else f"the {GROUP_NAMES[DIFFERENCE]} difference in reductions t1 -> {wave}"
    )
    return Figure(
        name=f"sweep-{name}",
        caption=(
            f"Sensitivity of {what} across the sweep's grid of {' and '.join(names)}: each "
            "cell prints the posterior mean (%) over P(> 0), and is shaded by P(> 0) (darker = "
            "higher)" + ("; dashed lines: the tipping points." if len(names) == 1 else ".")
        ),
        alt=f"Heat map of P(> 0) over {', '.join(names)}.",
        png=data,
        source=source,
    )
