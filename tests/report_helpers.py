"""Outputs roots for the report tests, made without MCMC.

A fit folder is made by the real pipeline on draws from a stand-in sampler; the other
files a report reads (checks.csv, audit.csv, missingness.csv, a prior check and a
sensitivity sweep) are written small and by hand, following the data contract (§3, §5,
§7), so the report is tested on every section in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_qct.api import load_cohort
from bayes_qct.estimands.ppc import predictive_checks
from bayes_qct.fitting.mechanisms import estimand_row
from bayes_qct.fitting.pipeline import run_fit
from bayes_qct.labels import NO_DATA
from bayes_qct.modeling.build import model_data
from bayes_qct.modeling.sample import SampleTimes
from bayes_qct.modeling.spec import load_spec
from tests.conftest_model import fake_posterior, simulate_cohort

CHAINS, DRAWS = 2, 100


class FakeSampler:
    """Posterior-shaped draws without MCMC (``diverging`` transitions in chain 0)."""

    def __init__(self, cohort, *, diverging: int = 0):
        self.cohort = cohort
        self.diverging = diverging

    def __call__(self, model, settings, *, progress=True):
        data = model_data(self.cohort, load_spec("offending"))
        post = fake_posterior(data, chains=CHAINS, draws=DRAWS, seed=1)
        post["sigma_participant"] = post["sigma_site"] + 0.5
        rng = np.random.default_rng(1)
        diverging = np.zeros((CHAINS, DRAWS), bool)
        diverging[0, : self.diverging] = True
        stats = xr.Dataset(
            {
                "diverging": (("chain", "draw"), diverging),
                "energy": (("chain", "draw"), rng.normal(size=(CHAINS, DRAWS))),
            },
            coords={"chain": post["chain"], "draw": post["draw"]},
        )
        observed = xr.Dataset({"y": ("obs", data.y[data.obs_rows])}, coords={"obs": data.obs_rows})
        tree = xr.DataTree.from_dict(
            {"posterior": post, "sample_stats": stats, "observed_data": observed}
        )
        return tree, SampleTimes(0.0, 0.0)


def cohort_file(folder: Path) -> Path:
    """A small simulated cohort (30 people, 3 sites) written as a CSV file."""
    cohort, _ = simulate_cohort(30, seed=7, phi=-1.0, n_sites=3)
    path = folder / "cohort.csv"
    cohort.data.to_csv(path, index=False)
    return path


def make_fit(root: Path, data: Path, *, diverging: int = 0, name: str = "default") -> Path:
    """Fit folder ``<root>/offending/<name>`` made by the pipeline on stand-in draws."""
    cohort = load_cohort(data)
    folder = root / "offending" / name
    run_fit(
        cohort,
        load_spec("offending"),
        folder=folder,
        sampler=FakeSampler(cohort, diverging=diverging),
        force=False,
        root=None,
        progress=False,
    )
    return folder


def write_prior_check(folder: Path) -> None:
    """A prior check in ``<fit>/prior/``: replicated counts and their statistics."""
    observed = xr.open_datatree(folder / "posterior.nc")["observed_data"]["y"]
    status = observed["legal_status"].to_numpy().astype(str)
    wave = observed["wave"].to_numpy().astype(str)
    rng = np.random.default_rng(3)
    replicated = rng.integers(0, 31, size=(1, 50, observed.size)).astype(float)
    prior = folder / "prior"
    prior.mkdir()
    tree = xr.DataTree.from_dict(
        {
            "prior_predictive": xr.Dataset(
                {"y": (("chain", "draw", "obs"), replicated)}, coords={"obs": observed["obs"].data}
            ),
            "observed_data": xr.Dataset({"y": ("obs", observed.to_numpy())}),
        }
    )
    tree.to_netcdf(prior / "prior.nc", engine="h5netcdf")
    table = predictive_checks(
        replicated[0], observed.to_numpy(), status, wave, check="prior_predictive"
    )
    table.to_csv(prior / "prior_predictive.csv", index=False)


def write_checks(root: Path) -> None:
    """A checks.csv of three rows (DATA_CONTRACT §3), two of them the paper's."""
    rows = [
        (
            "wilcoxon_signed_rank",
            "QCT",
            "t1-t2",
            "complete-case",
            12,
            3.0,
            -2.9,
            0.004,
            -0.59,
            -6.46,
            "Results / Offending outcomes [offending.wilcoxon.QCT.t1-t2.complete-case]",
        ),
        (
            "t_test_independent: offending_days",
            "QCT-voluntary",
            "t1",
            "complete-case",
            28,
            2.1,
            np.nan,
            0.04,
            0.3,
            6.73,
            "Figure 1 [figure1.offending.t_test]",
        ),
        (
            "mann_whitney_u: offending_days",
            "QCT-voluntary",
            "t1",
            "complete-case",
            28,
            80.0,
            2.0,
            0.05,
            0.3,
            np.nan,
            "",
        ),
    ]
    columns = ["analysis", "group", "contrast", "handling", "n", "statistic", "z", "p",
               "effect_r", "paper_value", "paper_ref"]  # fmt: skip
    table = pd.DataFrame(rows, columns=columns).assign(
        outcome="offending", lower=np.nan, upper=np.nan, ci_kind="", ci_prob=np.nan, note=""
    )
    path = root / "offending" / "checks" / "checks.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(path, index=False)


def write_audit(root: Path) -> None:
    """The real audit of the published numbers (no data: under a second)."""
    from bayes_qct.frequentist.audit import audit

    audit().table.to_csv(root / "audit.csv", index=False)


def write_mechanisms(root: Path, fit: Path, label: str) -> None:
    """missingness.csv (§5) of two rows: MAR, and an LOCF fit that failed its checks."""
    contrasts = pd.read_csv(fit / "contrasts.csv")
    rows = []
    for name, kind, verdict in (
        ("mar", "mechanism", "converged"),
        ("locf", "handling", "NOT CONVERGED: r_hat 1.013 > 1.01 (d_qct_wave[t3])"),
    ):
        rows.append(
            {
                "missingness": name,
                "kind": kind,
                "model": "default" if name == "mar" else f"default-{name}",
                "parameter": "-",
                "folder": str(fit),
                "reused": True,
                "posterior_from": "",
                "verdict": verdict,
                "divergences": 0,
                "max_r_hat": 1.0,
                "min_ess_bulk": 500.0,
                **estimand_row(contrasts),
            }
        )
    table = pd.DataFrame(rows).assign(outcome="offending", wave="t4", data=label)
    table.to_csv(root / "offending" / "missingness.csv", index=False)


def write_sweep(root: Path, sha256: str) -> Path:
    """A pattern-mixture delta sweep of three points (DATA_CONTRACT §7)."""
    folder = root / "offending" / "sensitivity" / "pattern-mixture-delta"
    folder.mkdir(parents=True)
    grid = [-1.0, 0.0, 1.0]
    info = {
        "outcome": "offending",
        "mechanism": "pattern-mixture",
        "parameters": {"delta": grid},
        "data": {"sha256": sha256},
        "command": ["bayes-qct", "sensitivity", "offending", "--delta", "-1:1:3"],
    }
    (folder / "sweep.json").write_text(json.dumps(info), encoding="utf-8")
    rows = []
    for point, delta in enumerate(grid):
        for quantity, group, mean in (
            ("reduction_difference", "QCT-voluntary", 0.05 - 0.04 * delta),
            ("reduction", "QCT", 0.6 - 0.1 * delta),
        ):
            rows.append(
                {
                    "outcome": "offending",
                    "model": "default-pattern-mixture",
                    "missingness": "pattern-mixture",
                    "point": point,
                    "delta": delta,
                    "quantity": quantity,
                    "legal_status": group,
                    "wave": "t4",
                    "mean": mean,
                    "sd": 0.05,
                    "lower": mean - 0.1,
                    "upper": mean + 0.1,
                    "ci_kind": "eti",
                    "ci_prob": 0.95,
                    "prob_positive": 0.9 - 0.3 * (delta + 1),
                    "n_observed": 10,
                    "note": "",
                    "method": "postprocess",
                    "pareto_k": np.nan,
                    "ess": np.nan,
                    "verdict": "converged",
                }
            )
    pd.DataFrame(rows).to_csv(folder / "sensitivity.csv", index=False)
    pd.DataFrame(
        [
            {
                "conclusion": "difference excludes 0",
                "quantity": "reduction_difference",
                "legal_status": "QCT-voluntary",
                "wave": "t4",
                "parameter": "delta",
                "other_parameter": "",
                "other_value": np.nan,
                "holds_at_reference": False,
                "tipping_value": np.nan,
                "grid_min": -1.0,
                "grid_max": 1.0,
                "sentence": "The difference includes 0 at every delta in the grid.",
            },
            {
                "conclusion": "reduction credible",
                "quantity": "reduction",
                "legal_status": "QCT",
                "wave": "t4",
                "parameter": "delta",
                "other_parameter": "",
                "other_value": np.nan,
                "holds_at_reference": True,
                "tipping_value": 0.75,
                "grid_min": -1.0,
                "grid_max": 1.0,
                "sentence": "The QCT reduction stays credible up to delta = 0.75.",
            },
        ]
    ).to_csv(folder / "tipping_points.csv", index=False)
    psense = [
        ("b0", 0.01, 0.2, "-", 0.1, 0.2, False),
        ("sigma_site", 0.09, 0.03, "potential prior-data conflict", 0.3, 0.2, True),
    ]
    columns = ["variable", "prior", "likelihood", "diagnosis", "pareto_k_prior",
               "pareto_k_likelihood", "flagged"]  # fmt: skip
    table = pd.DataFrame(psense, columns=columns).assign(k_threshold=0.7)
    table.to_csv(folder / "psense.csv", index=False)
    return folder


def mark_no_data(fit: Path, quantity: str, group: str, wave: str) -> None:
    """Mark one contrasts.csv cell as informed by no observed outcome (prior only)."""
    path = fit / "contrasts.csv"
    table = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"note": str})
    hit = (
        (table["quantity"] == quantity) & (table["legal_status"] == group) & (table["wave"] == wave)
    )
    table["note"] = table["note"].fillna("")
    table.loc[hit, "note"] = NO_DATA
    table.to_csv(path, index=False)


@pytest.fixture(scope="session")
def report_root(tmp_path_factory) -> Path:
    """An outputs root holding every piece a report shows (no MCMC)."""
    root = tmp_path_factory.mktemp("posterior")
    data = cohort_file(tmp_path_factory.mktemp("data"))
    fit = make_fit(root, data)
    record = json.loads((fit / "fit.json").read_text())
    write_prior_check(fit)
    write_checks(root)
    write_audit(root)
    write_mechanisms(root, fit, record["data"]["label"])
    write_sweep(root, record["data"]["sha256"])
    mark_no_data(fit, "any_days", "QCT-voluntary", "t3")
    return root


@pytest.fixture(scope="session")
def report_files(report_root, tmp_path_factory):
    """The report of ``report_root`` written once: (Report, Written)."""
    from bayes_qct.reporting.inputs import gather
    from bayes_qct.reporting.render import build_report, write_report

    report = build_report(gather("offending", root=report_root))
    written = write_report(report, tmp_path_factory.mktemp("reports"))
    return report, written
