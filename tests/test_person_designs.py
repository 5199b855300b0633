"""The participant-level designs (desistance, retention, days retained) without MCMC.

Builder (finite log-probability and gradient), NumPy dropout term equal to the model's,
refusals of bad inputs and of families and mechanisms the designs do not take, the
frequentist refit against statsmodels, estimands from known draws, the fit pipeline with
a stand-in sampler, companions and the terminal rendering.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import xarray as xr
from typer.testing import CliRunner

import bayes_qct
from bayes_qct.cli import app
from bayes_qct.constants import DIM_SITE, RETENTION_DAYS
from bayes_qct.data.paper import load_registry
from bayes_qct.errors import BadInputError, SpecError
from bayes_qct.fitting import fitfolder as ff
from bayes_qct.fitting.companions import companion_specs, fit_companions
from bayes_qct.fitting.pipeline import run_fit
from bayes_qct.frequentist.logistic import RESPONSE, TABLE1_TERMS, logistic_frame
from bayes_qct.labels import DIFFERENCE
from bayes_qct.modeling.build import build_model, model_data
from bayes_qct.modeling.designs.base import DIM_OBS
from bayes_qct.modeling.designs.person_data import DIM_COVARIATE
from bayes_qct.modeling.designs.person_estimands import bayes_r2
from bayes_qct.modeling.sample import SampleTimes
from bayes_qct.modeling.spec import load_spec
from bayes_qct.reporting.fit_text import fit_text

FAST = "FAST_COMPILE"
runner = CliRunner()


@pytest.fixture(scope="module")
def cohort():
    return bayes_qct.load_cohort()


def test_one_row_per_participant_with_the_papers_units(cohort):
    data = model_data(cohort, load_spec("desistance"))
    assert data.n_rows == cohort.n_participants == 157
    assert data.obs_rows.size == 105 and data.k_max == 1 and data.site_two == "S02"
    assert set(np.unique(data.y[data.obs_rows])) == {0.0, 1.0}
    names = list(data.covariate_names)
    assert names[:2] == ["composite_drug_score", "age"] and "stage_of_change[action]" in names
    age = cohort.participants()["age"].astype(float)
    assert data.term_scale[names.index("age")] == pytest.approx(1 / age.std(ddof=1))
    assert np.allclose(data.x.mean(axis=0), 0.0)
    days = model_data(cohort, load_spec("days-retained"))
    assert days.k_max == RETENTION_DAYS and days.obs_rows.size == 155
    assert model_data(cohort, load_spec("retention")).obs_rows.size == 157


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("desistance", {}),
        ("desistance", {"missingness": "selection"}),
        ("desistance-site2", {}),
        ("days-retained", {}),
    ],
)
def test_finite_logp_and_gradient(cohort, name, overrides):
    model = build_model(cohort, load_spec(name, overrides=overrides))
    point = model.initial_point()
    assert np.isfinite(model.compile_logp(mode=FAST)(point))
    assert np.all(np.isfinite(model.compile_dlogp(mode=FAST)(point)))


def test_the_selection_terms_in_numpy_equal_the_model(cohort):
    import pymc as pm

    from bayes_qct.modeling.pointwise import dropout_loglik_draws
    from bayes_qct.modeling.sample import sample_prior

    spec = load_spec("desistance", overrides={"missingness": "selection"})
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


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"likelihood": "zero-inflated-binomial"}, "likelihood"),
        ({"missingness": "shared-parameter"}, "missingness.mechanism"),
        ({"missingness": "complete-case"}, "missingness.mechanism"),
    ],
)
def test_families_and_mechanisms_the_design_lacks_are_refused(overrides, field):
    with pytest.raises(SpecError, match=r"does not take|latent intercept") as info:
        load_spec("desistance", overrides=overrides)
    assert any(p.column and p.column.startswith("--") for p in info.value.problems), field


def _write(tmp_path, table: pd.DataFrame) -> str:
    path = tmp_path / "cohort.csv"
    table.to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize(
    ("change", "column"),
    [
        (lambda t: t.drop(columns="composite_drug_score"), "composite_drug_score"),
        (lambda t: t.assign(male=1), "male"),
        (lambda t: t.drop(columns="days_retained"), "days_retained"),
    ],
)
def test_bad_inputs_exit_2_naming_the_column(tmp_path, cohort, change, column):
    table = change(cohort.data.copy())
    outcome = "days-retained" if column == "days_retained" else "desistance"
    out = tmp_path / "fit"
    result = runner.invoke(
        app, ["fit", outcome, "--data", _write(tmp_path, table), "--out", str(out)]
    )
    assert result.exit_code == 2, result.output
    assert column in result.output
    assert not out.exists()


def test_a_covariate_with_one_value_is_refused_before_building(cohort):
    table = cohort.data.assign(homeless=0.0)
    with pytest.raises(BadInputError, match="one value") as info:
        model_data(cohort.with_data(table), load_spec("desistance"))
    assert [p.column for p in info.value.problems] == ["homeless"]


# ------------------------------------------------------------------ draws without MCMC


def fake_posterior(model, spec, *, chains=2, draws=200, seed=0):
    """Posterior-shaped draws of every free parameter of a participant-level model."""
    rng = np.random.default_rng(seed)
    coords = {"chain": range(chains), "draw": range(draws)}
    post = {}
    for name, loc in (("b0", 0.6), ("b_qct", 0.3), ("psi0", 0.7), ("psi_qct", 0.0)):
        post[name] = (("chain", "draw"), loc + 0.2 * rng.normal(size=(chains, draws)))
    if "phi" in spec.priors:
        post["phi"] = (("chain", "draw"), 0.5 * rng.normal(size=(chains, draws)))
    if DIM_SITE in model.coords and "sigma_site" in spec.priors:
        sites = list(model.coords[DIM_SITE])
        post["sigma_site"] = (("chain", "draw"), np.abs(rng.normal(0.5, 0.1, (chains, draws))))
        u = rng.normal(0, 0.4, (chains, draws, len(sites)))
        post["u_site"] = (("chain", "draw", DIM_SITE), u - u.mean(axis=-1, keepdims=True))
        coords[DIM_SITE] = sites
    if "b_site2" in spec.priors:
        post["b_site2"] = (("chain", "draw"), -1.0 + 0.3 * rng.normal(size=(chains, draws)))
    if DIM_COVARIATE in model.coords:
        terms = list(model.coords[DIM_COVARIATE])
        post["beta_cov"] = (
            ("chain", "draw", DIM_COVARIATE),
            0.3 * rng.normal(size=(chains, draws, len(terms))),
        )
        coords[DIM_COVARIATE] = terms
    if "kappa" in spec.priors:
        post["kappa"] = (("chain", "draw"), rng.gamma(20.0, 0.2, (chains, draws)))
    return xr.Dataset(post, coords=coords)


class FakeSampler:
    """Stand-in for sample_model: posterior-shaped draws, no sampling."""

    def __init__(self, spec, cohort, *, diverging=0, draws=200):
        self.spec = spec
        self.draws = draws
        self.data = model_data(cohort, spec)
        self.calls = 0
        self.diverging = diverging

    def __call__(self, model, settings, *, progress=True):
        self.calls += 1
        post = fake_posterior(model, self.spec, draws=self.draws, seed=self.calls)
        diverging = np.zeros((2, self.draws), bool)
        diverging[0, : self.diverging] = True
        stats = xr.Dataset(
            {
                "diverging": (("chain", "draw"), diverging),
                "energy": (
                    ("chain", "draw"),
                    np.random.default_rng(1).normal(size=(2, self.draws)),
                ),
            },
            coords={"chain": post["chain"], "draw": post["draw"]},
        )
        obs = np.asarray(model.coords[DIM_OBS])
        observed = xr.Dataset({"y": (DIM_OBS, self.data.y[obs])}, coords={DIM_OBS: obs})
        tree = xr.DataTree.from_dict(
            {"posterior": post, "sample_stats": stats, "observed_data": observed}
        )
        return tree, SampleTimes(0.0, 0.0)


def fake_fit(cohort, spec, folder, *, diverging=0, draws=200):
    sampler = FakeSampler(spec, cohort, diverging=diverging, draws=draws)
    return run_fit(cohort, spec, folder=folder, sampler=sampler, force=False)


def test_the_frequentist_refit_is_statsmodels_and_the_paper_is_the_registry(tmp_path, cohort):
    spec = load_spec("desistance")
    result = fake_fit(cohort, spec, tmp_path / "desistance" / "default")
    table = result.tables["odds_ratios"].set_index("term")
    frame = logistic_frame(cohort)[[RESPONSE, *TABLE1_TERMS]].dropna()
    reference = sm.Logit(frame[RESPONSE], sm.add_constant(frame[list(TABLE1_TERMS)])).fit(disp=0)
    ours = {"composite_drug_score": "drug_score_z", "age": "age", "site2": "site2"}
    ours["stage_of_change[action]"] = "action"
    for term, theirs in ours.items():
        assert table.loc[term, "refit_or"] == pytest.approx(np.exp(reference.params[theirs]))
        assert table.loc[term, "refit_n"] == len(frame) == 105
    registry = load_registry()
    assert table.loc["site2", "paper_or"] == registry.get("offending.logistic.or.site2").value
    assert np.isnan(table.loc["male", "paper_or"])
    stats = result.tables["fit_statistics"].set_index("source")
    assert stats["value"].iloc[-1] == registry.get("offending.logistic.nagelkerke_r2").value


def test_estimands_from_known_draws(tmp_path, cohort):
    spec = load_spec("desistance")
    result = fake_fit(cohort, spec, tmp_path / "desistance" / "default")
    posterior = result.idata["posterior"]
    b_qct = posterior["b_qct"].to_numpy().ravel()
    contrasts = result.contrasts.set_index(["quantity", "legal_status"])
    odds = contrasts.loc[("odds_ratio", DIFFERENCE)]
    assert odds["mean"] == pytest.approx(np.exp(b_qct).mean())
    assert odds["prob_positive"] == pytest.approx((b_qct > 0).mean())
    assert ("odds_ratio", "QCT") not in contrasts.index
    assert contrasts.loc[("probability", DIFFERENCE), "n_observed"] == 41
    assert set(result.contrasts["wave"]) == {"t2"}
    assert bayes_r2(np.array([[0.5, 0.5]]))[0] == 0.0


def test_a_fit_folder_reads_back_and_is_listed(tmp_path, cohort):
    spec = load_spec("days-retained")
    folder = tmp_path / "days-retained" / "default"
    fake_fit(cohort, spec, folder)
    again = ff.load_fit(folder)
    assert again.spec == spec and again.record.design == "days-retained"
    assert {"odds_ratios", "site_effects", "observed_vs_model", "paper_checks"} <= set(again.tables)
    assert list(again.contrasts.columns)[:4] == ["outcome", "model", "missingness", "quantity"]
    fits = bayes_qct.list_fits(tmp_path)
    assert fits["design"].tolist() == ["days-retained"]
    checks = again.tables["paper_checks"].iloc[0]
    assert checks["paper"] == 0.28 and 0 < checks["observed"] < 1


def test_companions_carry_the_command_line_choices():
    spec = load_spec("desistance")
    pairs = companion_specs(spec, overrides={"draws": 200})
    labels = [(c.key, s.design, s.model_label()) for c, s in pairs]
    assert labels == [
        ("site2", "desistance-site2", "site2-dummy"),
        ("selection", "desistance", "default-selection"),
    ]
    assert all(s.sampler.draws == 200 for _, s in pairs)
    chosen = load_spec("desistance", overrides={"missingness": "selection"})
    pairs = companion_specs(chosen, overrides={"missingness": "selection"})
    assert [s.model_label() for _, s in pairs] == ["site2-dummy-selection"]
    pairs = companion_specs(load_spec("retention"), overrides={"draws": 300, "likelihood": None})
    days = dict((c.key, s) for c, s in pairs)["days"]
    assert days.outcome == "days-retained" and days.sampler.draws == 300


@pytest.mark.parametrize("name", ["desistance", "retention"])
def test_the_rendering_puts_the_paper_beside_the_posterior_in_80_columns(tmp_path, cohort, name):
    spec = load_spec(name)
    main = fake_fit(cohort, spec, tmp_path / "desistance" / "default")

    def fit(cohort, spec, *, out, force, progress):
        return fake_fit(cohort, spec, out or tmp_path / spec.outcome / spec.model_label())

    companions = fit_companions(cohort, spec, fit=fit)
    text = fit_text(main, companions)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "SYNTHETIC" in text and "P(QCT - voluntary > 0)" in text
    if name == "desistance":
        for expected in ("1.94 [1.23, 3.10]", "S02 (site 2)", "Table 1 (stepwise)", "phi"):
            assert expected in text
        assert "0.384" in text and "Against Table 1: QCT vs voluntary OR" in text
    else:  # in treatment beside days retained, each beside the paper's levels
        assert "53%" in text and "117.0" in text and "== days retained" in text
        # in treatment is known for everyone: its full-data difference is not a probability
        assert "no outcome missing, so it is the sample's own difference" in " ".join(text.split())


def test_strict_exits_3_when_a_companion_fit_fails(tmp_path, cohort):
    """The main fit and its companions are reused from disk: no sampler runs here."""
    spec = load_spec("desistance")
    out = tmp_path / "fit"
    fake_fit(cohort, spec, out, draws=1000)  # independent draws: diagnostics pass
    for companion, resolved in companion_specs(spec):
        folder = out.parent / f"{out.name}-{companion.key}"
        failing = 5 if companion.key == "site2" else 0
        fake_fit(cohort, resolved, folder, diverging=failing, draws=1000)
    result = runner.invoke(app, ["fit", "desistance", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "this fit: Converged" in result.output  # only the companion failed
    assert "WARNING fixed site-2 dummy (Table 1)" in result.output
    assert "SYNTHETIC" in result.output and "missingness: mar" in result.output
    assert runner.invoke(app, ["fit", "desistance", "--out", str(out), "--strict"]).exit_code == 3


def test_the_report_lists_the_participant_fits_beside_the_paper(tmp_path, cohort):
    """The section alone (test_report checks that every report has it, in its place)."""
    from types import SimpleNamespace

    from bayes_qct.reporting.sections_person import person_section

    root = tmp_path / "posterior"
    fake_fit(cohort, load_spec("desistance"), root / "desistance" / "default")
    section = person_section(SimpleNamespace(root=root))
    assert [p.title for p in section.parts] == ["desistance"]
    odds = next(t for t in section.all_tables() if "odds ratios" in t.caption)
    site2 = next(r for r in odds.rows if r[0].startswith("site 2"))
    assert site2[4] == "0.26 [0.10, 0.70]" and site2[5] != "-"  # Table 1 and the refit
    assert "SYNTHETIC" in odds.source and "missingness: mar" in odds.source
    levels = next(t for t in section.all_tables() if "by legal status" in t.caption)
    assert levels.rows[-1][0] == "QCT - voluntary" and "P(> 0)" in levels.rows[-1][3]
    r2 = next(t for t in section.all_tables() if "R-squared" in t.caption)
    assert [r[0] for r in r2.rows] == ["bayes_r2", "nagelkerke_r2", "nagelkerke_r2"]
    assert "bayes-qct fit retention" in section.all_missing()
    assert "bayes-qct fit desistance" not in section.all_missing()
