"""The fit stages with a stand-in sampler: reuse of a posterior, and what is written."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_qct.fitting import fitfolder as ff
from bayes_qct.fitting import listing
from bayes_qct.fitting.pipeline import run_fit
from bayes_qct.modeling.build import model_data
from bayes_qct.modeling.sample import SampleTimes
from bayes_qct.modeling.spec import load_spec
from tests.conftest_model import fake_posterior, simulate_cohort


class FakeSampler:
    """Posterior-shaped draws without MCMC; counts its calls."""

    def __init__(self, cohort):
        self.cohort = cohort
        self.calls = 0

    def __call__(self, model, settings, *, progress=True):
        self.calls += 1
        spec = load_spec("offending")
        data = model_data(self.cohort, spec)
        post = fake_posterior(data, chains=2, draws=100, seed=self.calls)
        post["sigma_participant"] = post["sigma_site"] + 0.5
        rng = np.random.default_rng(self.calls)
        stats = xr.Dataset(
            {
                "diverging": (("chain", "draw"), np.zeros((2, 100), bool)),
                "energy": (("chain", "draw"), rng.normal(size=(2, 100))),
            },
            coords={"chain": post["chain"], "draw": post["draw"]},
        )
        observed = xr.Dataset({"y": ("obs", data.y[data.obs_rows])}, coords={"obs": data.obs_rows})
        tree = xr.DataTree.from_dict(
            {"posterior": post, "sample_stats": stats, "observed_data": observed}
        )
        return tree, SampleTimes(0.0, 0.0)


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(30, seed=7, phi=-1.0, n_sites=3)[0]


def test_pattern_mixture_reuses_the_mar_posterior(tmp_path, cohort):
    sampler = FakeSampler(cohort)
    root = tmp_path / "offending"
    mar_spec = load_spec("offending")
    mar = run_fit(
        cohort, mar_spec, folder=root / "default", sampler=sampler, force=False, root=root
    )
    assert sampler.calls == 1 and mar.posterior_from is None
    pm_spec = load_spec("offending", overrides={"missingness": "pattern-mixture", "delta": -1.0})
    folder = root / pm_spec.model_label()
    shifted = run_fit(cohort, pm_spec, folder=folder, sampler=sampler, force=False, root=root)
    assert sampler.calls == 1, "pattern-mixture resampled instead of reusing the MAR draws"
    assert shifted.posterior_from == str(root / "default")
    assert ff.load_fit(folder).record.posterior_from == str(root / "default")
    assert ff.load_fit(folder).spec == pm_spec
    # the same draws and diagnostics, other predictions on the missed waves
    a = xr.open_datatree(root / "default" / "posterior.nc")
    b = xr.open_datatree(folder / "posterior.nc")
    np.testing.assert_array_equal(a["posterior"]["b0"].values, b["posterior"]["b0"].values)
    assert shifted.diagnostics == mar.diagnostics
    key = ["quantity", "legal_status", "wave"]
    left = mar.contrasts.set_index(key)["mean"]
    right = shifted.contrasts.set_index(key)["mean"]
    assert left[("expected_days", "QCT", "t1")] == right[("expected_days", "QCT", "t1")]
    assert right[("expected_days", "QCT", "t4")] < left[("expected_days", "QCT", "t4")]
    # rerun: the unchanged fit itself is reused
    again = run_fit(cohort, pm_spec, folder=folder, sampler=sampler, force=False, root=root)
    assert again.reused and sampler.calls == 1
    # force resamples
    run_fit(cohort, pm_spec, folder=folder, sampler=sampler, force=True, root=root)
    assert sampler.calls == 2


def test_selection_at_another_phi_is_not_reused(tmp_path, cohort):
    sampler = FakeSampler(cohort)
    root = tmp_path / "offending"
    one = load_spec("offending", overrides={"missingness": "selection", "phi": -1.0})
    two = load_spec("offending", overrides={"missingness": "selection", "phi": -2.0})
    sampler_spec_fit = run_fit(
        cohort, one, folder=root / one.model_label(), sampler=sampler, force=False, root=root
    )
    assert sampler_spec_fit.posterior_from is None
    run_fit(cohort, two, folder=root / two.model_label(), sampler=sampler, force=False, root=root)
    assert sampler.calls == 2
    fits = listing.fits_table(root)
    assert len(fits) == 2 and set(fits["missingness"]) == {"selection"}
    assert set(fits["parameters"]) == {"phi = -1", "phi = -2"}


def test_fit_json_records_both_hashes_and_the_mapping(tmp_path):
    from bayes_qct.api import load_cohort

    cohort, _ = simulate_cohort(20, seed=4, n_sites=3)
    data = cohort.data.rename(columns={"participant_id": "client"})
    path = tmp_path / "mine.csv"
    data.to_csv(path, index=False)
    mapping = tmp_path / "map.toml"
    mapping.write_text('[columns]\nclient = "participant_id"\n')
    mapped = load_cohort(path, mapping=mapping)
    sampler = FakeSampler(mapped)
    result = run_fit(
        mapped, load_spec("offending"), folder=tmp_path / "fit", sampler=sampler, force=False
    )
    record = ff.load_fit(result.folder).record.data
    assert record["file_sha256"] != record["sha256"]  # the file alone vs file + mapping
    assert record["mapping"]["path"].endswith("map.toml")
    assert record["mapping"]["content"] == {"columns": {"client": "participant_id"}}
    assert len(record["mapping"]["sha256"]) == 64


def test_compare_ranking_flags_a_family_whose_fit_failed(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from bayes_qct.estimands.diagnostics import Diagnostics
    from bayes_qct.fitting import families

    cohort = simulate_cohort(20, seed=2, n_sites=3)[0]
    failed = Diagnostics(1, 400, 1.025, "b0", 300.0, "b0", 300.0, "b0", 0.08, ("E-BFMI 0.08",))
    passed = Diagnostics(0, 400, 1.003, "b0", 900.0, "b0", 900.0, "b0", 0.9)
    posterior = FakeSampler(cohort)(None, None)[0]["posterior"]

    def fake_fit(cohort_, spec, **kwargs):
        bad = spec.likelihood == "binomial"
        return SimpleNamespace(
            reused=False,
            diagnostics=failed if bad else passed,
            idata={"posterior": posterior},
        )

    monkeypatch.setattr(families, "run_fit", fake_fit)
    result, path = families.run_comparison(
        cohort,
        "offending",
        ["zero-inflated-binomial", "binomial"],
        sampler=None,
        root=tmp_path,
        kfold=None,
    )
    table = result.table.set_index("family")
    assert table.loc["binomial", "verdict"].startswith("NOT CONVERGED")
    assert table.loc["zero-inflated-binomial", "verdict"] == "converged"
    assert any(note.startswith("NOT CONVERGED: binomial") for note in result.notes)
    assert "verdict" in pd.read_csv(path).columns


def test_kfold_refits_are_kept_and_reused(tmp_path):
    from bayes_qct.estimands.compare import mask_participants
    from bayes_qct.fitting.families import kfold_refitter

    cohort = simulate_cohort(20, seed=2, n_sites=3)[0]
    sampler = FakeSampler(cohort)

    def fake(model, settings, *, progress=True):
        return sampler(model, settings)

    spec = load_spec("offending", overrides={"likelihood": "binomial"})
    held = mask_participants(cohort, {"p001", "p002"}, "offending")
    refit = kfold_refitter(fake, lambda message: None, folder=tmp_path)
    first = refit(held, spec)
    again = kfold_refitter(fake, lambda message: None, folder=tmp_path)(held, spec)
    assert sampler.calls == 1
    np.testing.assert_array_equal(first["b0"].values, again["b0"].values)
    other = mask_participants(cohort, {"p003"}, "offending")
    refit(other, spec)
    assert sampler.calls == 2
