"""ArviZ's summary of many parameters at once: the same numbers, computed in one batch.

``arviz_stats.summary`` evaluates its diagnostics element by element in Python (a loop
over every participant intercept for each statistic), about 7 ms per scalar parameter:
two minutes for 15,700 intercepts. :func:`batch_summary` computes the same statistics
(Vehtari et al. 2021 as implemented in ``arviz_stats`` 1.x: rank-normalised split
R-hat, bulk and tail ESS, Monte Carlo standard errors of the mean and sd, mean, sd,
equal-tailed interval) as array operations over every scalar parameter together, in
blocks of columns that bound the memory. ``tests/test_batch_summary.py`` checks it
against ``arviz_stats.summary`` number by number.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from scipy import special, stats
from scipy.fft import next_fast_len

BLOCK = 2048
"""Parameters per block (bounds the FFT's working memory to about 150 MB at 4 x 1000)."""
MIN_BLOCK = 64
"""Fewest parameters per block when a batch is split across threads."""

COLUMNS = ("mean", "sd", "lb", "ub", "ess_bulk", "ess_tail", "r_hat", "mcse_mean", "mcse_sd")


# Arrays are (parameters, chains, draws), C-contiguous: every reduction runs along the
# last axes, over memory that is contiguous per parameter.


def _split(x: np.ndarray) -> np.ndarray:
    """Split each chain in halves: (P, chains, draws) -> (P, 2 chains, draws // 2)."""
    half = x.shape[-1] // 2
    return np.concatenate([x[..., :half], x[..., x.shape[-1] - half :]], axis=1)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Return the normal scores of each parameter's average ranks (Blom offsets)."""
    flat = x.reshape(x.shape[0], -1)
    ranks = stats.rankdata(flat, method="average", axis=-1)
    return special.ndtri((ranks - 0.375) / (flat.shape[-1] + 0.25)).reshape(x.shape)


def _rhat(x: np.ndarray) -> np.ndarray:
    """Split-chain R-hat of already split draws (P, chains, draws)."""
    n = x.shape[-1]
    between = n * np.var(x.mean(axis=-1), axis=-1, ddof=1)
    within = np.var(x, axis=-1, ddof=1).mean(axis=-1)
    return np.sqrt((between / within + n - 1) / n)


def _autocov(x: np.ndarray) -> np.ndarray:
    """Autocovariance of every parameter and chain at every lag (P, chains, lags)."""
    n = x.shape[-1]
    m = next_fast_len(2 * n)
    spectrum = np.fft.rfft(x - x.mean(axis=-1, keepdims=True), n=m, axis=-1)
    spectrum *= np.conjugate(spectrum)
    return np.fft.irfft(spectrum, n=m, axis=-1)[..., :n] / n


def ess(x: np.ndarray) -> np.ndarray:
    """Effective sample size of draws (P, chains, draws), per parameter.

    Geyer's initial positive then monotone sequence of paired autocorrelations, with
    ``arviz_stats``' exact truncation rules; a constant parameter gets the number of draws.
    """
    n_par, n_chain, n_draw = x.shape
    acov = _autocov(x)
    mean_var = acov[..., 0].mean(axis=-1) * n_draw / (n_draw - 1.0)
    var_plus = mean_var * (n_draw - 1.0) / n_draw
    if n_chain > 1:
        var_plus = var_plus + np.var(x.mean(axis=-1), axis=-1, ddof=1)
    rho = 1.0 - (mean_var[:, None] - acov.mean(axis=1)) / var_plus[:, None]  # (P, lags)
    k_max = max((n_draw - 3) // 2, 0)  # the last pair Geyer's loop may reach
    n_pairs = k_max + 1
    even = np.ones((n_par, n_pairs))
    odd = np.empty((n_par, n_pairs))
    odd[:, 0] = rho[:, 1]
    even[:, 1:] = rho[:, 2 : 2 * n_pairs : 2]
    odd[:, 1:] = rho[:, 3 : 2 * n_pairs + 1 : 2]
    pair = even + odd  # pair k = rho(2k) + rho(2k + 1); pair 0 = 1 + rho(1)
    # pairs computed: 1..K, K the first k >= 1 with pair <= 0 (or k_max); none if pair 0 <= 0
    stops = np.where(np.arange(n_pairs) >= 1, pair <= 0, False)
    stops[:, -1] = True
    last = np.where(pair[:, 0] > 0, np.argmax(stops, axis=-1), 0)
    rows = np.arange(n_par)
    kept = np.minimum.accumulate(pair, axis=-1)  # the monotone sequence
    below = np.arange(n_pairs) < last[:, None]
    tau = -1.0 + 2.0 * np.where(below, kept, 0.0).sum(axis=-1)
    even_last = np.where(last > 0, even[rows, last], 1.0)
    stored = (pair[rows, last] >= 0) | (last == 0)
    tau += np.where(stored | (even_last > 0), even_last, 0.0)
    total = n_chain * n_draw
    out = total / np.maximum(tau, 1.0 / np.log10(total))
    out[np.isnan(rho).any(axis=-1)] = np.nan
    flat = x.reshape(n_par, -1)
    out[(flat.max(axis=-1) - flat.min(axis=-1)) < np.finfo(float).resolution] = total
    return out


def _ess_quantile(x: np.ndarray, prob: float) -> np.ndarray:
    quantile = np.quantile(x.reshape(x.shape[0], -1), prob, axis=-1)
    return ess(_split((x <= quantile[:, None, None]).astype(float)))


def _block(x: np.ndarray, ci_prob: float, tail_prob: float) -> np.ndarray:
    """Every column of :data:`COLUMNS` for one block of parameters (P, chains, draws)."""
    flat = x.reshape(x.shape[0], -1)
    split = _split(x)
    median = np.median(split.reshape(x.shape[0], -1), axis=-1)
    folded = np.abs(split - median[:, None, None])
    z_split = _z_scale(split)
    r_hat = np.maximum(_rhat(z_split), _rhat(_z_scale(folded)))
    if x.shape[1] < 2:  # R-hat needs two chains
        r_hat = np.full(x.shape[0], np.nan)
    edge = (1.0 - ci_prob) / 2.0
    lb, ub = np.quantile(flat, [edge, 1.0 - edge], axis=-1)
    low, high = sorted((tail_prob, 1.0 - tail_prob))
    ess_tail = np.minimum(_ess_quantile(x, low), _ess_quantile(x, high))
    sd = np.std(flat, axis=-1, ddof=1)
    centred = x - flat.mean(axis=-1)[:, None, None]
    squared = centred**2
    evar = squared.reshape(x.shape[0], -1).mean(axis=-1)
    fourth = (squared**2).reshape(x.shape[0], -1).mean(axis=-1)
    varvar = (fourth - evar**2) / ess(_split(squared))
    return np.stack(
        [
            flat.mean(axis=-1),
            sd,
            lb,
            ub,
            ess(z_split),
            ess_tail,
            r_hat,
            sd / np.sqrt(ess(split)),
            np.sqrt(varvar / evar / 4.0),
        ],
        axis=1,
    )


def batch_summary(
    draws: np.ndarray, names: list[str], *, ci_prob: float, tail_prob: float
) -> pd.DataFrame:
    """Summarise scalar parameters given as one array (chains, draws, parameters).

    Parameters
    ----------
    draws
        Posterior draws, one column per scalar parameter.
    names
        Row labels (``b0``, ``u_site[S01]`` ...).
    ci_prob
        Probability of the equal-tailed interval (columns ``eti<100 ci_prob>_lb/_ub``).
    tail_prob
        The tail ESS is the smaller ESS of the indicators of the ``tail_prob`` and
        ``1 - tail_prob`` quantiles (``arviz_stats`` passes ``rcParams["stats.ci_prob"]``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``names``, the columns of ``arviz_stats.summary(kind="all")``.
    """
    draws = np.asarray(draws, dtype=np.float64)
    if draws.ndim != 3 or draws.shape[-1] != len(names):
        raise ValueError("draws must be (chains, draws, parameters) with one name per column")
    out = np.full((len(names), len(COLUMNS)), np.nan)
    if draws.shape[1] < 4:  # too few draws for any diagnostic (as arviz_stats)
        out[:, 0] = draws.mean(axis=(0, 1))
        return _table(out, names, ci_prob)
    # every parameter's numbers are its own, so blocks run side by side (a thread per
    # CPU: NumPy releases the GIL) and give what one block would
    threads = os.cpu_count() or 1
    size = min(BLOCK, max(-(-len(names) // threads), MIN_BLOCK))
    blocks = [slice(s, s + size) for s in range(0, len(names), size)]

    def one(block: slice) -> np.ndarray:
        columns = np.ascontiguousarray(np.moveaxis(draws[..., block], -1, 0))
        with np.errstate(invalid="ignore", divide="ignore"):
            return _block(columns, ci_prob, tail_prob)

    with ThreadPoolExecutor(min(threads, len(blocks))) as pool:
        for block, values in zip(blocks, pool.map(one, blocks), strict=True):
            out[block] = values
    return _table(out, names, ci_prob)


def _table(out: np.ndarray, names: list[str], ci_prob: float) -> pd.DataFrame:
    perc = int(ci_prob * 100)
    labels = [c if c not in ("lb", "ub") else f"eti{perc}_{c}" for c in COLUMNS]
    return pd.DataFrame(out, index=pd.Index(names), columns=labels)
