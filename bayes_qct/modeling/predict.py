"""Per-row predictions from posterior draws: expected rates, P(any), completed counts.

Everything is computed from the draws with NumPy (no sampler, no PyMC graph), using the
same family log-pmfs, linear predictors and dropout terms as the model (``ops.NP``), for
every row of the cohort: interviewed or not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from bayes_qct.data.cohort import Cohort
from bayes_qct.modeling.build import prepared_data, sample_from_pmf
from bayes_qct.modeling.designs import get_design
from bayes_qct.modeling.designs.base import DIM_ROW, SAMPLE_DIMS, Design, ModelData, stacked_draws
from bayes_qct.modeling.likelihoods import PMF_ELEMENTS, Family, get_family
from bayes_qct.modeling.missingness import Mechanism, get_mechanism
from bayes_qct.modeling.ops import NP
from bayes_qct.modeling.spec import ModelSpec

DIM_MISSING = "missing_row"
DIM_K = "k"


def parameter_values(posterior: xr.Dataset, data: ModelData, spec: ModelSpec) -> dict[str, Any]:
    """Draws (sample first) of every parameter the design, family and mechanism need.

    A mechanism parameter the spec fixes (not in the posterior) is filled with its
    value; post-processing parameters (pattern-mixture deltas) are not draws and are
    read from the spec by :func:`predict`.
    """
    design = get_design(spec.design)
    family = get_family(spec.likelihood)
    mechanism = get_mechanism(spec.missingness)
    values = design.parameter_values(posterior, data)
    dims = {d: data.coords[d] for d in data.coords if d not in (DIM_ROW,)}
    own = [*family.param_dims, *(design.zero_parameter_names() if family.has_zero_part else ())]
    if mechanism.models_dropout:
        own += [name for name in design.dropout_priors() if name in posterior]
    names = [n for n in own if n in posterior]
    values |= {name: stacked_draws(posterior, name, dims) for name in names}
    n_samples = next(iter(values.values())).shape[0]
    for name, value in mechanism.posterior_values(spec.mechanism_params).items():
        if name in posterior:
            values[name] = stacked_draws(posterior, name, dims)
        elif value is not None:
            values[name] = np.full(n_samples, value)
    return values


class Predictor:
    """Predictions from one posterior, at the spec's mechanism parameters or at others.

    Everything that does not depend on a post-processing parameter (the draws of the
    parameters, the linear predictors) is computed once; :meth:`predict` then applies a
    pattern-mixture shift, so a sweep over deltas costs one pass over the missing rows
    per value. With the same ``rng`` seed, :meth:`predict` at the spec's own parameters
    is :func:`predict`.
    """

    def __init__(
        self,
        posterior: xr.Dataset | Any,
        cohort: Cohort,
        spec: ModelSpec,
        *,
        legal_status: str | None = None,
    ) -> None:
        if not isinstance(posterior, xr.Dataset) and hasattr(posterior, "to_dataset"):
            posterior = posterior.to_dataset()  # an ArviZ 1.x DataTree group
        self.spec = spec
        self.design = get_design(spec.design)
        self.family = get_family(spec.likelihood)
        self.mechanism = get_mechanism(spec.missingness)
        _, data = prepared_data(cohort, spec)
        if legal_status is not None:
            data = self.design.counterfactual(data, legal_status)
        self.data = data
        self.values = parameter_values(posterior, data, spec)
        self.sizes = (posterior.sizes["chain"], posterior.sizes["draw"])
        self.sample_coords = {d: posterior[d].values for d in SAMPLE_DIMS}
        self.eta, self.row_params = self.design.outcome_predictors(
            NP, self.values, data, self.family
        )
        self._base: tuple[np.ndarray, np.ndarray] | None = None

    def _shift(self, params: Any) -> np.ndarray | None:
        if self.mechanism.eta_shift is None:
            return None
        status = np.asarray(self.data.row_labels["legal_status"])
        return self.mechanism.eta_shift(params, self.data.missed_dropout_rows(), status)

    def _rates(self, shift: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Return the expected rate and P(any) of every row (draws x rows), under ``shift``.

        The unshifted rates are computed once; a shift (pattern-mixture) moves only the
        rows it is non-zero on, so only those columns are recomputed.
        """
        family, reference = self.family, self.data.reference_trials
        if self._base is None:
            self._base = (
                family.mean(self.eta, *self.row_params, n=reference),
                family.prob_any(reference, self.eta, *self.row_params),
            )
        if shift is None:
            return self._base[0].copy(), self._base[1].copy()
        n_rows = self.eta.shape[-1]
        shift = np.broadcast_to(np.asarray(shift, dtype=np.float64), self.eta.shape)
        moved = np.flatnonzero((shift != 0).reshape(-1, n_rows).any(axis=0))
        if moved.size == 0:
            return self._base[0].copy(), self._base[1].copy()

        def cols(a: np.ndarray) -> np.ndarray:
            a = np.asarray(a)
            return a[..., moved] if a.ndim and a.shape[-1] == n_rows else a

        eta = cols(self.eta) + cols(shift)
        params = tuple(cols(p) for p in self.row_params)
        expected, prob_any = self._base[0].copy(), self._base[1].copy()
        expected[..., moved] = family.mean(eta, *params, n=reference)
        prob_any[..., moved] = family.prob_any(reference, eta, *params)
        return expected, prob_any

    def predict(
        self, *, rng: np.random.Generator, params: Any = None, imputed_pmf: bool = True
    ) -> xr.Dataset:
        """Return the predictions (see :func:`predict`), at ``params`` if given.

        Without ``imputed_pmf``, a missing count the mechanism does not reweight is drawn
        directly from the family rather than through its pmf (see :func:`predict`).
        """
        data, family = self.data, self.family
        shift = self._shift(self.spec.mechanism_params if params is None else params)
        eta = self.eta if shift is None else self.eta + shift
        expected, prob_any = self._rates(shift)
        completed, pmf_mean = _complete(
            self.design,
            family,
            self.mechanism,
            self.values,
            data,
            eta,
            self.row_params,
            rng,
            pmf=imputed_pmf,
        )
        n_chain, n_draw = self.sizes

        def shaped(a: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
            return (*SAMPLE_DIMS, DIM_ROW), a.reshape(n_chain, n_draw, data.n_rows)

        row_coords = {
            DIM_ROW: np.arange(data.n_rows),
            **{name: (DIM_ROW, labels) for name, labels in data.row_labels.items()},
            "observed": (DIM_ROW, np.asarray(data.observed, dtype=bool)),
        }
        variables = {
            "expected_rate": shaped(expected),
            "prob_any": shaped(prob_any),
            "completed": shaped(completed),
        }
        coords = {**row_coords, **self.sample_coords}
        if imputed_pmf and pmf_mean is not None:
            variables["imputed_pmf"] = ((DIM_MISSING, DIM_K), pmf_mean)
            coords |= {DIM_MISSING: data.missing_rows, DIM_K: np.arange(data.k_max + 1)}
        return xr.Dataset(
            variables,
            coords=coords,
            attrs={"likelihood": self.spec.likelihood, "missingness": self.spec.missingness},
        )


def predict(
    posterior: xr.Dataset | Any,
    cohort: Cohort,
    spec: ModelSpec,
    *,
    rng: np.random.Generator,
    legal_status: str | None = None,
    pmf: bool = True,
) -> xr.Dataset:
    """Predictions for every cohort row from posterior draws.

    Parameters
    ----------
    posterior
        The posterior group (dims chain, draw, ...) of a fit of ``spec`` on ``cohort``.
    cohort
        The cohort the model was fitted to (rows are predicted in its order).
    spec
        The resolved spec of the fit (design, family, mechanism and its parameters).
    rng
        Random generator for the completed (imputed) counts.
    legal_status
        ``None``: each participant's own status. ``"QCT"``/``"voluntary"``: every row as
        if of that status (site, covariates and own intercept kept), for standardised
        (g-computation) contrasts.
    pmf
        Also return ``imputed_pmf``. Without it, a missing count the mechanism does not
        reweight is drawn directly from the family (draws x rows work, not x 31).

    Returns
    -------
    xr.Dataset
        ``expected_rate`` (E[y/n] at the design's reference trials; under
        pattern-mixture the shift applies to missed dropout rows), ``prob_any``
        (P(y > 0) at the reference trials), ``completed`` (observed count, or one
        posterior-predictive draw of a missing count under the mechanism, with the row's
        own trials), all dims (chain, draw, row); and, with ``pmf``, ``imputed_pmf``
        (missing_row, k): each missing count's posterior predictive pmf. Row coords carry
        the design's row labels and ``observed``.
    """
    predictor = Predictor(posterior, cohort, spec, legal_status=legal_status)
    return predictor.predict(rng=rng, imputed_pmf=pmf)


def missing_pmf(
    design: Design,
    family: Family,
    mechanism: Mechanism,
    values: dict[str, Any],
    data: ModelData,
    eta: np.ndarray,
    row_params: tuple[np.ndarray, ...],
    draws: slice,
) -> np.ndarray:
    """Pmf over 0..k_max of each missing count for a block of draws (draws x missing x k).

    The outcome model's pmf with the row's trials, reweighted by the mechanism's
    P(missing | k) on dropout rows where it has one (selection), and normalised.
    """
    rows = data.missing_rows
    pmf = family.pmf(
        data.trials[rows],
        eta[draws][:, rows],
        *(p[draws][:, rows] for p in row_params),
        k_max=data.k_max,
    )
    if mechanism.missing_log_weight is not None:
        block = {k: v[draws] for k, v in values.items()}
        eta_r = design.dropout_predictor(NP, block, data)[:, rows]
        weight = mechanism.missing_log_weight(block, eta_r, data.trials[rows], data.k_max)
        is_dropout = np.isin(rows, data.dropout_rows)
        pmf = pmf * np.exp(np.where(is_dropout[:, None], weight, 0.0))
    return pmf / pmf.sum(axis=-1, keepdims=True)


def _complete(
    design: Design,
    family: Family,
    mechanism: Mechanism,
    values: dict[str, Any],
    data: ModelData,
    eta: np.ndarray,
    params: tuple[np.ndarray, ...],
    rng: np.random.Generator,
    *,
    pmf: bool = True,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Observed counts with each missing one drawn from its posterior predictive.

    Directly from the family when the mechanism does not reweight the missing counts
    and no pmf is asked for; else through the pmf, in blocks of draws that bound its
    memory. Returns the counts and the mean pmf of each missing count (or ``None``).
    """
    n_samples = eta.shape[0]
    completed = np.broadcast_to(data.y, eta.shape).copy()
    rows = data.missing_rows
    if not pmf and mechanism.missing_log_weight is None and family.draw is not None:
        if rows.size:
            completed[:, rows] = family.sample(
                rng, data.trials[rows], eta[:, rows], *(p[:, rows] for p in params), k_max=0
            )
        return completed, None
    pmf_sum = np.zeros((rows.size, data.k_max + 1))
    if rows.size == 0:
        return completed, pmf_sum
    step = max(PMF_ELEMENTS // (rows.size * (data.k_max + 1)), 1)
    for start in range(0, n_samples, step):
        block = slice(start, min(start + step, n_samples))
        probabilities = missing_pmf(design, family, mechanism, values, data, eta, params, block)
        pmf_sum += probabilities.sum(axis=0)
        completed[block, rows] = sample_from_pmf(probabilities, rng)
    return completed, pmf_sum / n_samples
