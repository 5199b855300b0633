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
from bayes_qct.modeling.likelihoods import Family, get_family
from bayes_qct.modeling.missing_pmf import missing_pmf, pmf_blocks
from bayes_qct.modeling.missingness import Mechanism, get_mechanism
from bayes_qct.modeling.ops import NP, map_draw_blocks
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

    def _rates(
        self, shift: np.ndarray | None, rows: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Return the expected rate and P(any) (draws x rows), under ``shift``.

        ``rows``: only those rows (cohort order), else every row. The unshifted rates
        are computed once; a shift (pattern-mixture) moves only the rows it is non-zero
        on, so only those columns are recomputed.
        """
        family, reference = self.family, self.data.reference_trials
        if self._base is None:

            def rates(draws: slice) -> tuple[np.ndarray, np.ndarray]:
                eta, params = self.eta[draws], tuple(p[draws] for p in self.row_params)
                return (
                    family.mean(eta, *params, n=reference),
                    family.prob_any(reference, eta, *params),
                )

            parts = map_draw_blocks(rates, self.eta.shape[0], self.eta.shape[-1])
            self._base = tuple(np.concatenate(a, axis=0) for a in zip(*parts, strict=True))
        n_rows = self.eta.shape[-1]
        rows = np.arange(n_rows) if rows is None else np.asarray(rows)
        expected, prob_any = self._base[0][:, rows], self._base[1][:, rows]
        if shift is None:
            return expected, prob_any
        shift = np.broadcast_to(np.asarray(shift, dtype=np.float64), self.eta.shape)
        moved_of_rows = np.flatnonzero(np.isin(rows, self._moved(shift)))
        if moved_of_rows.size == 0:
            return expected, prob_any
        moved = rows[moved_of_rows]

        def cols(a: np.ndarray) -> np.ndarray:
            a = np.asarray(a)
            return a[..., moved] if a.ndim and a.shape[-1] == n_rows else a

        eta = cols(self.eta) + cols(shift)
        params = tuple(cols(p) for p in self.row_params)
        expected[..., moved_of_rows] = family.mean(eta, *params, n=reference)
        prob_any[..., moved_of_rows] = family.prob_any(reference, eta, *params)
        return expected, prob_any

    def _moved(self, shift: np.ndarray | None) -> np.ndarray:
        """Rows a shift is non-zero on (in any draw)."""
        if shift is None:
            return np.array([], dtype=np.int64)
        n_rows = self.eta.shape[-1]
        shift = np.broadcast_to(np.asarray(shift, dtype=np.float64), self.eta.shape)
        return np.flatnonzero((shift != 0).reshape(-1, n_rows).any(axis=0))

    def rows_moved(self, params: Any) -> np.ndarray:
        """Rows whose predictions a post-processing shift at ``params`` changes."""
        return self._moved(self._shift(params))

    def row_predictions(
        self, rows: np.ndarray, *, rng: np.random.Generator, params: Any = None
    ) -> xr.Dataset | None:
        """:meth:`predict` (without ``imputed_pmf``) of some rows only: ``rows`` (sorted).

        The same numbers as :meth:`predict` gives for those rows, from the same random
        stream: the missing rows are drawn in one call, so ``rows`` must hold every
        missing row or none (then ``rng`` is not used). ``None`` where ``rows`` hold
        the missing rows and their counts are drawn through their pmf (a mechanism
        that reweights them; a family without a direct draw): :meth:`predict` is the
        way then.
        """
        data, family = self.data, self.family
        rows = np.asarray(rows, dtype=np.int64)
        missing = data.missing_rows
        where = np.searchsorted(rows, missing)
        held = np.isin(missing, rows)
        if held.any() and not held.all():
            raise ValueError("row_predictions takes every missing row or none")
        if not held.any():
            missing = missing[:0]
        elif self.mechanism.missing_log_weight is not None or family.draw is None:
            return None
        shift = self._shift(self.spec.mechanism_params if params is None else params)
        expected, prob_any = self._rates(shift, rows)
        completed = np.broadcast_to(data.y[rows], expected.shape).copy()
        if missing.size:
            eta = self.eta[:, missing]
            if shift is not None:
                eta = eta + np.broadcast_to(shift, self.eta.shape)[:, missing]
            completed[:, where] = family.sample(
                rng,
                data.trials[missing],
                eta,
                *(p[:, missing] for p in self.row_params),
                k_max=0,
            )
        return self._dataset(
            {"expected_rate": expected, "prob_any": prob_any, "completed": completed}, rows
        )

    def _dataset(self, arrays: dict[str, np.ndarray], rows: np.ndarray) -> xr.Dataset:
        """Predictions (draws x ``rows``) as the labelled Dataset :meth:`predict` returns."""
        data = self.data
        n_chain, n_draw = self.sizes
        coords = {
            DIM_ROW: rows,
            **{
                name: (DIM_ROW, np.asarray(labels)[rows])
                for name, labels in data.row_labels.items()
            },
            "observed": (DIM_ROW, np.asarray(data.observed, dtype=bool)[rows]),
            **self.sample_coords,
        }
        variables = {
            name: ((*SAMPLE_DIMS, DIM_ROW), a.reshape(n_chain, n_draw, rows.size))
            for name, a in arrays.items()
        }
        attrs = {"likelihood": self.spec.likelihood, "missingness": self.spec.missingness}
        return xr.Dataset(variables, coords=coords, attrs=attrs)

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
        out = self._dataset(
            {"expected_rate": expected, "prob_any": prob_any, "completed": completed},
            np.arange(data.n_rows),
        )
        if imputed_pmf and pmf_mean is not None:
            out = out.assign_coords(
                {DIM_MISSING: data.missing_rows, DIM_K: np.arange(data.k_max + 1)}
            )
            out["imputed_pmf"] = ((DIM_MISSING, DIM_K), pmf_mean)
        return out


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


def estimands_rng(spec: ModelSpec) -> np.random.Generator:
    """Return the random stream the estimands' imputed counts come from (fit and sweep)."""
    return np.random.default_rng([spec.sampler.seed, 3])


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
    for block in pmf_blocks(n_samples, data):
        probabilities = missing_pmf(design, family, mechanism, values, data, eta, params, block)
        pmf_sum += probabilities.sum(axis=0)
        completed[block, rows] = sample_from_pmf(probabilities, rng)
    return completed, pmf_sum / n_samples
