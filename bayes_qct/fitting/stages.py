"""A fit is stages: sample the posterior, post-process it, write the folder.

Each stage is a function of its inputs with no hidden state. The sampler is passed in
(:data:`Sampler`: the api picks one from :mod:`bayes_qct.modeling.sample`), so nothing
here imports one. Post-processing (predictions, estimands, tables) reads only the
posterior draws, so a fit whose posterior already exists elsewhere (a pattern-mixture
delta beside its MAR fit) is made by :func:`postprocess` alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayes_qct.constants import LEGAL_STATUSES
from bayes_qct.data.cohort import Cohort
from bayes_qct.estimands import ppc
from bayes_qct.estimands.diagnostics import Diagnostics, diagnose, parameter_summary
from bayes_qct.estimands.tables import priors_table
from bayes_qct.fitting.fitfolder import ESTIMANDS_GROUP
from bayes_qct.fitting.posterior_file import for_reviewers
from bayes_qct.modeling.build import build_model, prepared_data
from bayes_qct.modeling.designs import get_design
from bayes_qct.modeling.designs.base import DIM_DROPOUT, DIM_OBS, DIM_ROW
from bayes_qct.modeling.pointwise import add_predictive_groups, replicate_draws
from bayes_qct.modeling.predict import estimands_rng, predict
from bayes_qct.modeling.spec import ModelSpec

Sampler = Callable[..., tuple[Any, Any]]
"""``sampler(model, settings, progress=...) -> (DataTree, SampleTimes)``
(:func:`bayes_qct.modeling.sample.sample_model`)."""

ROW_DIMS = frozenset({DIM_OBS, DIM_ROW, DIM_DROPOUT})
"""Dims of per-observation quantities, left out of the parameter summary."""
BLOCK_ELEMENTS = 2**23
"""Draws x rows of one block of per-row predictions (64 MB per float64 array)."""


def parameter_names(posterior: Any, spec: ModelSpec) -> list[str]:
    """Posterior variables that are model parameters, as the model is written.

    Per-row quantities are left out, and so are the sampler's internal coordinates of a
    parameter stored in its natural form too (the design's
    :meth:`~bayes_qct.modeling.designs.base.Design.internal_variables`).
    """
    internal = get_design(spec.design).internal_variables()
    names = [name for name, var in posterior.data_vars.items() if not ROW_DIMS & set(var.dims)]
    return [n for n in names if not (n in internal and internal[n] in posterior.data_vars)]


def sample_posterior(
    cohort: Cohort,
    spec: ModelSpec,
    sampler: Sampler,
    *,
    progress: bool = True,
    row_draws: bool = True,
) -> tuple[Any, dict[str, float]]:
    """Build the model, sample it, add the pointwise log-likelihood and replicates.

    The DataTree is then arranged for the file a reviewer opens
    (:func:`bayes_qct.fitting.posterior_file.for_reviewers`). ``row_draws=False`` leaves
    out the per-row groups (log-likelihood, replicates): draws x rows numbers each.
    """
    t0 = time.perf_counter()
    model = build_model(cohort, spec)
    build_s = time.perf_counter() - t0
    idata, times = sampler(model, spec.sampler, progress=progress)
    del model
    predictive_s = (
        add_predictive_groups(idata, cohort, spec, seed=spec.sampler.seed) if row_draws else 0.0
    )
    for_reviewers(idata, cohort, spec)
    return idata, {
        "build_s": build_s,
        "compile_s": times.compile_s,
        "sampling_s": times.sampling_s,
        "convert_s": times.convert_s,
        "log_likelihood_and_ppc_s": predictive_s,
    }


def summarise_posterior(idata: Any, spec: ModelSpec) -> tuple[pd.DataFrame, Diagnostics]:
    """Return the ArviZ summary of the parameters and the convergence checks."""
    summary = parameter_summary(idata, var_names=parameter_names(idata["posterior"], spec))
    return summary, diagnose(idata, summary)


@dataclass
class Postprocessed:
    """What post-processing makes of a posterior: estimands, their table, other tables."""

    estimands: Any
    contrasts: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    wall_times: dict[str, float] = field(default_factory=dict)


def draw_blocks(posterior: Any, n_rows: int) -> list[slice]:
    """Blocks of the ``draw`` dim holding at most :data:`BLOCK_ELEMENTS` draws x rows.

    Per-row predictions are draws x rows numbers each; computed a block at a time and
    reduced to their estimands, post-processing needs memory for one block only (the
    bundled cohort is one block).
    """
    n_chain, n_draw = posterior.sizes["chain"], posterior.sizes["draw"]
    step = max(BLOCK_ELEMENTS // max(n_chain * n_rows, 1), 1)
    return [slice(first, first + step) for first in range(0, n_draw, step)]


def estimands_of(posterior: Any, cohort: Cohort, spec: ModelSpec) -> Any:
    """Every estimand per draw (the design's), with g-computation under covariates."""
    import xarray as xr

    design = get_design(spec.design)
    rng = estimands_rng(spec)
    parts = []
    for block in draw_blocks(posterior, len(cohort.data)):
        draws = posterior.isel(draw=block)
        predictions = predict(draws, cohort, spec, rng=rng, pmf=False)
        standardised = None
        if spec.covariates or design.standardise:  # g-computation over the whole cohort
            standardised = {
                status: predict(draws, cohort, spec, rng=rng, legal_status=status, pmf=False)
                for status in LEGAL_STATUSES
            }
        parts.append(design.estimand_draws(predictions, cohort, standardised=standardised))
    if len(parts) == 1:
        return parts[0]
    return xr.concat(parts, dim="draw", data_vars="minimal", coords="minimal")


def predictive_table(idata: Any, cohort: Cohort, spec: ModelSpec) -> pd.DataFrame:
    """Posterior predictive checks of ``y`` by legal status x wave.

    From the stored replicates, or, when the fit keeps no per-row draws, from
    replicates drawn a block of draws at a time (the same seed and draws).
    """
    design = get_design(spec.design)
    _, data = prepared_data(cohort, spec)
    rows = data.obs_rows
    masks = ppc.cells(data.row_labels["legal_status"][rows], data.row_labels["wave"][rows])
    statistics = design.check_statistics()
    if "posterior_predictive" in idata.children:
        replicated = idata["posterior_predictive"]["y"].transpose(..., DIM_OBS).to_numpy()
        draws = ppc.statistic_draws(replicated.reshape(-1, rows.size), masks, statistics)
    else:
        posterior = idata["posterior"].to_dataset()
        rng = np.random.default_rng([spec.sampler.seed, 1])
        parts = [
            ppc.statistic_draws(
                replicate_draws(posterior.isel(draw=block), data, spec, rng), masks, statistics
            )
            for block in draw_blocks(posterior, rows.size)
        ]
        draws = {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}
    return ppc.checks_table(draws, data.y[rows], masks, statistics)


def postprocess(idata: Any, cohort: Cohort, spec: ModelSpec) -> Postprocessed:
    """Estimands, ``contrasts.csv`` and the tables of one posterior."""
    design = get_design(spec.design)
    t0 = time.perf_counter()
    posterior = idata["posterior"].to_dataset()
    draws = estimands_of(posterior, cohort, spec)
    contrasts = design.contrasts(
        draws, outcome=spec.outcome, model=spec.model_label(), missingness=spec.missingness
    )
    predict_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    tables = {
        "ppc": predictive_table(idata, cohort, spec),
        "priors": priors_table(spec.priors),
        **design.tables(idata, cohort, spec.outcome, contrasts),
    }
    return Postprocessed(
        estimands=draws,
        contrasts=contrasts,
        tables=tables,
        wall_times={"predict_and_estimands_s": predict_s, "tables_s": time.perf_counter() - t0},
    )


def attach_estimands(idata: Any, draws: Any) -> None:
    """Store the per-draw estimands as the DataTree's ``estimands`` group."""
    import xarray as xr

    idata[ESTIMANDS_GROUP] = xr.DataTree(draws)
