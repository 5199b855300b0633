"""One fit from start to finish: build, sample, predict, estimands, checks, fit folder.

Each step is a function of its own module; this module only runs them in order, times
them and records provenance. An unchanged existing fit is reused (its stored results are
read back without importing any sampler); a different one is refused without ``force``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bayes_qct import __version__
from bayes_qct.constants import CI_KIND, CI_PROB, LEGAL_STATUSES
from bayes_qct.data.cohort import Cohort
from bayes_qct.estimands import contrasts as con
from bayes_qct.estimands import ppc, tables
from bayes_qct.estimands.diagnostics import diagnose, parameter_summary
from bayes_qct.modeling import fitfolder as ff
from bayes_qct.outputs import atomic_write_text

if TYPE_CHECKING:
    from bayes_qct.modeling.spec import ModelSpec

log = logging.getLogger(__name__)

ROW_DIMS = frozenset({"obs", "row", "dropout_row"})
"""Dims of per-observation quantities, left out of the parameter summary."""
PRIOR_DRAWS_MAX = 1000


def parameter_names(posterior: Any) -> list[str]:
    """Posterior variables that are model parameters, as the model is written.

    Per-row quantities are left out, and so are the sampler's internal coordinates of a
    parameter stored in its natural form too (``u_site_z`` beside ``u_site = sigma_site *
    u_site_z``, ``g_wave_free`` beside ``g_wave``).
    """
    names = [name for name, var in posterior.data_vars.items() if not ROW_DIMS & set(var.dims)]
    internal = {f"{name}{suffix}" for name in names for suffix in ("_z", "_free")}
    return [name for name in names if name not in internal]


def _data_info(cohort: Cohort, outcome: str) -> dict[str, Any]:
    observed = cohort.observed(outcome)
    return {
        "source": cohort.source,
        "sha256": cohort.sha256,
        "label": cohort.label,
        "synthetic": cohort.synthetic,
        "n_participants": cohort.n_participants,
        "n_rows": len(cohort.data),
        "n_observed": int(observed.sum()),
        "warnings": list(cohort.warnings),
    }


def _base_info(cohort: Cohort, spec: ModelSpec, key: dict[str, Any]) -> dict[str, Any]:
    from bayes_qct.modeling.sample import sampler_versions

    settings = spec.sampler
    return {
        "toolkit": {"name": "bayes-qct", "version": __version__},
        "created_at": ff.now_utc(),
        "key": key,
        "outcome": spec.outcome,
        "model": spec.model_label(),
        "likelihood": spec.likelihood,
        "data": _data_info(cohort, spec.outcome),
        "missingness": {"mechanism": spec.missingness, "phi": spec.phi, "delta": spec.delta},
        "seed": settings.seed,
        "sampler": {
            "sampler": settings.sampler,
            "draws": settings.draws,
            "tune": settings.tune,
            "chains": settings.chains,
            "target_accept": settings.target_accept,
        },
        "spec": spec.to_dict(),
        "versions": sampler_versions(),
        "ci": {"kind": CI_KIND, "prob": CI_PROB},
    }


def _row_groups(cohort: Cohort, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    data = cohort.data.iloc[rows]
    return data["legal_status"].astype(str).to_numpy(), data["wave"].astype(str).to_numpy()


def _flat(values: Any, dim: str) -> np.ndarray:
    """(chain, draw, dim) DataArray -> (draws, dim) array."""
    arr = values.transpose(..., dim).to_numpy()
    return arr.reshape(-1, arr.shape[-1])


def posterior_checks(idata: Any, cohort: Cohort) -> pd.DataFrame:
    """Posterior predictive checks of ``y`` by legal status x wave."""
    if "posterior_predictive" not in idata.children:
        return pd.DataFrame(columns=list(ppc.PPC_COLUMNS))
    observed = idata["observed_data"]["y"]
    rows = np.asarray(observed["obs"].to_numpy(), int)
    status, wave = _row_groups(cohort, rows)
    return ppc.predictive_checks(
        _flat(idata["posterior_predictive"]["y"], "obs"), observed.to_numpy(), status, wave
    )


def fit_tables(
    idata: Any, cohort: Cohort, spec: ModelSpec, contrasts: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    """Posterior predictive checks and the brms-like tables of one fit."""
    posterior = idata["posterior"]
    return {
        "ppc": posterior_checks(idata, cohort),
        "priors": tables.priors_table(spec.priors),
        "missingness_patterns": tables.missingness_patterns(cohort, spec.outcome),
        "site_effects": tables.site_effects(posterior, cohort),
        "icc": tables.icc_table(posterior),
        "observed_vs_model": tables.observed_vs_model(cohort, spec.outcome, contrasts),
    }


def run_fit(
    cohort: Cohort, spec: ModelSpec, *, folder: Path, force: bool, progress: bool = True
) -> ff.FitResult:
    """Fit (or reuse) ``spec`` on ``cohort`` into ``folder``; see :func:`bayes_qct.api.fit`."""
    start = time.perf_counter()
    key = ff.fit_key(data_sha256=cohort.sha256, spec_fingerprint=spec.fingerprint())
    action = ff.decide(folder, key, spec.to_dict(), force=force)
    if action == "reuse":
        log.info("reusing the unchanged fit in %s", folder)
        result = ff.load_fit(folder)
        result.reused = True
        return result

    import xarray as xr

    from bayes_qct.modeling.build import build_model
    from bayes_qct.modeling.predict import predict
    from bayes_qct.modeling.sample import add_predictive_groups, sample_model

    t0 = time.perf_counter()
    model = build_model(cohort, spec)
    build_s = time.perf_counter() - t0
    idata, times = sample_model(model, spec.sampler, progress=progress)
    postprocess_s = add_predictive_groups(idata, model, cohort, spec, seed=spec.sampler.seed)

    t0 = time.perf_counter()
    rng = np.random.default_rng([spec.sampler.seed, 3])
    posterior = idata["posterior"].to_dataset()
    predictions = predict(posterior, cohort, spec, rng=rng)
    standardised = None
    if spec.covariates:  # g-computation over the whole cohort's covariates
        standardised = {
            status: predict(posterior, cohort, spec, rng=rng, legal_status=status)
            for status in LEGAL_STATUSES
        }
    draws = con.estimand_draws(predictions, cohort, standardised=standardised)
    contrasts = con.contrasts_table(
        draws, outcome=spec.outcome, model=spec.model_label(), missingness=spec.missingness
    )
    predict_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    summary = parameter_summary(idata, var_names=parameter_names(idata["posterior"]))
    diagnostics = diagnose(idata, summary)
    extra = fit_tables(idata, cohort, spec, contrasts)
    idata["estimands"] = xr.DataTree(draws)
    checks_s = time.perf_counter() - t0

    info = _base_info(cohort, spec, key)
    info["wall_times"] = {
        "build_s": build_s,
        "compile_s": times.compile_s,
        "sampling_s": times.sampling_s,
        "convert_s": times.convert_s,
        "log_likelihood_and_ppc_s": postprocess_s,
        "predict_and_estimands_s": predict_s,
        "summary_and_checks_s": checks_s,
    }
    info.update(
        divergences=diagnostics.divergences,
        max_r_hat=diagnostics.max_r_hat,
        min_ess_bulk=diagnostics.min_ess_bulk,
        min_ess_tail=diagnostics.min_ess_tail,
        min_bfmi=diagnostics.min_bfmi,
        diagnostics=diagnostics.to_dict(),
    )
    idata.attrs["bayes_qct"] = ff.to_json({k: info[k] for k in ("key", "data", "spec", "versions")})
    t0 = time.perf_counter()
    info["wall_times"]["write_s"] = 0.0  # filled below, after the write it measures
    ff.write_fit_folder(
        folder,
        idata=idata,
        summary=summary,
        contrasts=contrasts,
        info=info,
        tables=extra,
        formula=spec.formula(),
        force=True,
    )
    info["wall_times"]["write_s"] = time.perf_counter() - t0
    info["wall_times"]["fit_total_s"] = time.perf_counter() - start
    atomic_write_text(folder / ff.FIT_FILE, ff.to_json(info), force=True)
    return ff.FitResult(
        folder=folder,
        info=info,
        summary=summary,
        contrasts=contrasts,
        diagnostics=diagnostics,
        tables=extra,
        formula=spec.formula(),
        _idata=idata,
    )


def _prior_result(
    target: Path, info: dict[str, Any], table: pd.DataFrame, spec: ModelSpec, *, reused: bool
) -> ff.FitResult:
    """Wrap a prior predictive check as a FitResult (no posterior, no estimands)."""
    return ff.FitResult(
        folder=target,
        info=info,
        summary=pd.DataFrame(),
        contrasts=pd.DataFrame(),
        diagnostics=None,
        tables={"prior_predictive": table},
        formula=spec.formula(),
        reused=reused,
    )


def run_prior_check(cohort: Cohort, spec: ModelSpec, *, folder: Path, force: bool) -> ff.FitResult:
    """Prior predictive check of ``spec`` on ``cohort``, written into ``<folder>/prior/``."""
    key = ff.fit_key(
        data_sha256=cohort.sha256,
        spec_fingerprint=spec.fingerprint(),
        options={"prior_only": True},
    )
    target = folder / ff.PRIOR_FOLDER
    action = ff.decide(target, key, spec.to_dict(), force=force, info_file=ff.PRIOR_FILE)
    if action == "reuse":
        info = ff.read_json(target / ff.PRIOR_FILE) or {}
        table = pd.read_csv(target / ff.TABLE_FILES["prior_predictive"])
        return _prior_result(target, info, table, spec, reused=True)
    from bayes_qct.modeling.build import build_model
    from bayes_qct.modeling.sample import sample_prior

    t0 = time.perf_counter()
    model = build_model(cohort, spec)
    draws = min(spec.sampler.draws, PRIOR_DRAWS_MAX)
    prior = sample_prior(model, draws=draws, seed=spec.sampler.seed)
    replicated = prior["prior_predictive"]["y"]
    observed = prior["observed_data"]["y"]
    rows = np.asarray(observed["obs"].to_numpy(), int)
    status, wave = _row_groups(cohort, rows)
    table = ppc.predictive_checks(
        _flat(replicated, "obs"),
        observed.to_numpy(),
        status,
        wave,
        check="prior_predictive",
        statistics=ppc.PRIOR_STATISTICS,
    )
    info = _base_info(cohort, spec, key)
    info["prior_draws"] = draws
    info["wall_times"] = {"prior_predictive_s": time.perf_counter() - t0}
    ff.write_prior_folder(folder, prior=prior, table=table, info=info, force=True)
    return _prior_result(target, info, table, spec, reused=False)
