"""One fit from start to finish, reusing what can be reused.

The order: an unchanged fit in the folder is reused as it is; else, unless ``force``, a
fit folder that sampled the same posterior (same data, model, priors, posterior
parameters and sampler settings; a pattern-mixture delta and MAR share one) lends its
draws and only post-processing runs; else the posterior is sampled. Then the stages of
:mod:`bayes_qct.fitting.stages` and an atomic write. A different fit in the folder is
refused without ``force``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_qct.data.cohort import Cohort
from bayes_qct.estimands import ppc
from bayes_qct.fitting import fitfolder as ff
from bayes_qct.fitting import stages
from bayes_qct.fitting.listing import find_posterior, list_fits
from bayes_qct.fitting.posterior_file import drop_participant_draws
from bayes_qct.fitting.record import FitKey, FitRecord
from bayes_qct.modeling.designs import get_design
from bayes_qct.modeling.designs.base import DIM_OBS
from bayes_qct.modeling.spec import ModelSpec
from bayes_qct.outputs import atomic_write_text
from bayes_qct.progress import stage

log = logging.getLogger(__name__)

PRIOR_DRAWS_MAX = 1000
PARTICIPANT_DRAWS_MAX = 2000
"""Largest cohort (participants) whose fit keeps per-participant and per-row draws by default.

Above it posterior.nc would hold gigabytes (15,700 people: about 1 GB of intercept
draws and 3 GB of pointwise log-likelihoods and replicates), so only the population
parameters, site effects and estimands are written unless the user asks
(``participant_draws=True``); summary.csv still lists every intercept."""
REUSED_GROUPS = (
    "posterior",
    "sample_stats",
    "log_likelihood",
    "posterior_predictive",
    "observed_data",
    "constant_data",
)
"""Groups of a posterior.nc that post-processing does not change (the draws and their
diagnostics); the estimands group is recomputed."""


def _versions() -> dict[str, Any]:
    from bayes_qct.modeling.sample import sampler_versions

    return sampler_versions()


def _sampled_on(idata: Any) -> dict[str, Any] | None:
    from bayes_qct.modeling.sample import sampled_on

    return sampled_on(idata)


def _reusable_posterior(folder: Path, key: FitKey, root: Path | None) -> Path | None:
    """Return a fit folder (this one first, then any under ``root``) with the same posterior."""
    candidates = [folder]
    if root is not None:
        candidates += [fit.folder for fit in list_fits(root) if fit.folder != folder]
    return find_posterior(key, [c for c in candidates if (c / ff.FIT_FILE).exists()])


def _load_posterior(source: Path) -> tuple[Any, pd.DataFrame, dict[str, Any]]:
    """Return the draws (without estimands), summary and diagnostics of an existing fit."""
    import xarray as xr

    tree = ff.open_posterior(source).load()
    groups = {name: tree[name].to_dataset() for name in REUSED_GROUPS if name in tree.children}
    idata = xr.DataTree.from_dict(groups)
    idata.attrs.update(tree.attrs)
    record = ff.read_record(source)
    diagnostics = record.diagnostics if record is not None else None
    return idata, pd.read_csv(source / ff.SUMMARY_FILE), diagnostics or {}


def run_fit(
    cohort: Cohort,
    spec: ModelSpec,
    *,
    folder: Path,
    sampler: stages.Sampler,
    force: bool,
    root: Path | None = None,
    progress: bool = True,
    participant_draws: bool | None = None,
) -> ff.FitResult:
    """Fit (or reuse) ``spec`` on ``cohort`` into ``folder``; see :func:`bayes_qct.api.fit`.

    ``root``: where to look for a fit with the same posterior (``posterior/<outcome>``).
    ``participant_draws``: keep per-participant and per-row draws in posterior.nc
    (``None``: when the cohort has at most :data:`PARTICIPANT_DRAWS_MAX` participants).
    """
    from bayes_qct.estimands.diagnostics import Diagnostics

    start = time.perf_counter()
    if participant_draws is None:
        participant_draws = cohort.n_participants <= PARTICIPANT_DRAWS_MAX
    key = FitKey.of(cohort, spec, options=draw_options(participant_draws))
    action = ff.decide(folder, key, spec, force=force)
    if action == "reuse":
        log.info("reusing the unchanged fit in %s", folder)
        result = ff.load_fit(folder)
        result.reused = True
        return result

    record = FitRecord.create(cohort, spec, key, versions=_versions())
    source = None if force else _reusable_posterior(folder, key, root)
    if source is not None:
        stage("reusing the posterior draws of %s; post-processing only", source)
        t0 = time.perf_counter()
        idata, summary, diagnostics_dict = _load_posterior(source)
        diagnostics = Diagnostics.from_dict(diagnostics_dict)
        record.posterior_from = str(source)
        record.wall_times["load_posterior_s"] = time.perf_counter() - t0
    else:
        stage("building and compiling %s (%s, %s)", spec.outcome, spec.likelihood, spec.missingness)
        idata, times = stages.sample_posterior(
            cohort, spec, sampler, progress=progress, row_draws=participant_draws
        )
        stage("diagnostics (r_hat, ESS, E-BFMI)")
        record.wall_times.update(times)
        t0 = time.perf_counter()
        summary, diagnostics = stages.summarise_posterior(idata, spec)
        record.wall_times["summary_s"] = time.perf_counter() - t0
    record.sampler["device"] = _sampled_on(idata)
    stage("estimands and predictive checks")
    processed = stages.postprocess(idata, cohort, spec)
    record.wall_times.update(processed.wall_times)
    if not participant_draws:
        drop_participant_draws(idata)
    stages.attach_estimands(idata, processed.estimands)
    record.set_diagnostics(diagnostics)
    idata.attrs["bayes_qct"] = ff.to_json(
        {"key": key.to_dict(), "data": record.data, "spec": record.spec}
    )
    t0 = time.perf_counter()
    stage("writing %s", folder)
    ff.write_fit_folder(
        folder,
        idata=idata,
        summary=summary,
        contrasts=processed.contrasts,
        record=record,
        tables=processed.tables,
        formula=spec.formula(),
        force=True,
    )
    record.wall_times["write_s"] = time.perf_counter() - t0
    record.wall_times["fit_total_s"] = time.perf_counter() - start
    atomic_write_text(folder / ff.FIT_FILE, ff.to_json(record.to_dict()), force=True)
    return ff.FitResult(
        folder=folder,
        record=record,
        summary=summary,
        contrasts=processed.contrasts,
        diagnostics=diagnostics,
        tables=processed.tables,
        formula=spec.formula(),
        _idata=idata,
    )


def draw_options(participant_draws: bool) -> dict[str, Any]:
    """Key options of a fit: ``participant_draws: False`` when they are left out.

    A fit keeping them (the default for study-sized cohorts) has no option, so its key is
    the one fits had before the choice existed; a folder without them never lends its
    posterior (post-processing needs the intercepts).
    """
    return {} if participant_draws else {"participant_draws": False}


def _prior_result(
    target: Path, record: FitRecord, table: pd.DataFrame, spec: ModelSpec, *, reused: bool
) -> ff.FitResult:
    """Wrap a prior predictive check as a FitResult (no posterior, no estimands)."""
    return ff.FitResult(
        folder=target,
        record=record,
        summary=pd.DataFrame(),
        contrasts=pd.DataFrame(),
        diagnostics=None,
        tables={"prior_predictive": table},
        formula=spec.formula(),
        reused=reused,
    )


def run_prior_check(cohort: Cohort, spec: ModelSpec, *, folder: Path, force: bool) -> ff.FitResult:
    """Prior predictive check of ``spec`` on ``cohort``, written into ``<folder>/prior/``."""
    key = FitKey.of(cohort, spec, options={"prior_only": True})
    target = folder / ff.PRIOR_FOLDER
    action = ff.decide(target, key, spec, force=force, info_file=ff.PRIOR_FILE)
    if action == "reuse":
        record = ff.read_record(target, ff.PRIOR_FILE)
        table = pd.read_csv(target / ff.TABLE_FILES["prior_predictive"])
        return _prior_result(target, record, table, spec, reused=True)
    from bayes_qct.modeling.build import build_model, prepared_data
    from bayes_qct.modeling.sample import sample_prior

    t0 = time.perf_counter()
    model = build_model(cohort, spec)
    draws = min(spec.sampler.draws, PRIOR_DRAWS_MAX)
    prior = sample_prior(model, draws=draws, seed=spec.sampler.seed)
    replicated = prior["prior_predictive"]["y"].transpose(..., DIM_OBS).to_numpy()
    _, data = prepared_data(cohort, spec)
    rows = data.obs_rows
    table = ppc.predictive_checks(
        replicated.reshape(-1, replicated.shape[-1]),
        prior["observed_data"]["y"].to_numpy(),
        data.row_labels["legal_status"][rows],
        data.row_labels["wave"][rows],
        check="prior_predictive",
        statistics=get_design(spec.design).check_statistics(prior=True),
    )
    record = FitRecord.create(cohort, spec, key, versions=_versions())
    record.prior_draws = draws
    record.wall_times = {"prior_predictive_s": time.perf_counter() - t0}
    ff.write_prior_folder(folder, prior=prior, table=table, record=record, force=True)
    return _prior_result(target, record, table, spec, reused=False)


__all__ = ["PARTICIPANT_DRAWS_MAX", "draw_options", "run_fit", "run_prior_check"]
