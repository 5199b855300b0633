"""Figures drawn by ArviZ's plotting library (arviz-plots, matplotlib backend).

Rank plots of the key parameters, the site effects as a forest plot, a rootogram of the
day counts and test-statistic checks (share of 0s and of 30s) by group x wave. ArviZ's
colour cycle is replaced by greys and line styles, so the figures read in greyscale;
titles and axes are set to the report's words.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from bayes_qct.constants import CI_PROB, MAX_DAYS, WAVES
from bayes_qct.labels import CI_TEXT, GROUP_NAMES, QCT, VOLUNTARY
from bayes_qct.reporting.document import Figure
from bayes_qct.reporting.plots import DAYS_AXIS, png, style

CHAIN_GREYS = ("black", "0.3", "0.5", "0.7", "0.15", "0.6")
CHAIN_LINES = ("-", "--", ":", "-.", (0, (5, 1)), (0, (1, 3)))
POSTERIOR = "posterior_predictive"


def _figure(pc: Any) -> Any:
    return pc.get_viz("figure")


def rank_figure(idata: Any, var_names: Sequence[str], *, source: str) -> Figure | None:
    """Rank (fractional rank ECDF difference) plots of ``var_names``, one line per chain.

    ``var_names`` are scalar parameters or entries of a vector one (``g_wave[t3]``);
    ``None`` when none of them is in the posterior.
    """
    import arviz_plots as azp

    posterior = idata["posterior"].to_dataset()
    n_chains = int(posterior.sizes["chain"])
    names = [v.split("[")[0] for v in var_names]
    selected = {}
    for label, base in zip(var_names, names, strict=True):
        if base not in posterior:
            continue
        values = posterior[base]
        dims = [d for d in values.dims if d not in ("chain", "draw")]
        if "[" in label:
            inner = label[label.index("[") + 1 : -1]
            if len(dims) != 1 or inner not in values[dims[0]].to_numpy().astype(str):
                continue  # a label this plot cannot select: left out
            values = values.sel({dims[0]: inner}, drop=True)
        elif dims:
            continue  # a vector parameter: its entries are named one by one
        selected[label] = values
    if not selected:
        return None
    data = xr.DataTree.from_dict({"posterior": xr.Dataset(selected)})
    with style():
        pc = azp.plot_rank(
            data,
            backend="matplotlib",
            aes={"color": ["chain"], "linestyle": ["chain"]},
            color=[CHAIN_GREYS[c % len(CHAIN_GREYS)] for c in range(n_chains)],
            linestyle=[CHAIN_LINES[c % len(CHAIN_LINES)] for c in range(n_chains)],
            col_wrap=4,
            figure_kwargs={"figsize": (9.5, 2.9 * ((len(selected) + 3) // 4))},
        )
        fig = _figure(pc)
        fig.subplots_adjust(hspace=0.7)
        handles = fig.axes[0].get_lines()[:n_chains]
        fig.legend(
            handles,
            [f"chain {c + 1}" for c in range(n_chains)],
            loc="lower center",
            ncol=n_chains,
            frameon=False,
            bbox_to_anchor=(0.5, -0.06),
        )
        image = png(fig)
    return Figure(
        name="rank",
        caption=(
            "Rank plots (fractional rank ECDF minus the uniform) of the key parameters and of "
            "the parameters with the worst r_hat and ESS, one line per chain: chains that "
            "mix stay close together inside the envelope; the p-value is ArviZ's test of "
            "uniform ranks at the level alpha shown (black dots: where a chain leaves the "
            "envelope). A small p-value flags chains that disagree even when r_hat passes: "
            "read it with the bulk and tail ESS."
        ),
        alt="Rank ECDF difference plots, one panel per parameter, one line per chain.",
        png=image,
        source=source,
    )


def sites_figure(idata: Any, labels: dict[str, str], *, source: str) -> Figure:
    """Forest plot of the site intercepts ``u_site`` (logit scale), sites labelled with size."""
    import arviz_plots as azp

    values = idata["posterior"].to_dataset()["u_site"]
    sites = [str(s) for s in values["site"].to_numpy()]
    renamed = values.assign_coords(site=[labels.get(s, s) for s in sites])
    data = xr.DataTree.from_dict({"posterior": xr.Dataset({"site intercept": renamed})})
    with style():
        pc = azp.plot_forest(
            data,
            backend="matplotlib",
            combined=True,
            ci_probs=[0.5, CI_PROB],
            point_estimate="mean",
            labels=["site"],
            visuals={
                "trunk": {"color": "black"},
                "twig": {"color": "black"},
                "point_estimate": {"color": "black"},
            },
            figure_kwargs={"figsize": (7.0, 0.35 * len(sites) + 1.2)},
        )
        fig = _figure(pc)
        fig.axes[-1].axvline(0, color="0.6", linewidth=0.8, linestyle="--")
        fig.axes[-1].set_xlabel("site intercept u_site (logit scale of expected days)")
        image = png(fig)
    return Figure(
        name="sites",
        caption=(
            "Site intercepts (zero-sum over sites: 0 is the average site): posterior mean, "
            "50% (thick) and 95% (thin) equal-tailed intervals. +0.7 on this scale is about "
            "twice the odds of a day of the outcome. Sites are labelled with their number of "
            "participants (<5 for fewer than five)."
        ),
        alt="Forest plot of the site intercepts.",
        png=image,
        source=source,
    )


def _split(idata: Any, group: str, cells: dict[str, np.ndarray]) -> tuple[xr.DataTree, list[str]]:
    """Return a DataTree with one variable per cell (own observation dim) for its panels."""
    predicted = idata[group]["y"]
    observed = idata["observed_data"]["y"] if "observed_data" in idata.children else None
    pred, obs = {}, {}
    for index, (name, mask) in enumerate(cells.items()):
        if not mask.any():
            continue
        dim = f"obs{index}"
        pred[name] = (
            predicted.isel(obs=np.flatnonzero(mask))
            .rename(obs=dim)
            .drop_vars([c for c in predicted.coords if c not in ("chain", "draw")], errors="ignore")
        )
        if observed is not None:
            obs[name] = (
                observed.isel(obs=np.flatnonzero(mask))
                .rename(obs=dim)
                .drop_vars([c for c in observed.coords], errors="ignore")
            )
    tree = {group: xr.Dataset(pred)}
    if obs:
        tree["observed_data"] = xr.Dataset(obs)
    return xr.DataTree.from_dict(tree), list(pred)


def _status(idata: Any, group: str) -> np.ndarray:
    return np.asarray(idata[group]["y"]["legal_status"].to_numpy()).astype(str)


def prior_predictive_tree(path: str | Path, idata: Any) -> xr.DataTree:
    """Read a prior check's draws (``prior/prior.nc``) as counts labelled by legal status.

    The rows are the fit's observed rows, so each takes its legal status from the fit's
    ``observed_data``.
    """
    prior = xr.open_datatree(Path(path), engine="h5netcdf")
    replicated = prior["prior_predictive"]["y"]
    status = idata["observed_data"]["y"]["legal_status"].reindex(obs=replicated["obs"])
    counts = replicated.round().astype(np.int64).assign_coords(legal_status=("obs", status.data))
    return xr.DataTree.from_dict({"prior_predictive": xr.Dataset({"y": counts})})


def rootogram_figure(idata: Any, *, source: str, group: str = POSTERIOR) -> Figure:
    """Rootogram of the day counts 0..30 per legal status, predicted vs observed."""
    import arviz_plots as azp

    status = _status(idata, group)
    cells = {GROUP_NAMES[s]: status == s for s in (QCT, VOLUNTARY)}
    data, names = _split(idata, group, cells)
    prior = group != POSTERIOR
    with style():
        pc = azp.plot_ppc_rootogram(
            data,
            group=group,
            backend="matplotlib",
            ci_prob=CI_PROB,
            visuals={
                "predictive_markers": {"color": "0.45", "marker": "D"},
                "credible_interval": {"color": "0.45", "alpha": 0.5},
                "observed_markers": False if prior else {"color": "black", "marker": "o"},
                "xlabel": {"text": f"{DAYS_AXIS} (day count)"},
                "ylabel": {"text": "interviews (square-root scale)"},
            },
            figure_kwargs={"figsize": (9.5, 3.2)},
        )
        fig = _figure(pc)
        for ax in fig.axes:
            ax.set_xlim(-1, MAX_DAYS + 1)
        image = png(fig)
    what = "prior" if prior else "posterior"
    observed = "" if prior else " black dots: the observed counts;"
    return Figure(
        name=f"rootogram-{what}",
        caption=(
            f"Rootogram of the day counts by group ({', '.join(names)}): grey diamonds and "
            f"bars: how many interviews the {what} predictive distribution expects at each "
            f"count 0..{MAX_DAYS} (mean and {CI_TEXT});{observed} frequencies on a "
            "square-root scale so that the pile-ups at 0 and 30 and the thin middle are "
            "both visible."
        ),
        alt=f"Rootogram of {what} predictive versus observed day counts per group.",
        png=image,
        source=source,
    )


def _shares(idata: Any, value: int, cells: dict[str, np.ndarray]) -> xr.DataTree:
    """Per cell, the share of ``value`` in each replicated data set and in the data.

    Each cell becomes a variable with a single observation (its share), so that
    :func:`arviz_plots.plot_ppc_tstat` with ``t_stat="mean"`` draws the predictive
    distribution of the share against the observed share, one panel per cell.
    """
    predicted = idata[POSTERIOR]["y"]
    observed = idata["observed_data"]["y"]
    pred, obs = {}, {}
    for name, mask in cells.items():
        if not mask.any():
            continue
        rows = np.flatnonzero(mask)
        share = (predicted.isel(obs=rows) == value).mean("obs")
        pred[name] = share.drop_vars(
            [c for c in share.coords if c not in ("chain", "draw")]
        ).expand_dims(cell=1, axis=-1)
        seen = float((observed.isel(obs=rows).to_numpy() == value).mean())
        obs[name] = xr.DataArray([seen], dims=["cell"])
    return xr.DataTree.from_dict({POSTERIOR: xr.Dataset(pred), "observed_data": xr.Dataset(obs)})


def _bins(data: xr.DataTree) -> np.ndarray:
    """Return histogram edges shared by every panel: 0 to just above the largest share."""
    top = max(
        max(float(var.max()) for var in data[POSTERIOR].to_dataset().data_vars.values()),
        max(float(var.max()) for var in data["observed_data"].to_dataset().data_vars.values()),
    )
    top = min(1.0, max(0.05, top * 1.05))
    return np.linspace(0.0, top, 25)


def tstat_figure(idata: Any, value: int, *, source: str) -> Figure:
    """Posterior predictive distribution of the share of ``value``s by group x wave."""
    import arviz_plots as azp

    status = _status(idata, POSTERIOR)
    waves = np.asarray(idata[POSTERIOR]["y"]["wave"].to_numpy()).astype(str)
    cells = {
        f"{GROUP_NAMES[s]}, {w}": (status == s) & (waves == w)
        for s in (QCT, VOLUNTARY)
        for w in WAVES
    }
    data = _shares(idata, value, cells)
    with style(), warnings.catch_warnings():
        # a share that is 0 in every replicate "looks binary" to ArviZ: it is not
        warnings.filterwarnings("ignore", "Variables .* look binary", UserWarning)
        pc = azp.plot_ppc_tstat(
            data,
            t_stat="mean",
            kind="hist",
            stats={"dist": {"bins": _bins(data)}},
            backend="matplotlib",
            ci_prob=CI_PROB,
            visuals={
                "dist": {"color": "0.45"},
                "observed_tstat": {"color": "black", "marker": "v", "size": 60},
                "credible_interval": {"color": "black"},
            },
            col_wrap=4,
            figure_kwargs={"figsize": (9.5, 5.2)},
        )
        fig = _figure(pc)
        for ax, name in zip(fig.axes, cells, strict=False):
            ax.set_title(name.replace(", ", "\n"), fontsize=9)
            ax.set_xlabel(f"share with {value} days", fontsize=8)
        fig.subplots_adjust(hspace=0.75, wspace=0.3)
        image = png(fig)
    return Figure(
        name=f"tstat-{value}",
        caption=(
            f"Share of interviews reporting {value} days, by group and wave: the histogram is "
            "share in each data set replicated from the posterior (common bins), with its "
            f"{CI_TEXT} (bar); the black triangle is the share in the data. A triangle "
            "outside the bar is a misfit the model does not reproduce."
        ),
        alt=f"Test-statistic checks of the share of {value}s, one panel per group and wave.",
        png=image,
        source=source,
    )
