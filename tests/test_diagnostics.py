"""Convergence checks, predictive checks and ICC on from_dict posteriors (no MCMC)."""

from __future__ import annotations

import math

import arviz as az
import numpy as np
import pytest

from bayes_qct.estimands.diagnostics import (
    BFMI_MIN,
    ESS_MIN,
    R_HAT_MAX,
    Diagnostics,
    diagnose,
    parameter_summary,
)
from bayes_qct.estimands.ppc import PPC_COLUMNS, predictive_checks
from bayes_qct.modeling.designs import get_design
from bayes_qct.modeling.designs.person_wave_tables import LATENT_VARIANCE, icc_table

STATISTICS = get_design("person-wave").check_statistics()
PRIOR_STATISTICS = get_design("person-wave").check_statistics(prior=True)


def idata_from(posterior, *, diverging=None, energy=None, chains=4, draws=500, seed=0):
    rng = np.random.default_rng(seed)
    stats = {
        "diverging": np.zeros((chains, draws), bool) if diverging is None else diverging,
        "energy": rng.normal(size=(chains, draws)) if energy is None else energy,
    }
    return az.from_dict({"posterior": posterior, "sample_stats": stats}, dims={"b": ["k"]})


def good_posterior(chains=4, draws=500, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "a": rng.normal(size=(chains, draws)),
        "b": rng.normal(size=(chains, draws, 3)),
        "fixed": np.zeros((chains, draws)),  # constant (a wave effect fixed at 0)
    }


def test_converged_chains_pass_with_thresholds_stated():
    idata = idata_from(good_posterior())
    summary = parameter_summary(idata)
    assert {"eti95_lb", "eti95_ub", "ess_bulk", "ess_tail", "r_hat"} <= set(summary.columns)
    assert summary["parameter"].tolist() == ["a", "b[0]", "b[1]", "b[2]", "fixed"]
    result = diagnose(idata, summary)
    assert result.ok, result.failures
    assert result.divergences == 0 and result.n_draws == 2000
    assert result.max_r_hat <= R_HAT_MAX and result.min_ess_bulk >= ESS_MIN
    text = result.verdict()
    assert text.startswith("Converged") and f"r_hat <= {R_HAT_MAX}" in text
    assert f"E-BFMI >= {BFMI_MIN}" in text


def test_stuck_chain_divergences_and_low_bfmi_fail():
    posterior = good_posterior()
    posterior["a"][0] += 3.0  # one chain elsewhere: r_hat far above 1.01
    diverging = np.zeros((4, 500), bool)
    diverging[1, :7] = True
    energy = np.cumsum(np.random.default_rng(2).normal(size=(4, 500)), axis=1)  # E-BFMI << 0.3
    idata = idata_from(posterior, diverging=diverging, energy=energy)
    result = diagnose(idata, parameter_summary(idata))
    assert not result.ok
    joined = " | ".join(result.failures)
    assert "7 divergent" in joined and "r_hat" in joined and "(a)" in joined
    assert "E-BFMI" in joined
    assert result.verdict().startswith("NOT CONVERGED")
    again = Diagnostics.from_dict(result.to_dict())
    assert again == result


def test_few_draws_fail_ess():
    idata = idata_from(good_posterior(draws=40), draws=40)
    result = diagnose(idata, parameter_summary(idata))
    assert any("bulk ESS" in f for f in result.failures)


def test_predictive_checks_columns_and_calibration():
    rng = np.random.default_rng(3)
    n = 400
    status = np.where((np.arange(n) // 4) % 2 == 0, "QCT", "voluntary")
    wave = np.array(["t1", "t2", "t3", "t4"])[np.arange(n) % 4]
    p = np.where(status == "QCT", 0.2, 0.5)
    observed = rng.binomial(30, p)
    replicated = rng.binomial(30, p, size=(300, n))
    table = predictive_checks(replicated, observed, status, wave, statistics=STATISTICS)
    assert list(table.columns) == list(PPC_COLUMNS)
    assert set(table["statistic"]) == {"share_zero", "share_thirty", "mean", "variance"}
    assert len(table) == 4 * 3 * 4
    means = table[table["statistic"] == "mean"]
    assert (
        (means["replicated_lower"] <= means["observed"])
        & (means["observed"] <= means["replicated_upper"])
    ).mean() > 0.8
    # a model that puts no mass on 0 is caught by the share of zeros
    with_zeros = observed.copy()
    with_zeros[::3] = 0
    bad = predictive_checks(np.maximum(replicated, 1), with_zeros, status, wave)
    zeros = bad[bad["statistic"] == "share_zero"]
    assert (zeros["p_replicated_ge_observed"] == 0).all()


def test_prior_statistics_share_in_range():
    y = np.array([[0, 30, 15, 5]])
    table = predictive_checks(
        y,
        np.array([0, 30, 15, 5]),
        np.array(["QCT"] * 4),
        np.array(["t1"] * 4),
        check="prior_predictive",
        statistics=PRIOR_STATISTICS,
    )
    qct = table[table["legal_status"] == "QCT"].set_index("statistic")["replicated_mean"]
    assert qct["share_in_0_30"] == 1.0 and qct["share_1_29"] == 0.5
    assert qct["share_zero"] == 0.25 and qct["share_thirty"] == 0.25


def test_icc_latent_scale():
    posterior = az.from_dict(
        {
            "posterior": {
                "sigma_site": np.full((2, 10), 1.0),
                "sigma_participant": np.full((2, 10), 2.0),
            }
        }
    )["posterior"]
    table = icc_table(posterior).set_index("level")
    total = 1 + 4 + LATENT_VARIANCE
    assert table.loc["site", "mean"] == pytest.approx(1 / total)
    assert table.loc["participant", "mean"] == pytest.approx(5 / total)
    assert "pi^2/3" in table.loc["site", "convention"]
    assert math.isclose(LATENT_VARIANCE, math.pi**2 / 3)


def test_advice_follows_the_failed_checks() -> None:
    from bayes_qct.estimands.diagnostics import Diagnostics

    slow = Diagnostics(0, 4000, 1.02, "g_wave[t3]", 440.0, "g_wave[t3]", 700.0, "b0", 0.9, ("r",))
    assert "longer chains" in slow.advice() and "divergent" not in slow.advice()
    bad = Diagnostics(5, 4000, 1.02, "b0", 300.0, "b0", 300.0, "b0", 0.1, ("d", "r", "e"))
    tips = bad.advice()
    assert "target_accept" in tips and "fix the divergences first" in tips
    assert "longer chains" not in tips and "E-BFMI" in tips
    assert Diagnostics(0, 4000, 1.003, "b0", 900.0, "b0", 900.0, "b0", 0.9).advice() == ""
