"""Direct draws from each likelihood family's generative story (NumPy).

One count per entry of ``eta`` (draws x rows): O(draws x rows), where drawing through the
pmf costs O(draws x rows x (k_max + 1)). A zero-inflated count is drawn only where the
structural zero was not: the same distribution, half the binomial draws when zeros are
common. :mod:`bayes_qct.modeling.likelihoods` registers them with their families.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

_sigmoid = special.expit


def _trials(n: Any, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(np.asarray(n, dtype=np.float64), shape).astype(np.int64)


def binomial(rng: np.random.Generator, n: Any, eta: np.ndarray) -> np.ndarray:
    """Binomial(n, sigmoid(eta)) counts."""
    return rng.binomial(_trials(n, eta.shape), _sigmoid(eta)).astype(np.float64)


def _counting_trials(n: Any, shape: tuple[int, ...], counting: np.ndarray) -> np.ndarray:
    """Return the trials of the ``counting`` entries only (no full-size copy first)."""
    return np.broadcast_to(np.asarray(n, dtype=np.float64), shape)[counting].astype(np.int64)


def _not_structural(rng: np.random.Generator, eta: np.ndarray, zeta: np.ndarray) -> np.ndarray:
    """Entries that escape the structural zero: the count is drawn for those only."""
    return rng.random(eta.shape) >= _sigmoid(np.broadcast_to(zeta, eta.shape))


def zero_inflated_binomial(
    rng: np.random.Generator, n: Any, eta: np.ndarray, zeta: np.ndarray
) -> np.ndarray:
    """Zero with probability sigmoid(zeta), else a binomial count."""
    counting = _not_structural(rng, eta, zeta)
    out = np.zeros(eta.shape)
    out[counting] = rng.binomial(_counting_trials(n, eta.shape, counting), _sigmoid(eta[counting]))
    return out


def _beta_p(rng: np.random.Generator, eta: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    mu = _sigmoid(eta)
    return rng.beta(mu * kappa, (1.0 - mu) * kappa)


def beta_binomial(
    rng: np.random.Generator, n: Any, eta: np.ndarray, kappa: np.ndarray
) -> np.ndarray:
    """Binomial counts on a beta-distributed p (mean sigmoid(eta), precision kappa)."""
    return rng.binomial(_trials(n, eta.shape), _beta_p(rng, eta, kappa)).astype(np.float64)


def zero_inflated_beta_binomial(
    rng: np.random.Generator, n: Any, eta: np.ndarray, zeta: np.ndarray, kappa: np.ndarray
) -> np.ndarray:
    """Zero with probability sigmoid(zeta), else a beta-binomial count."""
    counting = _not_structural(rng, eta, zeta)
    out = np.zeros(eta.shape)
    p = _beta_p(rng, eta[counting], np.broadcast_to(kappa, eta.shape)[counting])
    out[counting] = rng.binomial(_counting_trials(n, eta.shape, counting), p)
    return out
