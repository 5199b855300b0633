"""Fit folders: files and columns, reuse/refuse logic, atomic writes, reading back."""

from __future__ import annotations

import json
import subprocess
import sys

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_qct.errors import BadInputError, RefusedOverwriteError
from bayes_qct.estimands.diagnostics import diagnose, parameter_summary
from bayes_qct.fitting import fitfolder as ff
from bayes_qct.fitting import listing
from bayes_qct.fitting.record import FitKey, FitRecord
from bayes_qct.modeling.designs.person_wave_estimands import CONTRAST_COLUMNS
from bayes_qct.modeling.spec import spec_from_dict

RAW = {"name": "default", "outcome": "offending", "sampler": {"draws": 1000, "seed": 1}}
SPEC = spec_from_dict(RAW)


def record_of(key, spec=SPEC):
    return FitRecord(
        key=key,
        outcome="offending",
        model="default",
        design=spec.design,
        likelihood=spec.likelihood,
        missingness={"mechanism": "mar", "kind": "mechanism", "summary": "-"},
        data={"label": "unit test data"},
        spec=spec.to_dict(),
        spec_source=spec.source,
        spec_overridden=[],
        seed=spec.sampler.seed,
        sampler={},
        versions={},
    )


def fake_idata(seed=0):
    rng = np.random.default_rng(seed)
    return az.from_dict(
        {
            "posterior": {
                "b0": rng.normal(size=(2, 50)),
                "sigma_site": np.abs(rng.normal(size=(2, 50))),
                "u_site": rng.normal(size=(2, 50, 3)),
            },
            "sample_stats": {
                "diverging": np.zeros((2, 50), bool),
                "energy": rng.normal(size=(2, 50)),
            },
            "posterior_predictive": {"y": rng.integers(0, 31, (2, 50, 4)).astype(float)},
            "log_likelihood": {"y": rng.normal(size=(2, 50, 4))},
            "observed_data": {"y": np.array([0.0, 3, 30, 12])},
            "constant_data": {"trials": np.full(4, 30.0)},
        },
        dims={"u_site": ["site"], "y": ["obs"], "trials": ["obs"]},
        coords={"site": ["A", "B", "C"], "obs": [0, 1, 2, 5]},
    )


def fake_contrasts():
    row = dict.fromkeys(CONTRAST_COLUMNS, 1.0)
    row.update(
        outcome="offending",
        model="default",
        missingness="mar",
        quantity="expected_days",
        legal_status="QCT",
        wave="t1",
        ci_kind="eti",
        ci_prob=0.95,
        prob_positive=np.nan,
    )
    return pd.DataFrame([row], columns=list(CONTRAST_COLUMNS))


def write(folder, key, *, force=False, seed=0):
    idata = fake_idata(seed)
    summary = parameter_summary(idata)
    diagnostics = diagnose(idata, summary)
    record = record_of(key)
    record.set_diagnostics(diagnostics)
    return ff.write_fit_folder(
        folder,
        idata=idata,
        summary=summary,
        contrasts=fake_contrasts(),
        record=record,
        tables={"ppc": pd.DataFrame({"statistic": ["mean"], "observed": [1.0]})},
        formula="offending_days | trials(days_at_liberty) ~ legal_status * wave",
        force=force,
    )


def key(**changes):
    values = {"data_sha256": "a" * 64, "posterior_fingerprint": "p1", "spec_fingerprint": "f1"}
    return FitKey(**{**values, **changes})


def test_write_and_load_roundtrip(tmp_path):
    folder = write(tmp_path / "offending" / "default", key())
    names = {p.name for p in folder.iterdir()}
    assert {"posterior.nc", "summary.csv", "contrasts.csv", "fit.json"} <= names
    assert {"ppc.csv", "formula.txt"} <= names
    assert not [p for p in tmp_path.rglob(".*tmp")], "temporary folder left behind"

    result = ff.load_fit(folder)
    assert list(result.contrasts.columns) == list(CONTRAST_COLUMNS)
    assert {
        "parameter",
        "mean",
        "sd",
        "eti95_lb",
        "eti95_ub",
        "ess_bulk",
        "ess_tail",
        "r_hat",
    } <= set(result.summary.columns)
    assert result.diagnostics is not None and result.diagnostics.n_draws == 100
    assert result.formula.startswith("offending_days")
    assert "ppc" in result.tables and "unit test data" in result.heading
    groups = set(result.idata.children)
    assert {
        "posterior",
        "posterior_predictive",
        "log_likelihood",
        "sample_stats",
        "observed_data",
        "constant_data",
    } <= groups
    assert result.idata["posterior"]["u_site"].shape == (2, 50, 3)
    assert json.loads((folder / "fit.json").read_text())["files"]


def test_decide_new_reuse_refuse_force(tmp_path):
    folder = tmp_path / "fit"
    assert ff.decide(folder, key(), SPEC, force=False) == "new"
    write(folder, key())
    assert ff.decide(folder, key(), SPEC, force=False) == "reuse"
    assert ff.decide(folder, key(), SPEC, force=True) == "refit"

    changed_spec = spec_from_dict({**RAW, "sampler": {"draws": 500, "seed": 1}})
    with pytest.raises(RefusedOverwriteError, match=r"spec\.sampler\.draws: 1000 -> 500") as err:
        ff.decide(folder, key(spec_fingerprint="f2"), changed_spec, force=False)
    assert err.value.exit_code == 4
    with pytest.raises(RefusedOverwriteError, match=r"data .* hash: aaaaaaaaaaaa -> bbbbbbbbbbbb"):
        ff.decide(folder, key(data_sha256="b" * 64), SPEC, force=False)
    with pytest.raises(RefusedOverwriteError, match="toolkit version"):
        ff.decide(folder, key(toolkit_version="0.0.1"), SPEC, force=False)
    assert ff.decide(folder, key(spec_fingerprint="f2"), changed_spec, force=True) == "refit"


def test_folder_without_fit_json_is_refused(tmp_path):
    folder = tmp_path / "fit"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(RefusedOverwriteError, match=r"no fit\.json"):
        ff.decide(folder, key(), SPEC, force=False)


def test_interrupted_write_leaves_old_fit(tmp_path, monkeypatch):
    folder = write(tmp_path / "fit", key())
    before = (folder / "fit.json").read_text()

    def boom(*args, **kwargs):
        raise RuntimeError("interrupted")

    monkeypatch.setattr(ff, "write_idata", boom)
    with pytest.raises(RuntimeError):
        write(folder, key(spec_fingerprint="f2"), force=True)
    assert (folder / "fit.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fit"]


def test_matching_prior_check_is_kept_on_refit(tmp_path):
    folder = tmp_path / "fit"
    prior = xr.DataTree.from_dict({"prior": xr.Dataset({"b0": ("draw", np.zeros(3))})})
    table = pd.DataFrame({"statistic": ["share_zero"]})
    ff.write_prior_folder(folder, prior=prior, table=table, record=record_of(key()), force=False)
    assert ff.decide(folder, key(), SPEC, force=False) == "new"
    write(folder, key())
    assert (folder / "prior" / "prior.json").exists()
    write(folder, key(spec_fingerprint="f2"), force=True)
    assert not (folder / "prior").exists()


def test_load_fit_names_missing_files(tmp_path):
    with pytest.raises(BadInputError, match=r"posterior\.nc"):
        ff.load_fit(tmp_path)


def test_load_fit_imports_no_sampler(tmp_path):
    folder = write(tmp_path / "fit", key())
    code = (
        "import sys; from bayes_qct.api import load_fit; "
        f"r = load_fit({str(folder)!r}); r.contrasts; r.summary; "
        "bad = [m for m in ('pymc', 'nutpie', 'numpyro', 'jax', 'pytensor') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_fit_record_reads_back_into_its_spec(tmp_path):
    from bayes_qct.modeling.spec import load_spec

    spec = load_spec("offending", overrides={"missingness": "selection", "phi": -1.0})
    record = record_of(key(), spec)
    record.spec_overridden = [list(item) for item in spec.overridden]
    record.spec_source = spec.source
    again = FitRecord.from_dict(json.loads(ff.to_json(record.to_dict())))
    assert again.model_spec() == spec
    assert again.key == record.key
    folder = write(tmp_path / "fit", key())
    assert ff.load_fit(folder).spec == SPEC


def test_list_fits_names_outcome_mechanism_and_verdict(tmp_path):
    write(tmp_path / "offending" / "default", key())
    write(tmp_path / "offending" / "other", key(spec_fingerprint="f9"), seed=1)
    (tmp_path / "offending" / ".default.tmp").mkdir()  # a write in progress is skipped
    table = listing.fits_table(tmp_path)
    assert list(table["folder"]) == [
        str(tmp_path / "offending" / "default"),
        str(tmp_path / "offending" / "other"),
    ]
    assert set(table["outcome"]) == {"offending"} and set(table["missingness"]) == {"mar"}
    assert set(table["verdict"]) <= {"converged", "NOT CONVERGED"}


def test_find_posterior_matches_the_posterior_key_only(tmp_path):
    folder = write(tmp_path / "fit", key())
    assert listing.find_posterior(key(spec_fingerprint="other"), [folder]) == folder
    assert listing.find_posterior(key(posterior_fingerprint="p2"), [folder]) is None
    assert listing.find_posterior(key(data_sha256="b" * 64), [folder]) is None


def test_posterior_nc_opens_in_arviz_with_list_attributes(tmp_path):
    folder = write(tmp_path / "fit", key())
    tree = ff.open_posterior(folder)
    sample_dims = tree["posterior"].attrs.get("sample_dims")
    assert sample_dims is None or list(sample_dims) == ["chain", "draw"]
    assert az.summary(tree, var_names=["b0"]).shape[0] == 1
