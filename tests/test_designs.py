"""A second design, added from outside: one row per person, a binary outcome.

It shows the registry's seam: the design below lives in this test, registers itself,
and the generic spec, builder, dropout terms, predictions, estimands and fit pipeline
take it without an edit to the person x wave design or to generic code.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_qct.constants import DIM_SITE, LEGAL_STATUSES
from bayes_qct.fitting import fitfolder as ff
from bayes_qct.fitting.pipeline import run_fit
from bayes_qct.labels import DIFFERENCE, GROUPS_AND_DIFFERENCE
from bayes_qct.modeling.build import build_model, model_data
from bayes_qct.modeling.designs import DESIGNS
from bayes_qct.modeling.designs.base import (
    DIM_DROPOUT,
    DIM_OBS,
    DIM_ROW,
    Design,
    ModelData,
    codes,
    stacked_draws,
)
from bayes_qct.modeling.ops import Ops
from bayes_qct.modeling.predict import predict
from bayes_qct.modeling.priors import make_prior
from bayes_qct.modeling.sample import SampleTimes
from bayes_qct.modeling.spec import spec_from_dict
from bayes_qct.summaries import summarise
from tests.conftest_model import simulate_cohort

FAST = "FAST_COMPILE"


@dataclass(frozen=True)
class PersonData(ModelData):
    """One row per participant: site index and QCT indicator beside the generic arrays."""

    site: np.ndarray
    qct: np.ndarray


class DesistAtT2(Design):
    """No offending at t2 (1) or some (0), one row per participant; site random effect."""

    name = "test-person-t2"
    description = "no offending at t2, one row per participant"
    outcomes: ClassVar[dict[str, str]] = {"desist_t2": "offending_days"}
    mechanisms = ("mar", "selection")
    dropout_terms = "legal_status"

    def default_priors(self, family, *, covariates):
        return {
            "b0": {"dist": "normal", "mu": 0.0, "sigma": 1.5},
            "b_qct": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
            "sigma_site": {"dist": "halfnormal", "sigma": 0.5},
        }

    def dropout_priors(self):
        return {
            "psi0": {"dist": "normal", "mu": 0.5, "sigma": 1.5},
            "psi_qct": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
        }

    def formula(self, outcome, likelihood, covariates):
        return f"{outcome} ~ legal_status + (1 | site), family = bernoulli"

    def model_data(self, cohort, outcome, covariates):
        t2 = cohort.data[cohort.data["wave"].astype(str) == "t2"].reset_index(drop=True)
        days = t2["offending_days"]
        observed = days.notna().to_numpy()
        y = (days.fillna(1).astype(float) == 0).to_numpy(float)
        site, sites = codes(t2["site"])
        rows = np.arange(len(t2))
        return PersonData(
            coords={
                DIM_SITE: sites,
                DIM_ROW: rows.tolist(),
                DIM_OBS: rows[observed].tolist(),
                DIM_DROPOUT: rows.tolist(),
            },
            y=y,
            trials=np.ones(len(t2)),
            observed=observed,
            obs_rows=rows[observed],
            missing_rows=rows[~observed],
            dropout_rows=rows,
            k_max=1,
            reference_trials=1.0,
            row_labels={
                n: t2[n].astype(str).to_numpy()
                for n in ("participant_id", "site", "legal_status", "wave")
            },
            site=site,
            qct=(t2["legal_status"].astype(str) == LEGAL_STATUSES[0]).to_numpy(float),
        )

    def input_fields(self, data):
        return {"site": "site_index", "qct": "qct", "trials": "trials", "y": "y_filled"}

    def counterfactual(self, data, legal_status):
        return replace(data, qct=np.full(data.n_rows, float(legal_status == LEGAL_STATUSES[0])))

    def dropout_keys(self, data, rows):
        return np.stack([data.qct[rows]], axis=1)

    def add_parameters(self, data, priors):
        import pymc as pm

        sigma = make_prior("sigma_site", priors)
        z = pm.ZeroSumNormal("u_site_z", sigma=1.0, dims=DIM_SITE)
        return {
            "b0": make_prior("b0", priors),
            "b_qct": make_prior("b_qct", priors),
            "u_site": pm.Deterministic("u_site", sigma * z, dims=DIM_SITE),
        }

    def add_zero_parameters(self, priors):
        raise ValueError("no zero part in this design")

    def zero_parameter_names(self):
        return []

    def add_dropout_parameters(self, priors):
        return {"psi0": make_prior("psi0", priors), "psi_qct": make_prior("psi_qct", priors)}

    def linear_predictor(self, ops: Ops, values, data):
        return (
            ops.col(values["b0"])
            + ops.col(values["b_qct"]) * data.qct
            + ops.take(values["u_site"], data.site)
        )

    def zero_predictor(self, ops, values, data):
        raise ValueError("no zero part in this design")

    def dropout_predictor(self, ops, values, data):
        return ops.col(values["psi0"]) + ops.col(values["psi_qct"]) * data.qct

    def latent_level(self, ops, values, data):
        raise ValueError("no participant level in this design")

    def parameter_names(self, data):
        return ["b0", "b_qct", "u_site"]

    def parameter_values(self, posterior, data):
        dims = {DIM_SITE: data.coords[DIM_SITE]}
        post = posterior
        if "u_site" not in post:
            post = post.assign(u_site=post["sigma_site"] * post["u_site_z"])
        return {n: stacked_draws(post, n, dims) for n in self.parameter_names(data)}

    def check_statistics(self, *, prior=False):
        return {"mean": lambda y: y.mean(axis=-1)}

    def estimand_draws(self, predictions, cohort, *, standardised=None):
        rate = predictions["expected_rate"]
        status = predictions["legal_status"].to_numpy()
        levels = {g: rate.isel(row=np.flatnonzero(status == g)).mean("row") for g in LEGAL_STATUSES}
        levels["all"] = rate.mean("row")
        levels[DIFFERENCE] = levels[LEGAL_STATUSES[0]] - levels[LEGAL_STATUSES[1]]
        return xr.Dataset(
            {
                "prob_desist": xr.concat(
                    [levels[g] for g in GROUPS_AND_DIFFERENCE], dim="legal_status"
                ).assign_coords(legal_status=list(GROUPS_AND_DIFFERENCE))
            }
        )

    def contrasts(self, draws, *, outcome, model, missingness, weights=None):
        rows = []
        for g in GROUPS_AND_DIFFERENCE:
            stats = summarise(draws["prob_desist"].sel(legal_status=g).to_numpy(), weights=weights)
            rows.append(
                {
                    "outcome": outcome,
                    "model": model,
                    "missingness": missingness,
                    "quantity": "prob_desist",
                    "legal_status": g,
                    "wave": "t2",
                    **stats,
                }
            )
        return pd.DataFrame(rows)

    def tables(self, idata, cohort, outcome, contrasts):
        return {}


@pytest.fixture
def design(monkeypatch):
    instance = DesistAtT2()
    monkeypatch.setitem(DESIGNS, instance.name, instance)
    return instance


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(60, seed=9, phi=-1.0, n_sites=4)[0]


def _spec(mechanism="mar", **extra: Any):
    return spec_from_dict(
        {
            "design": "test-person-t2",
            "outcome": "desist_t2",
            "likelihood": "binomial",
            "missingness": {"mechanism": mechanism, **extra},
            "sampler": {"draws": 50, "chains": 2},
        }
    )


@pytest.mark.parametrize("mechanism", ["mar", "selection"])
def test_the_generic_builder_takes_a_new_design(design, cohort, mechanism):
    spec = _spec(mechanism)
    assert set(spec.priors) >= {"b0", "b_qct", "sigma_site"}
    assert ("psi0" in spec.priors) == (mechanism == "selection")
    model = build_model(cohort, spec)
    point = model.initial_point()
    assert np.isfinite(model.compile_logp(mode=FAST)(point))
    assert np.all(np.isfinite(model.compile_dlogp(mode=FAST)(point)))
    data = model_data(cohort, spec)
    assert data.n_rows == cohort.n_participants and data.k_max == 1
    assert ("legal_status" in spec.formula() and "phi" in spec.formula()) or mechanism == "mar"


def test_a_mechanism_the_design_lacks_is_refused(design):
    from bayes_qct.errors import SpecError

    with pytest.raises(SpecError, match="does not take"):
        _spec("pattern-mixture")
    with pytest.raises(SpecError, match=r"does not take|latent intercept"):
        _spec("shared-parameter")


class FakeSampler:
    def __init__(self, cohort):
        self.cohort = cohort

    def __call__(self, model, settings, *, progress=True):
        rng = np.random.default_rng(0)
        sites = model.coords[DIM_SITE]
        post = xr.Dataset(
            {
                "b0": (("chain", "draw"), rng.normal(0.3, 0.2, (2, 50))),
                "b_qct": (("chain", "draw"), rng.normal(-0.4, 0.2, (2, 50))),
                "sigma_site": (("chain", "draw"), np.abs(rng.normal(0.4, 0.1, (2, 50)))),
                "u_site": (("chain", "draw", DIM_SITE), rng.normal(0, 0.3, (2, 50, len(sites)))),
            },
            coords={"chain": range(2), "draw": range(50), DIM_SITE: list(sites)},
        )
        stats = xr.Dataset({"diverging": (("chain", "draw"), np.zeros((2, 50), bool))})
        obs = np.asarray(model.coords[DIM_OBS])
        observed = xr.Dataset({"y": (DIM_OBS, np.zeros(obs.size))}, coords={DIM_OBS: obs})
        tree = xr.DataTree.from_dict(
            {"posterior": post, "sample_stats": stats, "observed_data": observed}
        )
        return tree, SampleTimes(0.0, 0.0)


def test_the_fit_pipeline_writes_and_reads_back_a_new_design(design, cohort, tmp_path):
    spec = _spec()
    folder = tmp_path / "desist_t2" / "default"
    result = run_fit(cohort, spec, folder=folder, sampler=FakeSampler(cohort), force=False)
    table = result.contrasts.set_index("legal_status")
    assert list(table.index) == list(GROUPS_AND_DIFFERENCE)
    assert 0 < table.loc["QCT", "mean"] < 1
    again = ff.load_fit(folder)
    assert again.spec == spec and again.record.design == "test-person-t2"
    assert again.tables["ppc"]["statistic"].unique().tolist() == ["mean"]
    # predictions of a binary outcome: rates in 0..1, completed values 0 or 1
    preds = predict(again.idata["posterior"], cohort, spec, rng=np.random.default_rng(1))
    assert float(preds["expected_rate"].max()) < 1
    assert set(np.unique(preds["completed"].to_numpy())) <= {0.0, 1.0}


def test_its_dropout_loglik_in_numpy_equals_the_model(design, cohort):
    import pymc as pm

    from bayes_qct.modeling.pointwise import dropout_loglik_draws
    from bayes_qct.modeling.sample import sample_prior

    spec = _spec("selection")
    model = build_model(cohort, spec)
    prior = sample_prior(model, draws=10, seed=3)
    tree = xr.DataTree.from_dict(
        {"posterior": prior["prior"].to_dataset(), "observed_data": prior["observed_data"]}
    )
    reference = pm.compute_log_likelihood(
        tree, model=model, var_names=["r"], extend_inferencedata=False, progressbar=False
    )
    ours = dropout_loglik_draws(tree["posterior"], cohort, spec)
    np.testing.assert_allclose(ours, reference["r"].to_numpy().reshape(10, -1), rtol=1e-10)
