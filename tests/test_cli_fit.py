"""`bayes-qct fit`: refusals, reuse without samplers, --strict, --prior-only (no MCMC)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from bayes_qct.api import load_cohort
from bayes_qct.cli import app
from bayes_qct.data.simulate import simulate_cohort
from bayes_qct.estimands.diagnostics import diagnose, parameter_summary
from bayes_qct.fitting import fitfolder as ff
from bayes_qct.fitting.record import FitKey, FitRecord
from bayes_qct.modeling.designs.person_wave_estimands import contrasts_table, estimand_draws
from bayes_qct.modeling.spec import load_spec

runner = CliRunner()


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    df, _ = simulate_cohort(n_participants=30, n_sites=4, seed=2)
    path = tmp_path_factory.mktemp("data") / "cohort.csv"
    df.to_csv(path, index=False)
    return path


def fake_fit(folder, data_file, *, diverging=0):
    """A fit folder as `fit` would write it, from random draws (no sampling)."""
    import arviz as az

    cohort = load_cohort(data_file)
    spec = load_spec("offending")
    rng = np.random.default_rng(0)
    n = len(cohort.data)
    preds = xr.Dataset(
        {
            "expected_rate": (("chain", "draw", "row"), rng.uniform(0.05, 0.6, (2, 500, n))),
            "prob_any": (("chain", "draw", "row"), rng.uniform(0, 1, (2, 500, n))),
            "completed": (("chain", "draw", "row"), rng.integers(0, 31, (2, 500, n))),
        }
    )
    contrasts = contrasts_table(
        estimand_draws(preds, cohort), outcome="offending", model="default", missingness="mar"
    )
    div = np.zeros((2, 500), bool)
    div[0, :diverging] = True
    idata = az.from_dict(
        {
            "posterior": {"b0": rng.normal(size=(2, 500))},
            "sample_stats": {"diverging": div, "energy": rng.normal(size=(2, 500))},
        }
    )
    summary = parameter_summary(idata)
    record = FitRecord.create(cohort, spec, FitKey.of(cohort, spec), versions={})
    record.set_diagnostics(diagnose(idata, summary))
    record.wall_times = {"sampling_s": 1.0}
    ff.write_fit_folder(
        folder,
        idata=idata,
        summary=summary,
        contrasts=contrasts,
        record=record,
        tables={},
        formula=spec.formula(),
        force=False,
    )
    return folder


def invoke(*args):
    return runner.invoke(app, ["fit", *map(str, args)], env={"COLUMNS": "200"})


def test_help_lists_the_options():
    result = runner.invoke(app, ["fit", "offending", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--data", "--mapping", "--model", "--likelihood", "--missingness", "--draws"):
        assert option in result.output
    for option in ("--tune", "--chains", "--seed", "--sampler", "--out", "--force", "--strict"):
        assert option in result.output
    assert "--prior-only" in result.output


def test_mechanism_options_come_from_the_registry():
    result = runner.invoke(app, ["fit", "offending", "--help"], env={"COLUMNS": "200"})
    for option in ("--phi", "--lambda", "--delta", "--delta-qct", "--delta-voluntary"):
        assert option in result.output
    assert "pattern-mixture" in result.output and "selection" in result.output


@pytest.mark.parametrize(
    ("args", "owner"),
    [
        (["--phi", "-1"], "selection"),
        (["--missingness", "selection", "--delta", "1"], "pattern-mixture"),
        (["--missingness", "selection", "--lambda", "1"], "shared-parameter"),
    ],
)
def test_an_option_the_mechanism_lacks_exits_2(tmp_path, data_file, args, owner):
    result = invoke("offending", "--data", data_file, "--out", tmp_path / "o", *args)
    assert result.exit_code == 2, result.output
    assert owner in result.output and "command line" in result.output
    assert not (tmp_path / "o").exists()


def test_unknown_outcome_is_usage_error():
    result = invoke("stealing")
    assert result.exit_code == 2
    assert "stealing" in result.output


def test_bad_spec_names_the_field(tmp_path, data_file):
    bad = tmp_path / "bad.toml"
    bad.write_text('outcome = "offending"\nlikelihood = "poisson"\n[sampler]\ndraws = -3\n')
    result = invoke("offending", "--model", bad, "--data", data_file, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "likelihood" in result.output and "sampler.draws" in result.output
    assert not (tmp_path / "o").exists()


def test_bad_data_file_is_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("participant_id,site,legal_status,wave,offending_days\np1,A,QCT,t1,45\n")
    result = invoke("offending", "--data", bad, "--out", tmp_path / "o")
    assert result.exit_code == 2
    assert "offending_days" in result.output
    assert not (tmp_path / "o").exists()


def test_unchanged_rerun_reuses_and_reprints(tmp_path, data_file):
    folder = fake_fit(tmp_path / "fit", data_file)
    result = invoke("offending", "--data", data_file, "--out", folder)
    assert result.exit_code == 0, result.output
    assert "Reused the unchanged fit" in result.output
    assert "nothing was sampled or written" in result.output
    assert "compile" not in result.output  # no timings of a fit that did not run
    assert "Expected days" in result.output and "Reduction in expected days" in result.output
    assert "Converged" in result.output
    assert "simulated" in result.output or str(data_file.name) in result.output


def test_reuse_imports_no_sampler(tmp_path, data_file):
    folder = fake_fit(tmp_path / "fit", data_file)
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from bayes_qct.cli import app\n"
        f"r = CliRunner().invoke(app, ['fit', 'offending', '--data', {str(data_file)!r}, "
        f"'--out', {str(folder)!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "bad = [m for m in ('nutpie', 'numpyro', 'jax') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


def test_changed_spec_is_refused_naming_the_change(tmp_path, data_file):
    folder = fake_fit(tmp_path / "fit", data_file)
    before = (folder / "fit.json").read_text()
    result = invoke("offending", "--data", data_file, "--out", folder, "--draws", 10)
    assert result.exit_code == 4
    assert "sampler.draws" in result.output and "--force" in result.output
    assert (folder / "fit.json").read_text() == before


def test_strict_exits_3_when_diagnostics_fail(tmp_path, data_file):
    folder = fake_fit(tmp_path / "fit", data_file, diverging=5)
    result = invoke("offending", "--data", data_file, "--out", folder)
    assert result.exit_code == 0
    assert "NOT CONVERGED" in result.output
    result = invoke("offending", "--data", data_file, "--out", folder, "--strict")
    assert result.exit_code == 3


def test_prior_only_writes_the_prior_check(tmp_path, data_file):
    folder = tmp_path / "fit"
    result = invoke(
        "offending", "--data", data_file, "--out", folder, "--prior-only", "--draws", 40
    )
    assert result.exit_code == 0, result.output
    table = folder / "prior" / "prior_predictive.csv"
    assert table.exists() and (folder / "prior" / "prior.nc").exists()
    assert "share_in_0_30" in table.read_text()
    assert "Prior predictive check" in result.output
    again = invoke("offending", "--data", data_file, "--out", folder, "--prior-only", "--draws", 40)
    assert again.exit_code == 0 and "Reused" in again.output


@pytest.mark.slow
def test_missingness_all_fits_every_mechanism(tmp_path, data_file):
    args = ["--data", data_file, "--out", tmp_path, "--draws", 30, "--tune", 30, "--chains", 2]
    result = invoke("offending", "--missingness", "all", *args, "--quiet")
    assert result.exit_code == 0, result.output
    for name in ("mar", "selection", "locf", "complete-case"):
        assert name in result.output
    folders = sorted(p.name for p in (tmp_path / "offending").iterdir() if p.is_dir())
    assert len(folders) == 7 and all(
        (tmp_path / "offending" / f / "fit.json").exists() for f in folders
    )
    assert (tmp_path / "offending" / "missingness.csv").exists()
    strict = invoke("offending", "--missingness", "all", *args, "--quiet", "--strict")
    assert strict.exit_code == 3  # 30 draws cannot pass the convergence checks; fits are reused
    assert "NOT CONVERGED" in strict.output


def test_a_file_without_the_outcome_column_exits_2(tmp_path, data_file):
    import pandas as pd

    frame = pd.read_csv(data_file).drop(columns=["offending_days"])
    path = tmp_path / "no_offending.csv"
    frame.to_csv(path, index=False)
    result = invoke("offending", "--data", path, "--out", tmp_path / "o")
    assert result.exit_code == 2, result.output
    assert "offending_days" in result.output and "no_offending.csv" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()
