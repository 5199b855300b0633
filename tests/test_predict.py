"""predict() on small hand-made posteriors, checked against SciPy brute force."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats
from scipy.special import expit

from bayes_qct.modeling.build import model_data
from bayes_qct.modeling.predict import predict
from bayes_qct.modeling.spec import spec_from_dict
from tests.conftest_model import fake_posterior as shared_fake_posterior
from tests.conftest_model import simulate_cohort

C, D = 2, 5


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(25, seed=7, phi=-1.0, n_sites=3, intake_missing=2)[0]


def fake_posterior(data, *, selection: bool, seed: int = 0) -> xr.Dataset:
    extra = {"phi": -1.0} if selection else None
    return shared_fake_posterior(data, chains=C, draws=D, extra=extra, seed=seed)


def _spec(mechanism: str = "mar", **missingness):
    return spec_from_dict(
        {"outcome": "offending", "missingness": {"mechanism": mechanism, **missingness}}
    )


def _eta_zeta(post: xr.Dataset, data) -> tuple[np.ndarray, np.ndarray]:
    p = {k: post[k].values.reshape(C * D, *post[k].shape[2:]) for k in post.data_vars}
    q, w = data.qct, data.wave
    eta = (
        p["b0"][:, None]
        + p["b_qct"][:, None] * q
        + p["g_wave"][:, w]
        + p["d_qct_wave"][:, w] * q
        + p["u_site"][:, data.site]
        + p["v_participant"][:, data.participant]
    )
    zeta = p["z_wave"][:, w] + p["z_qct"][:, None] * q
    return eta, zeta


def test_zib_expected_rate_prob_any_and_completed(cohort) -> None:
    spec = _spec()
    data = model_data(cohort, spec)
    post = fake_posterior(data, selection=False)
    out = predict(post, cohort, spec, rng=np.random.default_rng(1))
    assert out["expected_rate"].dims == ("chain", "draw", "row")
    assert out.sizes["row"] == len(cohort.data)
    eta, zeta = _eta_zeta(post, data)
    mu, pi = expit(eta), expit(zeta)
    rate = out["expected_rate"].values.reshape(C * D, -1)
    np.testing.assert_allclose(rate, (1 - pi) * mu, rtol=1e-12)
    # brute force: E[y / 30] and P(y > 0) from the ZIB pmf with 30 trials
    k = np.arange(31)
    pmf = pi[..., None] * (k == 0) + (1 - pi[..., None]) * stats.binom.pmf(k, 30, mu[..., None])
    np.testing.assert_allclose(rate, (pmf * k).sum(-1) / 30, rtol=1e-10)
    prob_any = out["prob_any"].values.reshape(C * D, -1)
    np.testing.assert_allclose(prob_any, 1 - pmf[..., 0], rtol=1e-10)
    completed = out["completed"].values.reshape(C * D, -1)
    obs = data.observed
    assert np.all(completed[:, obs] == data.y[obs])
    miss = completed[:, ~obs]
    assert np.all((miss >= 0) & (miss <= data.trials[~obs]) & (miss == np.round(miss)))
    # imputed pmf: sums to 1, vanishes beyond n, equals the draws' average ZIB pmf (MAR)
    imp = out["imputed_pmf"].values
    assert imp.shape == (data.missing_rows.size, 31)
    np.testing.assert_allclose(imp.sum(-1), 1.0, atol=1e-12)
    rows = data.missing_rows
    n = data.trials[rows]
    assert all(np.all(imp[i, int(n[i]) + 1 :] == 0) for i in range(rows.size))
    ref = pi[:, rows, None] * (k == 0) + (1 - pi[:, rows, None]) * stats.binom.pmf(
        k, n[:, None], mu[:, rows, None]
    )
    np.testing.assert_allclose(imp, ref.mean(0), atol=1e-12)
    assert out["participant_id"].dims == ("row",) and "wave" in out.coords


def test_selection_reweights_missing_counts_by_dropout_probability(cohort) -> None:
    spec = _spec("selection")
    data = model_data(cohort, spec)
    post = fake_posterior(data, selection=True)
    out = predict(post, cohort, spec, rng=np.random.default_rng(2))
    eta, zeta = _eta_zeta(post, data)
    mu, pi = expit(eta), expit(zeta)
    psi = post["psi_wave"].values.reshape(C * D, -1)
    psi_q = post["psi_qct"].values.reshape(-1)
    phi = post["phi"].values.reshape(-1)
    k = np.arange(31)
    imp = out["imputed_pmf"].values
    for j, row in enumerate(data.missing_rows):
        n = int(data.trials[row])
        pmf = pi[:, row, None] * (k == 0) + (1 - pi[:, row, None]) * stats.binom.pmf(
            k, n, mu[:, row, None]
        )
        if data.wave[row] > 0:
            logit_r = psi[:, data.wave[row] - 1] + psi_q * data.qct[row]
            pmf = pmf * (1 - expit(logit_r[:, None] + phi[:, None] * k / n))
        ref = (pmf / pmf.sum(-1, keepdims=True)).mean(0)
        np.testing.assert_allclose(imp[j], ref, atol=1e-12)
    # the full-data expected rate is the outcome model's, untouched by the mechanism
    mar = predict(post, cohort, _spec(), rng=np.random.default_rng(2))
    np.testing.assert_allclose(out["expected_rate"], mar["expected_rate"])
    assert not np.allclose(out["imputed_pmf"], mar["imputed_pmf"])


def test_fixed_phi_comes_from_the_spec(cohort) -> None:
    spec = _spec("selection", phi=-3.0)
    data = model_data(cohort, spec)
    post = fake_posterior(data, selection=True).drop_vars("phi")
    free = fake_posterior(data, selection=True)
    free["phi"] = xr.full_like(free["phi"], -3.0)
    a = predict(post, cohort, spec, rng=np.random.default_rng(3))
    b = predict(free, cohort, _spec("selection"), rng=np.random.default_rng(3))
    np.testing.assert_allclose(a["imputed_pmf"], b["imputed_pmf"])


def test_counterfactual_status_and_rebuilt_deterministics(cohort) -> None:
    spec = _spec()
    data = model_data(cohort, spec)
    post = fake_posterior(data, selection=False)
    qct = predict(post, cohort, spec, rng=np.random.default_rng(0), legal_status="QCT")
    own = predict(post, cohort, spec, rng=np.random.default_rng(0))
    is_qct = data.qct == 1
    np.testing.assert_allclose(qct["expected_rate"][..., is_qct], own["expected_rate"][..., is_qct])
    assert not np.allclose(qct["expected_rate"][..., ~is_qct], own["expected_rate"][..., ~is_qct])
    # a posterior without deterministics (free variables only) gives the same predictions
    loc = post["b0"] + post["b_qct"] * xr.DataArray(data.participant_qct, dims="participant")
    loc = loc + post["u_site"].isel(site=xr.DataArray(data.participant_site, dims="participant"))
    loc = loc.drop_vars("site", errors="ignore")
    free = post.drop_vars(["v_participant", "g_wave", "d_qct_wave", "u_site"])
    free["w_participant"] = post["v_participant"] + loc
    free["g_wave_free"] = post["g_wave"].isel(wave=slice(1, None)).rename(wave="followup")
    free["d_qct_wave_free"] = post["d_qct_wave"].isel(wave=slice(1, None)).rename(wave="followup")
    free["u_site_z"] = post["u_site"] / post["sigma_site"]
    free = free.assign_coords(followup=data.coords["followup"])
    again = predict(free, cohort, spec, rng=np.random.default_rng(0))
    np.testing.assert_allclose(again["expected_rate"], own["expected_rate"], rtol=1e-10)
    with pytest.raises(ValueError, match="legal_status"):
        predict(post, cohort, spec, rng=np.random.default_rng(0), legal_status="other")


@pytest.mark.parametrize("mechanism", ["mar", "complete-case"])
def test_participant_levels_rebuilt_with_covariates(cohort, mechanism) -> None:
    """v rebuilt from w matches the model, covariates in the level, and non-centred too.

    Prior draws of a real model hold both the free ``w_participant`` and the
    deterministic ``v_participant``; predicting from w alone must agree. Complete case
    sets the non-completers' outcomes aside, so their intercepts are non-centred.
    """
    import pymc as pm

    from bayes_qct.modeling.build import build_model

    spec = spec_from_dict(
        {
            "outcome": "offending",
            "likelihood": "zero-inflated-binomial",
            "covariates": ["age", "male"],
            "missingness": {"mechanism": mechanism},
        }
    )
    model = build_model(cohort, spec)
    prior = pm.sample_prior_predictive(draws=30, model=model, random_seed=1)["prior"]
    prior = prior.to_dataset() if hasattr(prior, "to_dataset") else prior
    own = predict(prior, cohort, spec, rng=np.random.default_rng(0))
    rebuilt = predict(prior.drop_vars("v_participant"), cohort, spec, rng=np.random.default_rng(0))
    np.testing.assert_allclose(rebuilt["expected_rate"], own["expected_rate"], rtol=1e-8)
    # v ~ N(0, sigma_participant) for everyone, centred or not
    z = (prior["v_participant"] / prior["sigma_participant"]).to_numpy().ravel()
    assert abs(z.std() - 1) < 0.1


def test_row_predictions_are_predict_on_those_rows(cohort) -> None:
    """A sweep predicts only the rows a delta moves and the missing rows: same numbers."""
    from bayes_qct.modeling.predict import Predictor

    spec = _spec("pattern-mixture", delta_qct=1.0, delta_voluntary=-0.5)
    data = model_data(cohort, spec)
    post = fake_posterior(data, selection=False)
    predictor = Predictor(post, cohort, spec)
    moved = predictor.rows_moved(spec.mechanism_params)
    assert moved.size and np.isin(moved, data.missing_rows).all()
    varying = np.union1d(moved, data.missing_rows)
    fixed = np.setdiff1d(np.arange(data.n_rows), varying)
    whole = predictor.predict(rng=np.random.default_rng(5), imputed_pmf=False)
    some = predictor.row_predictions(varying, rng=np.random.default_rng(5))
    rest = predictor.row_predictions(fixed, rng=np.random.default_rng(99))  # rng unused
    for name in ("expected_rate", "prob_any", "completed"):
        np.testing.assert_array_equal(some[name], whole[name].isel(row=varying))
        np.testing.assert_array_equal(rest[name], whole[name].isel(row=fixed))
    assert list(some["row"].to_numpy()) == list(varying)
    with pytest.raises(ValueError, match="every missing row or none"):
        predictor.row_predictions(varying[1:], rng=np.random.default_rng(5))
    selection = _spec("selection", phi=-1.0)
    post = fake_posterior(model_data(cohort, selection), selection=True)
    assert Predictor(post, cohort, selection).row_predictions(varying, rng=None) is None


@pytest.mark.parametrize("legal_status", ["QCT", "voluntary"])
def test_counterfactual_linear_predictor_moves_every_status_term(cohort, legal_status) -> None:
    """Every row as if of one status: b_qct and d_qct_wave both follow the row's new status.

    The model's own split puts a participant's status in their level; predictions from
    draws must not: a counterfactual changes the rows' status and nothing else.
    """
    from bayes_qct.modeling.designs import get_design
    from bayes_qct.modeling.ops import NP

    spec = _spec()
    data = model_data(cohort, spec)
    design = get_design(spec.design)
    post = fake_posterior(data, selection=False)
    values = design.parameter_values(post, data)
    swapped = design.counterfactual(data, legal_status)
    eta = design.linear_predictor(NP, values, swapped)
    q = float(legal_status == "QCT")
    by_hand = (
        values["b0"][:, None]
        + values["b_qct"][:, None] * q
        + values["g_wave"][:, data.wave]
        + values["d_qct_wave"][:, data.wave] * q
        + values["u_site"][:, data.site]
        + values["v_participant"][:, data.participant]
    )
    np.testing.assert_allclose(eta, by_hand, rtol=1e-12, atol=1e-12)
