"""Missing-data mechanisms as a registry: how the outcome's likelihood meets dropout.

A mechanism adds the observed-data likelihood terms to the model being built (always the
outcome ``y`` on observed rows; selection and shared-parameter models also the response
indicator ``r``), names its own default priors, and tells
:func:`bayes_qct.modeling.predict.predict` how a missing count's distribution differs
from the outcome model's (``missing_log_weight``) or how its mean is shifted
(``eta_shift``, for pattern-mixture). The paper's data handlings are entries too: their
``prepare`` transforms the cohort (complete case, LOCF, mean imputation) and the MAR
model is fitted on the result, so the estimands show what each handling does.

Registered (DATA_CONTRACT §4):

``mar``               likelihood on the observed rows; missing counts from the outcome model.
``selection``         logit P(r_it = 1) = psi_wave[t] + psi_qct QCT_i + phi y_it / n_it;
                      a missing y_it is summed out exactly over 0..n.
``shared-parameter``  logit P(r_it = 1) = psi_wave[t] + psi_qct QCT_i + lambda v_i, with
                      v_i the participant's latent level (``v_participant``); given v_i the
                      missing counts follow the outcome model.
``pattern-mixture``   the MAR likelihood; a missed follow-up wave's count (and expected
                      rate) comes from the MAR model with its logit mean shifted by
                      ``delta`` (delta = 0 is MAR).
``complete-case``, ``locf``, ``mean-imputation``: data handlings (see :func:`prepare_handling`).

The indicator is "the outcome was observed" (DATA_CONTRACT §4). Dropout is modelled for
the follow-up waves t2..t4 only; an intake (t1) outcome that is missing is treated as
missing at random under every mechanism (predicted from the outcome model alone). The
dropout submodels have wave and legal-status terms; no site term (with about 16
participants per site, site-level dropout rates are not estimable with any precision).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from bayes_qct.constants import DIM_OBS, MAX_DAYS
from bayes_qct.modeling.likelihoods import NP, PT, Family, Ops, log_sigmoid
from bayes_qct.modeling.priors import PriorTable, make_prior

if TYPE_CHECKING:
    from bayes_qct.data.cohort import Cohort
    from bayes_qct.modeling.build import ModelData
    from bayes_qct.modeling.spec import ModelSpec

DIM_DROPOUT = "dropout_row"


@dataclass(frozen=True)
class ModelTerms:
    """What the builder hands a mechanism: data, the family and the row-level predictors.

    Attributes
    ----------
    data
        The NumPy design (:class:`bayes_qct.modeling.build.ModelData`).
    spec, family, priors
        The resolved spec, its family and prior table.
    eta
        Logit of the binomial mean for every cohort row (PyTensor vector).
    row_params
        The family's further row-level parameters (each a vector over all rows).
    tensors
        The model's ``pm.Data`` containers by name (``y_filled``, ``trials``, ...).
    extra
        Other latent terms a mechanism may use (``v_participant`` for shared-parameter).
    """

    data: ModelData
    spec: ModelSpec
    family: Family
    priors: PriorTable
    eta: Any
    row_params: tuple[Any, ...]
    tensors: Mapping[str, Any]
    extra: Mapping[str, Any] = field(default_factory=dict)


def add_observed_y(terms: ModelTerms) -> Any:
    """Add the outcome likelihood on the rows where it was observed (``y``, dims obs)."""
    family = terms.family
    obs = terms.data.obs_rows
    params = [terms.eta[obs], *(p[obs] for p in terms.row_params)]
    # Trials and counts enter as constants (not pm.Data) so that PyTensor folds the
    # gammaln terms of the binomial coefficients at compile time.
    n_obs = pt.as_tensor_variable(terms.data.trials[obs])

    def logp(value: Any, *dist_params: Any) -> Any:
        *rest, n = dist_params
        return family.logp(PT, value, n, *rest)

    def random(*dist_params: Any, rng: np.random.Generator, size: Any = None) -> np.ndarray:
        *rest, n = dist_params
        return draw_counts(family, n, *rest, rng=rng, size=size)

    return pm.CustomDist(
        "y", *params, n_obs, logp=logp, random=random, observed=terms.data.y[obs], dims=DIM_OBS
    )


def draw_counts(
    family: Family, n: Any, *params: Any, rng: np.random.Generator, size: Any = None
) -> np.ndarray:
    """Draw counts from a family by inverse CDF over 0..30 (float64, for CustomDist)."""
    arrays = np.broadcast_arrays(np.asarray(n, float), *(np.asarray(p, float) for p in params))
    if size is not None:
        arrays = [np.broadcast_to(a, size) for a in arrays]
    pmf = family.pmf(arrays[0], *arrays[1:])
    return sample_from_pmf(pmf, rng)


def sample_from_pmf(pmf: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per leading index from pmfs over 0..K on the last axis (float64)."""
    cdf = np.cumsum(pmf, axis=-1)
    u = rng.random((*cdf.shape[:-1], 1)) * cdf[..., -1:]
    return np.minimum((cdf < u).sum(axis=-1), pmf.shape[-1] - 1).astype(np.float64)


# ------------------------------------------------------------------------------ MAR


def _no_priors(**fixed: float | None) -> PriorTable:
    return {}


def _mar_terms(terms: ModelTerms) -> None:
    add_observed_y(terms)


# ------------------------------------------------------------------------ selection


def _dropout_priors() -> PriorTable:
    return {
        # Response at follow-up ran at 60-70%: logit about 0.5, 95% within 5%..97%.
        "psi_wave": {"dist": "normal", "mu": 0.5, "sigma": 1.5},
        "psi_qct": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
    }


def _selection_priors(*, phi: float | None = None, **fixed: float | None) -> PriorTable:
    table = _dropout_priors()
    if phi is None:
        # phi is identified only by the parametric form, so its prior matters. N(0, 1)
        # keeps the odds ratio of being observed between a 30-day and a 0-day month within
        # about 1/7..7 (95%), the range attrition studies of drug users report, and lets
        # the data move it; wider priors let distributional misfit masquerade as MNAR.
        table["phi"] = {"dist": "normal", "mu": 0.0, "sigma": 1.0}
    return table


def _dropout_logit(ops: Ops, values: Mapping[str, Any], data: ModelData, rows: Any) -> Any:
    """psi_wave[t] + psi_qct * QCT for the given (follow-up) rows."""
    wave = data.wave[rows] - 1
    return ops.take(values["psi_wave"], wave) + ops.col(values["psi_qct"]) * data.qct[rows]


def log_missing_grid(ops: Ops, eta_r: Any, phi: Any, n: Any) -> Any:
    """Return log P(r = 0 | k) = log(1 - sigmoid(eta_r + phi k / n)) over k = 0..30."""
    k = np.arange(MAX_DAYS + 1, dtype=np.float64)
    n1 = ops.maximum(n[..., None], 1.0)
    return log_sigmoid(ops, -(eta_r[..., None] + ops.col(phi)[..., None] * k / n1))


def selection_missing_term(
    ops: Ops,
    family: Family,
    n: Any,
    eta: Any,
    row_params: tuple[Any, ...],
    log_miss: Any,
    log_choose: Any = None,
) -> Any:
    """Log sum_k p(k | n) P(r = 0 | k) over k = 0..30 (``-inf`` terms beyond n).

    Row arguments have rows on their last axis; ``log_miss`` is
    :func:`log_missing_grid` of the same rows (k on a new last axis). The (zero-inflated)
    binomial takes a fast path when its log binomial coefficients are known: tabulated
    here when ``n`` is data (NumPy), or given as ``log_choose`` when ``n`` is an input.
    """
    fast = log_choose is not None or isinstance(n, np.ndarray)
    if family.name in _BINOMIAL_FAST and fast:
        return _binomial_missing_term(ops, family.name, n, eta, row_params, log_miss, log_choose)
    k = np.arange(MAX_DAYS + 1, dtype=np.float64)
    n_col = n[..., None]
    log_pk = family.logp(ops, k, n_col, eta[..., None], *(p[..., None] for p in row_params))
    return _logsumexp(ops, log_pk + log_miss)


_BINOMIAL_FAST = ("binomial", "zero-inflated-binomial")


def _logsumexp(ops: Ops, x: Any) -> Any:
    if ops is PT:
        return pt.logsumexp(x, axis=-1)
    from scipy.special import logsumexp

    return logsumexp(x, axis=-1)


def log_choose_table(n: np.ndarray) -> np.ndarray:
    """Tabulate log C(n, k) for k = 0..30 on a new last axis (``-inf`` where k > n), in NumPy."""
    from scipy.special import gammaln

    k = np.arange(MAX_DAYS + 1, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)[..., None]
    ks = np.minimum(k, n)
    table = gammaln(n + 1.0) - gammaln(ks + 1.0) - gammaln(n - ks + 1.0)
    return np.where(k <= n, table, -np.inf)


def _binomial_missing_term(
    ops: Ops,
    name: str,
    n: Any,
    eta: Any,
    row_params: tuple[Any, ...],
    log_miss: Any,
    log_choose: Any = None,
) -> Any:
    """Sum out k for the (zero-inflated) binomial at the cost of one exp per k.

    ``log Binomial(k | n, sigmoid(eta)) = log C(n, k) + k eta + n log sigmoid(-eta)``: the
    binomial coefficients are a constant table (``n`` is data), the k-dependent part is
    linear in ``eta`` and the rest is per row, so the grid needs no log-sigmoid per cell.
    Zero inflation (structural zero with probability sigmoid(zeta)) adds
    ``sigmoid(zeta) P(r = 0 | 0)`` outside the sum.
    """
    k = np.arange(MAX_DAYS + 1, dtype=np.float64)
    if log_choose is None:
        log_choose = log_choose_table(n)
    grid = log_choose + k * eta[..., None] + log_miss
    count = _logsumexp(ops, grid) + n * log_sigmoid(ops, -eta)
    if name == "binomial":
        return count
    zeta = row_params[0]
    return ops.logaddexp(log_sigmoid(ops, zeta) + log_miss[..., 0], log_sigmoid(ops, -zeta) + count)


def _dropout_values(terms: ModelTerms, name: str, fixed: float | None) -> dict[str, Any]:
    """psi_wave, psi_qct and the dependence parameter ``name`` (estimated or pm.Data)."""
    values = {
        "psi_wave": make_prior("psi_wave", terms.priors, dims="followup"),
        "psi_qct": make_prior("psi_qct", terms.priors),
    }
    if fixed is None:
        values[name] = make_prior(name, terms.priors)
    else:
        values[name] = pm.Data(name, np.float64(fixed))
    return values


def _selection_terms(terms: ModelTerms) -> None:
    add_observed_y(terms)
    data = terms.data
    values = _dropout_values(terms, "phi", terms.spec.phi)
    rows = data.dropout_rows
    eta_r = _dropout_logit(PT, values, data, rows)
    n = pt.as_tensor_variable(data.trials[rows])  # constants: gammaln folded at compile
    y = pt.as_tensor_variable(data.y[rows])
    log_r1 = log_sigmoid(PT, eta_r + values["phi"] * y / pt.maximum(n, 1.0))
    miss = np.flatnonzero(~data.observed[rows])
    log_r0 = pt.zeros_like(log_r1)
    if miss.size:
        # P(r = 0 | k) depends on a row only through (wave, status, n): compute it once
        # per distinct combination (a handful) and gather, instead of once per row.
        missing = rows[miss]
        keys = np.stack([data.wave[missing], data.qct[missing], data.trials[missing]], axis=1)
        groups, inverse = np.unique(keys, axis=0, return_inverse=True)
        group_eta_r = (
            values["psi_wave"][groups[:, 0].astype(np.int64) - 1] + values["psi_qct"] * groups[:, 1]
        )
        log_miss = log_missing_grid(PT, group_eta_r, values["phi"], groups[:, 2])
        log_r0 = pt.set_subtensor(
            log_r0[miss],
            selection_missing_term(
                PT,
                terms.family,
                data.trials[rows][miss],
                terms.eta[missing],  # one gather (and one scatter in the gradient)
                tuple(p[missing] for p in terms.row_params),
                log_miss[inverse.ravel()],
            ),
        )
    r = data.observed[rows].astype(np.float64)
    pm.CustomDist(
        "r",
        log_r1,
        log_r0,
        logp=lambda value, a, b: pt.where(pt.gt(value, 0.5), a, b),
        observed=r,
        dims=DIM_DROPOUT,
    )


def _selection_weight(
    values: Mapping[str, Any], data: ModelData, rows: np.ndarray, k: np.ndarray
) -> np.ndarray:
    """Log P(r = 0 | k) for missing rows (draws x rows x k); 0 for intake rows (MAR)."""
    follow = data.wave[rows] > 0
    eta_r = _dropout_logit(NP, values, data, np.where(follow, rows, data.dropout_rows[0]))
    weight = log_missing_grid(NP, eta_r, values["phi"], data.trials[rows])
    return np.where(follow[:, None], weight, 0.0)


def _selection_fixed(spec: ModelSpec) -> dict[str, float]:
    return {} if spec.phi is None else {"phi": float(spec.phi)}


# ---------------------------------------------------------------- shared-parameter


def _shared_priors(*, lam: float | None = None, **fixed: float | None) -> PriorTable:
    table = _dropout_priors()
    if lam is None:
        # v_i is on the logit scale of the outcome (SD sigma_participant, about 1-2), so
        # N(0, 1) keeps the odds ratio of being observed between people 1 SD apart
        # within about 1/7..7 (95%), as phi's prior does for the selection model.
        table["lambda"] = {"dist": "normal", "mu": 0.0, "sigma": 1.0}
    return table


def _shared_terms(terms: ModelTerms) -> None:
    """``y`` on observed rows and ``r ~ Bernoulli(logit = psi + lambda v_i)`` (t2..t4).

    Given v_i (a continuous parameter NUTS samples) the indicator does not depend on the
    count, so nothing is summed out: r informs v_i, and v_i the missing counts.
    """
    add_observed_y(terms)
    data = terms.data
    values = _dropout_values(terms, "lambda", terms.spec.lambda_)
    rows = data.dropout_rows
    v = terms.extra["v_participant"]
    logit = _dropout_logit(PT, values, data, rows) + values["lambda"] * v[data.participant[rows]]
    pm.Bernoulli(
        "r", logit_p=logit, observed=data.observed[rows].astype(np.int64), dims=DIM_DROPOUT
    )


def _shared_fixed(spec: ModelSpec) -> dict[str, float]:
    return {} if spec.lambda_ is None else {"lambda": float(spec.lambda_)}


# ----------------------------------------------------------------- pattern-mixture


def missed_followup(data: ModelData) -> np.ndarray:
    """Rows of follow-up waves (t2..t4) whose outcome was not observed (boolean, per row)."""
    return ~data.observed & (data.wave > 0)


def _pattern_shift(spec: ModelSpec, data: ModelData) -> np.ndarray:
    """``delta`` on the logit mean of missed follow-up waves, 0 elsewhere (per row)."""
    return np.where(missed_followup(data), float(spec.delta), 0.0)


# ------------------------------------------------------------------- data handlings

HANDLING_OPTIONS: dict[str, dict[str, Any]] = {
    "complete-case": {"waves": ("t1", "t2", "t3", "t4")},
    "locf": {"waves": ("t2", "t3", "t4")},
    "mean-imputation": {"waves": ("t1", "t2", "t3", "t4"), "by": "legal_status"},
}
"""How each handling is applied before the (MAR) model is fitted."""


def prepare_handling(name: str, cohort: Cohort, spec: ModelSpec) -> Cohort:
    """Apply one of the paper's handlings to the spec's outcome; the table keeps its shape.

    ``complete-case``
        Completers only: participants whose outcome was observed at all four waves keep
        it; everyone else's outcome is hidden at every wave (their rows stay, so the
        estimands still average over every enrolled participant). The model is fitted on
        the completers, and a non-completer's level is drawn from the completers'
        distribution for their legal status and site: the estimands then describe the
        cohort *as if* the non-completers were like the completers (the assumption a
        completers' analysis makes), not the completers alone.
    ``locf``
        Each missing follow-up outcome (t2..t4) takes the participant's last observed
        value, with that wave's days at liberty (the paper carried t1 into t2 only; here
        every follow-up wave is filled). A missing t1 stays missing (predicted by the
        model).
    ``mean-imputation``
        Each missing outcome takes the observed mean of its wave within the participant's
        legal status, **rounded to whole days** (half up) and capped at the days at
        liberty, so the table stays one of day counts.

    Filled values are then treated as observed by the model (that is what the handlings
    do); :func:`bayes_qct.frequentist.imputation` logs how many values each one filled
    or set aside.
    """
    from bayes_qct.frequentist.imputation import HANDLING_FUNCTIONS

    result = HANDLING_FUNCTIONS[name](cohort, spec.outcome, **HANDLING_OPTIONS[name])
    if result.cohort is None:  # pragma: no cover - a Cohort in gives a Cohort out
        raise TypeError("prepare_handling needs a Cohort")
    return result.cohort


def _handling(name: str) -> Callable[[Cohort, ModelSpec], Cohort]:
    def prepare(cohort: Cohort, spec: ModelSpec) -> Cohort:
        return prepare_handling(name, cohort, spec)

    prepare.__doc__ = f"Apply the {name} handling (see :func:`prepare_handling`)."
    return prepare


# ------------------------------------------------- data as model inputs (compile once)
#
# With ``build_model(..., data_inputs=True)`` every per-cohort array is a ``pm.Data``
# input, the rows that were (not) observed included, as index vectors whose length may
# change from cohort to cohort; so one compiled logp serves every cohort with the same
# participant x wave grid (the arrays are swapped with nutpie's ``with_data``). The
# densities are those of the terms above (tested equal); the one price is that the
# binomial coefficients are no longer folded at compile time. The observed-data terms
# are ``pm.Potential`` ("y_loglik", "r_loglik"), so such a model has no pointwise
# log-likelihood for LOO.


def _input_y(terms: ModelTerms) -> None:
    """Outcome log-likelihood summed over the observed rows (``obs_rows`` input)."""
    t = terms.tensors
    obs = t["obs_rows"]
    params = (p[obs] for p in terms.row_params)
    ll = terms.family.logp(PT, t["y_filled"][obs], t["trials"][obs], terms.eta[obs], *params)
    pm.Potential("y_loglik", pt.sum(ll))


def _selection_input_terms(terms: ModelTerms) -> None:
    _input_y(terms)
    data, t = terms.data, terms.tensors
    values = _dropout_values(terms, "phi", terms.spec.phi)
    seen = t["dropout_observed_rows"]
    n = t["trials"][seen]
    log_r1 = log_sigmoid(
        PT,
        _dropout_logit(PT, values, data, seen)
        + values["phi"] * t["y_filled"][seen] / pt.maximum(n, 1.0),
    )
    miss = t["dropout_missing_rows"]
    n = t["trials"][miss]
    log_miss = log_missing_grid(PT, _dropout_logit(PT, values, data, miss), values["phi"], n)
    params = tuple(p[miss] for p in terms.row_params)
    log_r0 = selection_missing_term(
        PT, terms.family, n, terms.eta[miss], params, log_miss, t["log_choose"][miss]
    )
    pm.Potential("r_loglik", pt.sum(log_r1) + pt.sum(log_r0))


def _shared_input_terms(terms: ModelTerms) -> None:
    _input_y(terms)
    data, t = terms.data, terms.tensors
    values = _dropout_values(terms, "lambda", terms.spec.lambda_)
    v = terms.extra["v_participant"]

    def logit(rows: Any) -> Any:
        return _dropout_logit(PT, values, data, rows) + values["lambda"] * v[data.participant[rows]]

    seen, miss = t["dropout_observed_rows"], t["dropout_missing_rows"]
    ll = pt.sum(log_sigmoid(PT, logit(seen))) + pt.sum(log_sigmoid(PT, -logit(miss)))
    pm.Potential("r_loglik", ll)


# ------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Mechanism:
    """A missing-data mechanism (or, via ``prepare``, a data handling).

    Attributes
    ----------
    name
        Registry key (DATA_CONTRACT §4).
    default_priors
        ``f(phi=..., lam=...) -> PriorTable`` of the mechanism's own parameters (a
        parameter the spec fixes gets no prior).
    add_terms
        Adds the likelihood terms to the model under construction (inside ``pm.Model``).
    missing_log_weight
        NumPy ``f(values, data, rows, k) -> log weight`` multiplying the outcome pmf of
        missing rows (``None``: missing counts follow the outcome model).
    fixed_values
        Parameters the spec fixes rather than the posterior holds (``phi`` when fixed).
    eta_shift
        NumPy ``f(spec, data) -> shift`` of the logit mean per row (pattern-mixture).
    prepare
        Cohort transformation applied before building (complete case, LOCF, ...).
    kind
        ``mechanism`` (a model of dropout) or ``handling`` (a data handling).
    add_input_terms
        The same terms for a model whose data are inputs (``data_inputs=True``: fixed
        grid, observed rows as index inputs); ``None`` where the mechanism has none.
    """

    name: str
    default_priors: Callable[..., PriorTable]
    add_terms: Callable[[ModelTerms], None]
    missing_log_weight: Callable[..., np.ndarray] | None = None
    fixed_values: Callable[[ModelSpec], dict[str, float]] = lambda spec: {}
    eta_shift: Callable[..., np.ndarray] | None = None
    prepare: Callable[[Cohort, ModelSpec], Cohort] | None = None
    kind: str = "mechanism"
    add_input_terms: Callable[[ModelTerms], None] | None = None


MECHANISMS: dict[str, Mechanism] = {
    "mar": Mechanism("mar", _no_priors, _mar_terms, add_input_terms=_input_y),
    "selection": Mechanism(
        "selection",
        _selection_priors,
        _selection_terms,
        missing_log_weight=_selection_weight,
        fixed_values=_selection_fixed,
        add_input_terms=_selection_input_terms,
    ),
    "shared-parameter": Mechanism(
        "shared-parameter",
        _shared_priors,
        _shared_terms,
        fixed_values=_shared_fixed,
        add_input_terms=_shared_input_terms,
    ),
    "pattern-mixture": Mechanism(
        "pattern-mixture",
        _no_priors,
        _mar_terms,
        eta_shift=_pattern_shift,
        add_input_terms=_input_y,
    ),
    **{
        name: Mechanism(name, _no_priors, _mar_terms, prepare=_handling(name), kind="handling")
        for name in HANDLING_OPTIONS
    },
}
"""Registry of mechanisms and data handlings, by their DATA_CONTRACT §4 names."""


def get_mechanism(name: str) -> Mechanism:
    """Look a mechanism up by name (KeyError lists the known ones)."""
    try:
        return MECHANISMS[name]
    except KeyError:
        known = sorted(MECHANISMS)
        raise KeyError(f"unknown missingness mechanism {name!r}; expected one of {known}") from None
