"""Likelihood terms checked against SciPy, and the selection model's summed-out counts."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest
from scipy import stats
from scipy.special import expit

from bayes_qct.modeling.build import build_model, model_data
from bayes_qct.modeling.likelihoods import FAMILIES
from bayes_qct.modeling.missingness import MECHANISMS, get_mechanism
from bayes_qct.modeling.spec import spec_from_dict
from tests.conftest_model import simulate_cohort

K = np.arange(31)


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(30, seed=5, phi=-1.5, n_sites=3, intake_missing=2)[0]


def scipy_pmf(family: str, n: int, p: dict[str, float]) -> np.ndarray:
    """Independent reference pmf over 0..30 (zero beyond n)."""
    mu, k = expit(p["eta"]), K
    binom = stats.binom.pmf(k, n, mu)
    if "kappa" in p:
        bb = stats.betabinom.pmf(k, n, mu * p["kappa"], (1 - mu) * p["kappa"])
    if family == "binomial":
        return binom
    if family == "beta-binomial":
        return bb
    pi = expit(p["zeta"])
    if family == "zero-inflated-binomial":
        return pi * (k == 0) + (1 - pi) * binom
    if family == "zero-inflated-beta-binomial":
        return pi * (k == 0) + (1 - pi) * bb
    if family == "hurdle-beta-binomial":
        return np.where(k == 0, pi, (1 - pi) * bb / (1 - bb[0]))
    raise AssertionError(family)


def _evaluate(model, outputs, point):
    """Evaluate graphs of the model's random variables at a point (Python-linked)."""
    fn = model.compile_fn(
        model.replace_rvs_by_values(outputs),
        inputs=model.value_vars,
        on_unused_input="ignore",
        mode="FAST_COMPILE",
    )
    return fn(point)


def _random_point(model, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {k: v + rng.normal(0, 0.6, size=np.shape(v)) for k, v in model.initial_point().items()}


def _row_parameters(model, point, data, family: str) -> tuple[np.ndarray, dict]:
    names = [
        n
        for n in (
            "b0",
            "b_qct",
            "g_wave",
            "d_qct_wave",
            "u_site",
            "v_participant",
            "z_wave",
            "z_qct",
            "kappa",
            "psi_wave",
            "psi_qct",
            "phi",
        )
        if n in model.named_vars
    ]
    v = dict(zip(names, _evaluate(model, [model[n] for n in names], point), strict=True))
    q, w = data.qct, data.wave
    eta = (
        v["b0"]
        + v["b_qct"] * q
        + v["g_wave"][w]
        + v["d_qct_wave"][w] * q
        + v["u_site"][data.site]
        + v["v_participant"][data.participant]
    )
    return eta, v


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_observed_and_missing_terms_match_brute_force(cohort, family: str) -> None:
    spec = spec_from_dict(
        {"outcome": "offending", "likelihood": family, "missingness": {"mechanism": "selection"}}
    )
    model = build_model(cohort, spec)
    data = model_data(cohort, spec)
    point = _random_point(model, seed=11)
    eta, v = _row_parameters(model, point, data, family)
    y_logp, r_logp = (
        np.asarray(a)
        for a in _evaluate(model, model.logp(vars=[model["y"], model["r"]], sum=False), point)
    )

    def params(row: int) -> dict:
        p = {"eta": eta[row]}
        if "z_wave" in v:
            p["zeta"] = v["z_wave"][data.wave[row]] + v["z_qct"] * data.qct[row]
        if "kappa" in v:
            p["kappa"] = float(v["kappa"])
        return p

    # observed outcome rows: log pmf of the observed count
    for j, row in enumerate(data.obs_rows):
        n = int(data.trials[row])
        ref = np.log(scipy_pmf(family, n, params(row))[int(data.y[row])])
        assert y_logp[j] == pytest.approx(ref, abs=1e-8)

    # response indicator rows (t2..t4): observed -> log P(r=1 | y); missing -> brute-force sum
    n_missing = 0
    for j, row in enumerate(data.dropout_rows):
        n = int(data.trials[row])
        logit_r = v["psi_wave"][data.wave[row] - 1] + v["psi_qct"] * data.qct[row]
        if data.observed[row]:
            ref = np.log(expit(logit_r + v["phi"] * data.y[row] / n))
        else:
            n_missing += 1
            pmf = scipy_pmf(family, n, params(row))
            total = sum(pmf[k] * (1 - expit(logit_r + v["phi"] * k / n)) for k in range(n + 1))
            ref = np.log(total)
        assert r_logp[j] == pytest.approx(ref, abs=1e-8)
    assert n_missing > 5


def test_registry_names_follow_the_contract() -> None:
    assert {"mar", "selection"} <= set(MECHANISMS)
    with pytest.raises(KeyError, match="expected one of"):
        get_mechanism("telepathy")
    assert "phi" in get_mechanism("selection").default_priors({"phi": None})
    assert "phi" not in get_mechanism("selection").default_priors({"phi": 0.5})


def test_family_pmfs_sum_to_one_and_vanish_beyond_n() -> None:
    rng = np.random.default_rng(4)
    n = np.array([0.0, 1.0, 7.0, 30.0])
    for family in FAMILIES.values():
        extra = [rng.normal(size=4)] if family.has_zero_part else []
        extra += [np.full(4, 8.0)] if "kappa" in family.param_dims else []
        pmf = family.pmf(n, rng.normal(size=4), *extra, k_max=30)
        assert np.allclose(pmf.sum(axis=-1), 1.0, atol=1e-10), family.name
        for i, ni in enumerate(n):
            assert np.all(pmf[i, int(ni) + 1 :] == 0.0)


def test_mar_model_has_no_response_term(cohort) -> None:
    model = build_model(cohort, spec_from_dict({"outcome": "offending"}))
    assert "r" not in model.named_vars
    assert [v.name for v in model.observed_RVs] == ["y"]
    assert isinstance(model, pm.Model)


def test_prob_any_is_one_minus_the_pmf_at_zero_in_every_family() -> None:
    rng = np.random.default_rng(5)
    n = np.array([0.0, 1.0, 7.0, 30.0, 30.0, 30.0])
    eta = np.array([0.3, -2.0, 1.0, -40.0, 40.0, 0.0])
    for family in FAMILIES.values():
        extra = [rng.normal(size=6)] if family.has_zero_part else []
        extra += [np.full(6, 8.0)] if "kappa" in family.param_dims else []
        pmf = family.pmf(n, eta, *extra, k_max=30)
        np.testing.assert_allclose(
            family.prob_any(n, eta, *extra), 1.0 - pmf[:, 0], atol=1e-12, err_msg=family.name
        )
