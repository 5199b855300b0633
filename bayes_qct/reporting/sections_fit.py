"""Report sections 3 and 4: the computation, and the posterior predictive check.

Computation: sampler, settings and versions, the convergence checks against their
thresholds (a failed one is the report's verdict), the ArviZ summary of every parameter
and estimand, and rank plots. Participant intercepts are never listed one by one: they
are summarised in one row (worst r_hat and ESS), and a participant's label never appears.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from bayes_qct.constants import CI_KIND, CI_PROB, DIM_PARTICIPANT, MAX_DAYS
from bayes_qct.estimands.diagnostics import BFMI_MIN, ESS_MIN, R_HAT_MAX
from bayes_qct.labels import CI_SHORT, GROUP_NAMES, NO_DATA, QCT, VOLUNTARY
from bayes_qct.reporting import disclosure
from bayes_qct.reporting.cells import contrast_row, estimate, no_data, num
from bayes_qct.reporting.document import Section, Table
from bayes_qct.reporting.inputs import ReportInputs
from bayes_qct.reporting.plots_arviz import rank_figure, rootogram_figure, tstat_figure

QUANTITIES = ("expected_days", "full_data_mean", "reduction", "reduction_difference", "any_days")
"""The estimands group's variables (contrasts.csv quantities), in table order."""
KEY_PARAMETERS = (
    "b0",
    "b_qct",
    "sigma_site",
    "sigma_participant",
    "z_qct",
    "kappa",
    "phi",
    "lambda",
    "psi_qct",
)
"""Scalar parameters shown in the rank plots when the model has them."""
SUMMARY_COLUMNS = [
    "parameter",
    "mean",
    "sd",
    CI_SHORT,
    "ess_bulk",
    "ess_tail",
    "r_hat",
    "mcse_mean",
]


def participant_variables(idata: Any) -> set[str]:
    """Posterior variables with one entry per participant (never listed one by one)."""
    names = set()
    for group in ("posterior", "sampler_internals"):
        if group in idata.children:
            data = idata[group]
            names |= {n for n, var in data.data_vars.items() if DIM_PARTICIPANT in var.dims}
    return names


def public_name(parameter: str, hidden: set[str]) -> str:
    """Return a parameter's label, a participant's own label replaced by the variable's."""
    base = parameter.split("[")[0]
    return f"{base} (one of the participant intercepts)" if base in hidden else parameter


def _summary_rows(summary: pd.DataFrame, hidden: set[str]) -> list[list[str]]:
    rows, pooled = [], {}
    lower, upper = [c for c in summary.columns if c.endswith("_lb") or c.endswith("_ub")][:2]
    for _, r in summary.iterrows():
        name = str(r["parameter"])
        base = name.split("[")[0]
        if base in hidden:
            pooled.setdefault(base, []).append(r)
            continue
        rows.append(
            [
                name,
                num(r["mean"]),
                num(r["sd"]),
                f"[{num(r[lower])}, {num(r[upper])}]",
                num(r["ess_bulk"], 0),
                num(r["ess_tail"], 0),
                num(r["r_hat"], 3),
                num(r.get("mcse_mean"), 4),
            ]
        )
    for base, members in pooled.items():
        frame = pd.DataFrame(members)
        rows.append(
            [
                f"{base}: {len(frame)} participant intercepts (worst of them)",
                "-",
                "-",
                "-",
                f"min {num(frame['ess_bulk'].min(), 0)}",
                f"min {num(frame['ess_tail'].min(), 0)}",
                f"max {num(frame['r_hat'].max(), 3)}",
                f"max {num(frame['mcse_mean'].max(), 4)}" if "mcse_mean" in frame else "-",
            ]
        )
    return rows


def estimand_summary(idata: Any) -> pd.DataFrame:
    """ArviZ summary (95% ETI) of the estimands group's draws; cells with no draws dropped."""
    import arviz as az

    group = idata["estimands"].to_dataset()
    names = [q for q in QUANTITIES if q in group.data_vars]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        table = az.summary(
            idata,
            group="estimands",
            var_names=names,
            ci_prob=CI_PROB,
            ci_kind=CI_KIND,
            round_to="none",
        )
    table = pd.DataFrame(table).astype(float)
    table.index.name = "parameter"
    return table.dropna(how="all").reset_index()


def _estimand_rows(table: pd.DataFrame, contrasts: pd.DataFrame) -> list[list[str]]:
    rows = []
    for row in _summary_rows(table, set()):
        name = row[0]
        quantity, _, inner = name.partition("[")
        group, _, wave = inner.rstrip("]").partition(", ")
        if no_data(contrast_row(contrasts, quantity, group, wave)):
            row = [name, NO_DATA, *["-"] * (len(row) - 2)]
        rows.append(row)
    return rows


def _key_parameters(inputs: ReportInputs, hidden: set[str]) -> list[str]:
    posterior = inputs.fit.idata["posterior"]
    names = [p for p in KEY_PARAMETERS if p in posterior.data_vars]
    diagnostics = inputs.fit.record.diagnostics or {}
    for key in ("max_r_hat_parameter", "min_ess_bulk_parameter", "min_ess_tail_parameter"):
        worst = str(diagnostics.get(key) or "")
        if worst and worst.split("[")[0] not in hidden and worst not in names:
            names.append(worst)
    return names[:8]


def _bfmi(idata: Any) -> list[float]:
    import arviz as az

    stats = idata["sample_stats"] if "sample_stats" in idata.children else None
    if stats is None or "energy" not in stats.data_vars:
        return []
    return [float(v) for v in np.atleast_1d(az.bfmi(idata)["energy"].to_numpy())]


def _diagnostics_table(inputs: ReportInputs, hidden: set[str], source: str) -> Table:
    d = inputs.fit.record.diagnostics or {}
    bfmi = _bfmi(inputs.fit.idata)
    rows = [
        ["divergent transitions", f"{d.get('divergences', '-')} of {d.get('n_draws', '-')}", "0"],
        [
            "largest r_hat",
            f"{num(d.get('max_r_hat'), 3)} "
            f"({public_name(str(d.get('max_r_hat_parameter')), hidden)})",
            f"<= {R_HAT_MAX}",
        ],
        [
            "smallest bulk ESS",
            f"{num(d.get('min_ess_bulk'), 0)} "
            f"({public_name(str(d.get('min_ess_bulk_parameter')), hidden)})",
            f">= {ESS_MIN}",
        ],
        [
            "smallest tail ESS",
            f"{num(d.get('min_ess_tail'), 0)} "
            f"({public_name(str(d.get('min_ess_tail_parameter')), hidden)})",
            f">= {ESS_MIN}",
        ],
        [
            "E-BFMI per chain",
            ", ".join(num(b) for b in bfmi) if bfmi else num(d.get("min_bfmi")),
            f">= {BFMI_MIN}",
        ],
    ]
    return Table(
        caption="Convergence checks against their thresholds.",
        columns=["check", "value", "threshold"],
        rows=rows,
        source=source,
    )


def computation_section(inputs: ReportInputs) -> Section:
    """Section 3: sampler and versions, convergence checks, summaries and rank plots."""
    fit = inputs.fit
    record = fit.record
    source = f"{inputs.heading}."
    hidden = participant_variables(fit.idata)
    sampler = record.sampler
    times = record.wall_times
    diagnostics = fit.diagnostics
    verdict = diagnostics.verdict() if diagnostics is not None else "No convergence checks."
    text = [
        f"Sampler: {sampler.get('sampler', '?')} (NUTS), {sampler.get('chains', '?')} chains x "
        f"{sampler.get('draws', '?')} draws after {sampler.get('tune', '?')} warm-up iterations, "
        f"target_accept {sampler.get('target_accept', '?')}, seed {record.seed}; sampling "
        f"{num(times.get('sampling_s'), 1)} s, whole fit {num(times.get('fit_total_s'), 1)} s.",
        "Versions: "
        + ", ".join(f"{k} {v}" for k, v in record.versions.items() if v is not None)
        + ".",
        verdict,
    ]
    if record.posterior_from:
        text.insert(1, f"The draws are those of {record.posterior_from} (the same posterior).")
    section = Section("Computation", text=text)
    if diagnostics is not None and not diagnostics.ok:
        section.verdict = (
            f"The fit {fit.folder} FAILED its convergence checks: "
            f"{'; '.join(diagnostics.failures)}. Do not report its numbers before the "
            "sampler problems are fixed."
        )
    section.tables.append(_diagnostics_table(inputs, hidden, source))
    section.tables.append(
        Table(
            caption=f"ArviZ summary of every model parameter ({CI_SHORT}); participant "
            "intercepts are summarised in one row.",
            columns=SUMMARY_COLUMNS,
            rows=_summary_rows(fit.summary, hidden),
            numeric=(1, 2, 4, 5, 6, 7),
            source=source,
        )
    )
    if "estimands" in fit.idata.children:
        table = estimand_summary(fit.idata)
        section.tables.append(
            Table(
                caption=f"ArviZ summary of every estimand ({CI_SHORT}), from the stored draws: "
                "days for expected_days and full_data_mean, proportions for reductions and "
                "any_days.",
                columns=["estimand", *SUMMARY_COLUMNS[1:]],
                rows=_estimand_rows(table, fit.contrasts),
                numeric=(1, 2, 4, 5, 6, 7),
                source=source,
            )
        )
    figure = rank_figure(fit.idata, _key_parameters(inputs, hidden), source=source)
    if figure is not None:
        section.figures.append(figure)
    return section


def outside(ppc: pd.DataFrame) -> pd.Series:
    """Rows whose observed statistic lies outside the replicated 95% interval.

    The interval, not the one-sided p-value, decides: a statistic that is 0 in the data
    and in every replicate (no 30s at t2) has P(replicated >= observed) = 1 and fits.
    """
    observed = ppc["observed"].astype(float)
    return (observed < ppc["replicated_lower"]) | (observed > ppc["replicated_upper"])


def _ppc_rows(ppc: pd.DataFrame) -> list[list[str]]:
    rows = []
    misfit = outside(ppc)
    for index, r in ppc.iterrows():
        rows.append(
            [
                GROUP_NAMES.get(str(r["legal_status"]), str(r["legal_status"])),
                str(r["wave"]),
                disclosure.count_cell(r["n"]),
                disclosure.statistic_cell(num(r["observed"]), r["n"]),
                f"{num(r['replicated_mean'])} [{num(r['replicated_lower'])}, "
                f"{num(r['replicated_upper'])}]",
                num(r["p_replicated_ge_observed"]),
                "outside" if misfit[index] and not disclosure.is_small(r["n"]) else "",
            ]
        )
    return rows


def _observed_vs_model(table: pd.DataFrame, contrasts: pd.DataFrame) -> list[list[str]]:
    rows = []
    for r in table.itertuples(index=False):
        group, wave = str(r.legal_status), str(r.wave)
        rows.append(
            [
                GROUP_NAMES.get(group, group),
                wave,
                disclosure.count_cell(r.n_observed),
                disclosure.statistic_cell(num(r.observed_mean, 1), r.n_observed),
                estimate(contrast_row(contrasts, "expected_days", group, wave), "days"),
                estimate(contrast_row(contrasts, "full_data_mean", group, wave), "days"),
            ]
        )
    return rows


def ppc_section(inputs: ReportInputs) -> Section:
    """Section 4: rootogram, shares of 0s and 30s by group x wave, observed vs model means."""
    fit = inputs.fit
    source = f"{inputs.heading}."
    section = Section(
        "Posterior predictive check",
        text=[
            "Data sets replicated from the fitted model, compared with the data: the whole "
            f"distribution of day counts (0..{MAX_DAYS}), then the two pile-ups the model must "
            "reproduce, the share of interviews with 0 days (desisters) and with 30 days "
            "(daily), by group and wave."
        ],
    )
    idata = fit.idata
    if "posterior_predictive" in idata.children and "observed_data" in idata.children:
        section.figures.append(rootogram_figure(idata, source=source))
        section.figures += [tstat_figure(idata, v, source=source) for v in (0, MAX_DAYS)]
    ppc = fit.tables.get("ppc")
    if ppc is not None:
        for statistic, what in (("share_zero", "0 days"), ("share_thirty", f"{MAX_DAYS} days")):
            subset = ppc[
                (ppc["statistic"] == statistic) & ppc["legal_status"].isin([QCT, VOLUNTARY])
            ]
            if subset.empty:
                continue
            section.tables.append(
                Table(
                    caption=f"Share of interviews with {what}: observed and replicated "
                    f"(mean [{CI_SHORT}]), p = P(replicated >= observed); misfit: the observed "
                    "share lies outside the replicated interval.",
                    columns=[
                        "group",
                        "wave",
                        "interviews",
                        "observed",
                        "replicated",
                        "p",
                        "misfit",
                    ],
                    rows=_ppc_rows(subset),
                    numeric=(2, 3, 4, 5),
                    source=source,
                )
            )
        described = ppc[ppc["n"] >= disclosure.MIN_CELL]
        flagged = described[outside(described)]
        if len(flagged):
            cells = ", ".join(
                f"{s} {GROUP_NAMES.get(g, g)} {w}"
                for s, g, w in flagged[["statistic", "legal_status", "wave"]].itertuples(
                    index=False
                )
            )
            section.notes.append(f"Observed outside the replicated 95% range: {cells}.")
        else:
            section.notes.append("Every checked statistic lies inside its replicated 95% range.")
    table = fit.tables.get("observed_vs_model")
    if table is not None:
        section.tables.append(
            Table(
                caption="Observed means of those interviewed beside the model's expected days "
                f"(every enrolled participant) and full-data mean, mean [{CI_SHORT}].",
                columns=[
                    "group",
                    "wave",
                    "outcomes observed",
                    "observed mean",
                    "expected_days",
                    "full_data_mean",
                ],
                rows=_observed_vs_model(table, fit.contrasts),
                numeric=(2, 3, 4, 5),
                source=source,
            )
        )
    return section


__all__ = ["computation_section", "estimand_summary", "ppc_section"]
