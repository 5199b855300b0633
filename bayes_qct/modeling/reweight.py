"""One posterior moved to other values of a selection parameter, one pass per value.

A mechanism whose missing dropout counts are reweighted by P(missing | k)
(``missing_log_weight``: the selection model's phi) gives a missing dropout row the
response-model term log sum_k p(k | n) P(r = 0 | k): the log of the normaliser of the
reweighted pmf its count is imputed from. The outcome model's pmf of the missing
counts does not depend on the parameter, so it is computed once per posterior (kept in
memory up to :data:`CACHE_BYTES`), and each value then costs one reweighting of it,
which gives both the importance weights' missing-row terms and the imputed counts. The
seen rows' terms are the mechanism's own dropout log-likelihood.

The imputed counts are drawn as :func:`~bayes_qct.fitting.stages.estimands_of` draws
them (the same draw blocks, the same random stream, the same pmf to the bit), and the
other rows' estimand parts are computed once, so the estimands at a value equal those
of the full path there; the log-likelihood equals
:func:`~bayes_qct.modeling.pointwise.dropout_loglik_draws` summed over rows (summed in
probability space here, in log space there: equal to rounding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from bayes_qct.data.cohort import Cohort
from bayes_qct.modeling.build import sample_from_pmf
from bayes_qct.modeling.designs import get_design
from bayes_qct.modeling.dropout import DropoutInputs
from bayes_qct.modeling.missing_pmf import family_missing_pmf, pmf_blocks, weigh_missing_pmf
from bayes_qct.modeling.missingness import get_mechanism
from bayes_qct.modeling.ops import NP
from bayes_qct.modeling.predict import Predictor, estimands_rng
from bayes_qct.modeling.spec import ModelSpec

CACHE_BYTES = 2**29
"""The outcome pmf grids kept between values (512 MiB); beyond, recomputed per value."""


def reweightable(spec: ModelSpec) -> bool:
    """Whether :class:`Reweighter` applies: a selection-type mechanism, no g-computation."""
    design = get_design(spec.design)
    mechanism = get_mechanism(spec.missingness)
    return (
        mechanism.missing_log_weight is not None
        and mechanism.dropout_loglik is not None
        and not mechanism.needs_level
        and not spec.covariates
        and not design.standardise
    )


@dataclass
class _Block:
    """One block of draws, as :func:`~bayes_qct.fitting.stages.estimands_of` takes them."""

    predictor: Predictor
    fixed_parts: xr.Dataset
    """Estimand parts of every row but the missing ones (they do not depend on phi)."""
    steps: list[slice]
    """Sub-blocks of draws in which the missing counts are drawn (as ``_complete``)."""
    grids: list[np.ndarray] | None
    """The outcome pmf of the missing rows per sub-block, or ``None`` (not cached)."""


class Reweighter:
    """The response model's log-likelihood and the estimands of one posterior at any value.

    ``spec`` is the posterior's own (the parameter at the value it was sampled at);
    ``draw_blocks`` the blocks of the ``draw`` dim the estimands are computed in. Only
    for a spec where :func:`reweightable` holds and the design has estimand parts
    (``TypeError`` otherwise).
    """

    def __init__(
        self,
        posterior: xr.Dataset,
        cohort: Cohort,
        spec: ModelSpec,
        parameter: str,
        draw_blocks: list[slice],
    ) -> None:
        self.cohort, self.spec, self.parameter = cohort, spec, parameter
        self.design = get_design(spec.design)
        self.mechanism = get_mechanism(spec.missingness)
        self.sizes = (posterior.sizes["chain"], posterior.sizes["draw"])
        blocks = [Predictor(posterior.isel(draw=b), cohort, spec) for b in draw_blocks]
        data = blocks[0].data
        missing = data.missing_rows
        others = np.setdiff1d(np.arange(data.n_rows), missing)
        per_draw = missing.size * (data.k_max + 1)
        keep = posterior.sizes["chain"] * posterior.sizes["draw"] * per_draw * 8 <= CACHE_BYTES
        self.blocks = []
        for predictor in blocks:
            steps = pmf_blocks(predictor.eta.shape[0], data)
            grids = None
            if keep and missing.size:
                grids = [self._grid(predictor, s) for s in steps]
            rest = predictor.row_predictions(others, rng=np.random.default_rng(0))  # no draws
            fixed = self.design.estimand_parts(rest, cohort)
            if fixed is None:
                raise TypeError(f"design {spec.design!r} has no estimand parts to reweight")
            self.blocks.append(_Block(predictor, fixed, steps, grids))
        self.data = data
        dropout = data.dropout_rows
        observed = np.asarray(data.observed)[dropout]
        self.seen = dropout[observed]
        self.is_dropout = np.isin(missing, dropout)

    @staticmethod
    def _grid(predictor: Predictor, draws: slice) -> np.ndarray:
        return family_missing_pmf(
            predictor.family, predictor.data, predictor.eta, predictor.row_params, draws
        )

    def _values(self, predictor: Predictor, value: float) -> dict[str, Any]:
        values = dict(predictor.values)
        values[self.parameter] = np.full(predictor.eta.shape[0], float(value))
        return values

    def _weighted(self, block: _Block, i: int, values: dict[str, Any]) -> np.ndarray:
        """Return the reweighted (unnormalised) pmf of sub-block ``i`` at ``values``."""
        step, predictor = block.steps[i], block.predictor
        grid = block.grids[i] if block.grids is not None else self._grid(predictor, step)
        return weigh_missing_pmf(
            grid, predictor.design, predictor.mechanism, values, predictor.data, step
        )

    def _seen_loglik(self, predictor: Predictor, values: dict[str, Any]) -> np.ndarray:
        """Sum the seen dropout rows' terms per draw (the mechanism's own function)."""
        data = predictor.data
        inputs = DropoutInputs(
            family=predictor.family,
            k_max=data.k_max,
            y=data.y,
            n=data.trials,
            eta=predictor.eta,
            row_params=predictor.row_params,
            eta_r=self.design.dropout_predictor(NP, values, data),
            params=values,
            seen=self.seen,
            missing=self.seen[:0],
        )
        with np.errstate(divide="ignore", over="ignore"):
            seen_ll, _ = self.mechanism.dropout_loglik(NP, inputs)
        return np.asarray(seen_ll).sum(axis=-1)

    def _chain_major(self, per_block: list[np.ndarray]) -> np.ndarray:
        n_chain = self.sizes[0]
        return np.concatenate([a.reshape(n_chain, -1) for a in per_block], axis=1)

    def loglik(self, value: float) -> np.ndarray:
        """Return the response model's log-likelihood at ``value``, row sum (chain x draw)."""
        out = []
        for block in self.blocks:
            values = self._values(block.predictor, value)
            total = self._seen_loglik(block.predictor, values)
            if block.steps and self.is_dropout.any():
                sums = [
                    self._weighted(block, i, values).sum(axis=-1) for i in range(len(block.steps))
                ]
                with np.errstate(divide="ignore"):
                    total = total + np.log(np.concatenate(sums)[:, self.is_dropout]).sum(axis=-1)
            out.append(total)
        return self._chain_major(out)

    def estimands(self, value: float) -> xr.Dataset:
        """Every estimand per draw at ``value`` (as ``estimands_of`` at that value)."""
        rng = estimands_rng(self.spec)  # the fit's own stream
        missing = self.data.missing_rows
        out = []
        for block in self.blocks:
            predictor = block.predictor
            values = self._values(predictor, value)
            expected, prob_any = predictor._rates(None, missing)
            completed = np.empty(expected.shape)
            for i, step in enumerate(block.steps):
                pmf = self._weighted(block, i, values)
                completed[step] = sample_from_pmf(pmf / pmf.sum(axis=-1, keepdims=True), rng)
            rows = predictor._dataset(
                {"expected_rate": expected, "prob_any": prob_any, "completed": completed},
                missing,
            )
            parts = block.fixed_parts + self.design.estimand_parts(rows, self.cohort)
            out.append(self.design.estimands_from_parts(parts))
        if len(out) == 1:
            return out[0]
        return xr.concat(out, dim="draw", data_vars="minimal", coords="minimal")
