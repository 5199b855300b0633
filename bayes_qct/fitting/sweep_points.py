"""How a sweep point is evaluated: post-processing, importance reweighting, or a refit.

* A post-processing parameter (a pattern-mixture delta) never resamples: one posterior,
  one pass over the missing rows per value. A per-group parameter acts on its group's
  rows only, so a two-way grid of K x L points costs K + L passes; the design's
  estimand parts of the groups are combined per point.
* A posterior parameter (the selection model's phi) is evaluated on the draws of the
  nearest fitted value, reweighted by Pareto-smoothed importance sampling with the
  response model's log-likelihood computed in NumPy at both values; where the Pareto k
  exceeds ArviZ's sample-size-dependent threshold the point is refitted with the
  compiled-once model instead.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from bayes_qct.constants import SAMPLE_DIMS
from bayes_qct.data.cohort import Cohort
from bayes_qct.estimands.importance import psis_weights
from bayes_qct.estimands.prior_sensitivity import k_threshold
from bayes_qct.fitting.stages import draw_blocks, estimands_of
from bayes_qct.modeling.designs import get_design
from bayes_qct.modeling.missingness import get_mechanism
from bayes_qct.modeling.pointwise import dropout_loglik_draws
from bayes_qct.modeling.predict import Predictor, estimands_rng
from bayes_qct.modeling.reweight import Reweighter, reweightable
from bayes_qct.modeling.spec import ModelSpec


@dataclass
class PointResult:
    """One evaluated grid point: its estimands and how they were obtained."""

    point: dict[str, float]
    contrasts: pd.DataFrame
    method: str
    """``postprocess``, ``reweighted`` or ``refit``."""
    verdict: str
    pareto_k: float = np.nan
    ess: float = np.nan
    source: str = ""
    """The value (or fit folder) whose draws were used."""
    seconds: float = 0.0

    def record(self) -> dict[str, Any]:
        """Return the JSON checkpoint of the point."""
        return {
            "values": self.point,
            "method": self.method,
            "verdict": self.verdict,
            "pareto_k": None if not np.isfinite(self.pareto_k) else float(self.pareto_k),
            "ess": None if not np.isfinite(self.ess) else float(self.ess),
            "source": self.source,
            "seconds": self.seconds,
            "rows": self.contrasts.astype(object)
            .where(self.contrasts.notna(), None)
            .to_dict("records"),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> PointResult:
        """Read a checkpoint back."""
        rows = pd.DataFrame(record["rows"])
        return cls(
            point={k: float(v) for k, v in record["values"].items()},
            contrasts=rows,
            method=record["method"],
            verdict=record["verdict"],
            pareto_k=np.nan if record.get("pareto_k") is None else record["pareto_k"],
            ess=np.nan if record.get("ess") is None else record["ess"],
            source=record.get("source", ""),
            seconds=float(record.get("seconds", 0.0)),
        )


def _contrasts(spec: ModelSpec, draws: Any, weights: np.ndarray | None = None) -> pd.DataFrame:
    return get_design(spec.design).contrasts(
        draws,
        outcome=spec.outcome,
        model=spec.model_label(),
        missingness=spec.missingness,
        weights=weights,
    )


# ------------------------------------------------------------------ post-processing


@dataclass
class ShiftSweep:
    """Evaluate post-processing parameters on one posterior (no sampling).

    ``spec_at(point)`` gives the resolved spec of a grid point; predictions at a value
    are computed once per distinct value of each group's own parameter and combined.
    Only the rows a value moves, and the missing rows (drawn from the same random
    stream as the fit's), are predicted at each value; the parts of every other row
    are computed once. The estimands equal a fit's at that value.
    """

    posterior: xr.Dataset
    cohort: Cohort
    spec_at: Any
    verdict: str
    source: str
    _predictor: Predictor | None = None
    _parts: dict[float, Any] = field(default_factory=dict)
    _split: tuple[np.ndarray, Any] | None = None
    """The rows predicted at each value, and the parts of all the others."""
    _results: dict[tuple, PointResult] = field(default_factory=dict)
    """Points evaluated ahead by :meth:`prepare`."""

    def _predictor_of(self, spec: ModelSpec) -> Predictor:
        if self._predictor is None:
            self._predictor = Predictor(self.posterior, self.cohort, spec)
        return self._predictor

    def _rng(self, spec: ModelSpec) -> np.random.Generator:
        return estimands_rng(spec)  # the fit's own stream

    def _predict(self, spec: ModelSpec, params: Mapping[str, Any]) -> xr.Dataset:
        predictor = self._predictor_of(spec)
        return predictor.predict(rng=self._rng(spec), params=params, imputed_pmf=False)

    def _value_parts(self, spec: ModelSpec, params: Mapping[str, Any], probe: Mapping) -> Any:
        """Return the estimand parts at ``params``, predicting only the rows that vary."""
        design, predictor = get_design(spec.design), self._predictor_of(spec)
        if self._split is None:
            varying = np.union1d(predictor.rows_moved(probe), predictor.data.missing_rows)
            fixed = np.setdiff1d(np.arange(predictor.data.n_rows), varying)
            base = predictor.row_predictions(fixed, rng=self._rng(spec), params=probe)
            fixed_parts = None
            if base is not None:
                fixed_parts = design.estimand_parts(base, self.cohort)
            self._split = (varying, fixed_parts)
        varying, fixed_parts = self._split
        some = None
        if fixed_parts is not None and np.isin(predictor.rows_moved(params), varying).all():
            some = predictor.row_predictions(varying, rng=self._rng(spec), params=params)
        if some is None:  # every row, as the fit predicts them
            return design.estimand_parts(self._predict(spec, params), self.cohort)
        return fixed_parts + design.estimand_parts(some, self.cohort)

    def _jobs(self, spec: ModelSpec) -> dict[str, tuple[float, tuple]] | None:
        """Per legal status: its parameter's value and the ``_value_parts`` arguments.

        ``None`` where the estimands have no per-group parts (covariates: g-computation
        over the whole cohort; a mechanism without per-group parameters).
        """
        mechanism = get_mechanism(spec.missingness)
        by_status = {p.status: p.name for p in mechanism.parameters if p.status is not None}
        if spec.covariates or not by_status:
            return None
        params = spec.mechanism_params
        probe = {**params, **dict.fromkeys(by_status.values(), 1.0)}
        return {
            status: (
                params[name],
                (spec, {**params, **dict.fromkeys(by_status.values(), params[name])}, probe),
            )
            for status, name in by_status.items()
        }

    def prepare(self, points: list[Mapping[str, float]], *, threads: int | None = None) -> None:
        """Compute the parts of every value the points need, several values at a time.

        NumPy releases the GIL in its ufuncs and random draws, so values run side by side
        on ``threads`` threads (default: the CPUs); each value draws from its own
        generator seeded as the fit's, so the parts equal those computed one at a time.
        :meth:`evaluate` then only combines them.
        """
        jobs: dict[float, tuple] = {}
        for point in points:
            for value, args in (self._jobs(self.spec_at(point)) or {}).values():
                if value not in self._parts:
                    jobs.setdefault(value, args)
        values = list(jobs)
        threads = threads or os.cpu_count() or 1
        if values:
            self._parts[values[0]] = self._value_parts(*jobs[values[0]])  # shared set-up
        rest = values[1:]
        with ThreadPoolExecutor(threads) as pool:
            done = list(pool.map(lambda v: self._value_parts(*jobs[v]), rest))
            self._parts.update(zip(rest, done, strict=True))
            # and the points' estimands and summaries from the parts, side by side too
            results = list(pool.map(self._evaluate_now, points))
        self._results.update({_key(p): r for p, r in zip(points, results, strict=True)})

    def evaluate(self, point: Mapping[str, float]) -> PointResult:
        """Return the estimands at ``point`` (computed by :meth:`prepare`, or now)."""
        done = self._results.pop(_key(point), None)
        return done if done is not None else self._evaluate_now(point)

    def _evaluate_now(self, point: Mapping[str, float]) -> PointResult:
        start = time.perf_counter()
        spec = self.spec_at(point)
        design = get_design(spec.design)
        jobs = self._jobs(spec)
        if jobs is None:
            draws = estimands_of(self.posterior, self.cohort, spec)  # the fit's own path
        else:
            groups = {}
            for status, (value, args) in jobs.items():
                if value not in self._parts:
                    self._parts[value] = self._value_parts(*args)
                groups[status] = self._parts[value]
            if any(parts is None for parts in groups.values()):
                predictions = self._predict(spec, spec.mechanism_params)
                draws = design.estimand_draws(predictions, self.cohort)
            else:
                draws = design.estimands_from_parts(_combined(groups))
        return PointResult(
            point=dict(point),
            contrasts=_contrasts(spec, draws),
            method="postprocess",
            verdict=self.verdict,
            source=self.source,
            seconds=time.perf_counter() - start,
        )


def _key(point: Mapping[str, float]) -> tuple:
    return tuple(sorted(point.items()))


def _combined(by_status: Mapping[str, xr.Dataset]) -> xr.Dataset:
    """Parts whose ``legal_status`` entries each come from that status's own run."""
    runs = list(by_status.values())
    if all(run is runs[0] for run in runs):
        return runs[0]
    out = runs[0].copy()
    for name, variable in out.data_vars.items():
        if "legal_status" not in variable.dims:
            continue
        axis = variable.dims.index("legal_status")
        values = variable.to_numpy().copy()
        labels = list(out["legal_status"].to_numpy())
        for status, run in by_status.items():
            index = [slice(None)] * values.ndim
            index[axis] = labels.index(status)
            values[tuple(index)] = run[name].to_numpy()[tuple(index)]
        out[name] = (variable.dims, values)
    return out


# ------------------------------------------------------------------- posterior


def refit(task: tuple[Cohort, ModelSpec, str, float]) -> dict[str, Any]:
    """Sample the posterior at one fixed value with the compiled-once model (Dask-able).

    Returns the posterior (a Dataset), its convergence verdict and the seconds spent.
    """
    from bayes_qct.estimands.diagnostics import diagnose, parameter_summary
    from bayes_qct.fitting.stages import parameter_names
    from bayes_qct.modeling.compiled import compiled_model

    cohort, spec, name, value = task
    start = time.perf_counter()
    compiled, compile_s = compiled_model(cohort, spec, cohorts=False)  # one cohort, many phi
    idata, times = compiled.sample(cohort, spec.sampler, params={name: value})
    summary = parameter_summary(idata, var_names=parameter_names(idata["posterior"], spec))
    diagnostics = diagnose(idata, summary)
    verdict = "converged" if diagnostics.ok else "NOT CONVERGED: " + "; ".join(diagnostics.failures)
    design = get_design(spec.design)
    posterior = idata["posterior"].to_dataset()
    internals = [n for n in design.internal_variables() if n in posterior]
    return {
        "posterior": design.file_form(posterior.drop_vars(internals)),  # as a fit's file
        "verdict": verdict,
        "seconds": time.perf_counter() - start,
        "compile_s": compile_s,
        "sampling_s": times.sampling_s,
    }


@dataclass
class Anchor:
    """A fitted value of a posterior parameter and what reweighting from it needs."""

    value: float
    posterior: xr.Dataset
    verdict: str
    loglik: np.ndarray | None = None  # the response model's total per draw at ``value``


@dataclass
class PosteriorSweep:
    """Evaluate a posterior parameter by reweighting from the nearest anchor, or not at all."""

    cohort: Cohort
    spec_at: Any
    parameter: str
    reweight: bool = True
    """False: refit every point (no importance reweighting)."""

    _mover: tuple[Anchor, Reweighter] | None = None
    """The last anchor's :class:`Reweighter` (its pmf grids are kept for one anchor only)."""

    def _reweighter(self, anchor: Anchor) -> Reweighter | None:
        """Return the anchor's one-pass reweighter, where the mechanism and design allow one."""
        spec = self.spec_at({self.parameter: anchor.value})
        if not reweightable(spec):
            return None
        if self._mover is None or self._mover[0] is not anchor:
            self._mover = None  # free the previous anchor's grids first
            blocks = draw_blocks(anchor.posterior, len(self.cohort.data))
            mover = Reweighter(anchor.posterior, self.cohort, spec, self.parameter, blocks)
            self._mover = (anchor, mover)
        return self._mover[1]

    def _total(self, anchor: Anchor, value: float) -> np.ndarray:
        mover = self._reweighter(anchor)
        if mover is not None:
            return mover.loglik(value).ravel()
        spec = self.spec_at({self.parameter: anchor.value})
        ll = dropout_loglik_draws(
            anchor.posterior, self.cohort, spec, params={self.parameter: value}
        )
        return ll.sum(axis=-1)

    def weights(self, anchor: Anchor, value: float) -> tuple[np.ndarray, float]:
        """Return PSIS weights (normalised, chain-major) for ``value`` from ``anchor``, and k."""
        if anchor.loglik is None:
            anchor.loglik = self._total(anchor, anchor.value)
        log_ratio = self._total(anchor, value) - anchor.loglik
        sizes = (anchor.posterior.sizes["chain"], anchor.posterior.sizes["draw"])
        return psis_weights(xr.DataArray(log_ratio.reshape(sizes), dims=SAMPLE_DIMS))

    def threshold(self, anchor: Anchor) -> float:
        """ArviZ's Pareto k threshold for the anchor's number of draws."""
        return k_threshold(int(anchor.posterior.sizes["chain"] * anchor.posterior.sizes["draw"]))

    def evaluate_many(
        self, values: list[float], anchor: Anchor, *, threads: int | None = None
    ) -> list[PointResult | None]:
        """:meth:`evaluate` of several values from one anchor; estimands side by side.

        The weights come first, serially: Pareto smoothing calls SciPy's ``logsumexp``,
        whose array-API check loads the JAX module ArviZ registers lazily, and two
        threads loading it at once fail. The estimands then run on a thread per CPU
        (NumPy releases the GIL; each value has its own generator): the same results.
        """
        self._reweighter(anchor)  # built once, before the threads
        jobs = [(value, self._weigh(value, anchor)) for value in values]

        def one(job: tuple[float, Any]) -> PointResult | None:
            return None if job[1] is None else self._estimate(job[0], anchor, *job[1])

        with ThreadPoolExecutor(min(threads or os.cpu_count() or 1, len(values) or 1)) as pool:
            return list(pool.map(one, jobs))

    def evaluate(self, value: float, anchor: Anchor) -> PointResult | None:
        """Return the point's estimands from ``anchor`` (``None``: k too high, refit it)."""
        weighing = self._weigh(value, anchor)
        return None if weighing is None else self._estimate(value, anchor, *weighing)

    def _weigh(self, value: float, anchor: Anchor) -> tuple | None:
        """Return (weights, k, method, seconds) of ``value`` from ``anchor``; ``None``: refit."""
        start = time.perf_counter()
        if value == anchor.value:
            return None, np.nan, "refit", 0.0
        if not self.reweight:
            return None
        weights, khat = self.weights(anchor, value)
        if not khat <= self.threshold(anchor):
            return None
        return weights, khat, "reweighted", time.perf_counter() - start

    def _estimate(
        self, value: float, anchor: Anchor, weights: Any, khat: float, method: str, spent: float
    ) -> PointResult:
        start = time.perf_counter()
        spec = self.spec_at({self.parameter: value})
        mover = self._reweighter(anchor)
        if mover is not None:  # the same numbers as estimands_of at ``value``, one pass
            draws = mover.estimands(value)
        else:
            draws = estimands_of(anchor.posterior, self.cohort, spec)
        return PointResult(
            point={self.parameter: value},
            contrasts=_contrasts(spec, draws, weights),
            method=method,
            verdict=anchor.verdict,
            pareto_k=khat,
            ess=np.nan if weights is None else float(1.0 / np.sum(weights**2)),
            source=f"{self.parameter}={anchor.value:g}",
            seconds=spent + time.perf_counter() - start,
        )
