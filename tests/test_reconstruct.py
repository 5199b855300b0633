"""The reconstructed default cohort: calibrated, reproducible, synthetic, informative dropout."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from bayes_qct.api import load_cohort
from bayes_qct.constants import SYNTHETIC_LABEL
from bayes_qct.data import generator as gen
from bayes_qct.data import reconstruct as rc
from bayes_qct.data.reconstruct_calibration import TARGETS, calibration_table
from bayes_qct.data.reconstruct_fit import FIT_TARGETS, expected_statistics, outcome_statistics


@pytest.fixture(scope="module")
def bundled() -> pd.DataFrame:
    return load_cohort().data


@pytest.fixture(scope="module")
def table(bundled) -> pd.DataFrame:
    return calibration_table(bundled)


def test_every_target_within_tolerance(table):
    missed = table.loc[~table["ok"], ["target", "paper_value", "achieved", "tolerance"]]
    assert missed.empty, missed.to_string()
    assert list(table.columns[:5]) == [
        "target",
        "paper_section",
        "paper_value",
        "achieved",
        "tolerance",
    ]
    assert len(table) == len(TARGETS) >= 60


def test_exact_design_counts(table):
    exact = table[table["tolerance"] == "exact"].set_index("target")["achieved"]
    assert exact["interviews in all"] == 458
    assert exact["re-interviewed at least once"] == 128
    assert [exact[f"interviews t{k}"] for k in (1, 2, 3, 4)] == [157, 106, 100, 95]
    assert exact["participants QCT"] == 89 and exact["participants voluntary"] == 68


def test_regenerating_reproduces_the_bundled_file_byte_for_byte(tmp_path):
    text = gen.cohort_csv_text(rc.reconstruct_cohort())
    assert text.encode() == rc.bundled_path().read_bytes()
    csv, meta = rc.write_bundled(tmp_path)
    assert csv.read_bytes() == rc.bundled_path().read_bytes()
    assert json.loads(meta.read_text()) == json.loads(rc.bundled_metadata_path().read_text())


def test_a_different_draw_gives_different_data():
    other = rc.reconstruct_cohort(draws={"offending.voluntary": 0})
    assert gen.cohort_csv_text(other) != rc.bundled_path().read_text()


def test_metadata_says_synthetic_and_matches_the_file():
    meta = json.loads(rc.bundled_metadata_path().read_text())
    assert meta["synthetic"] is True
    assert "synthetic" in rc.bundled_path().name
    assert meta["seed"] == rc.RECONSTRUCTION_SEED and meta["draws"] == rc.ACCEPTED_DRAWS
    assert meta["generator_version"] == gen.GENERATOR_VERSION
    assert "heavier users are less often re-interviewed" in meta["dropout"]
    assert meta["sha256"] == hashlib.sha256(rc.bundled_path().read_bytes()).hexdigest()


def test_loaded_cohort_is_labelled_synthetic():
    cohort = load_cohort()
    assert cohort.synthetic and SYNTHETIC_LABEL in cohort.label
    assert cohort.n_participants == 157 and cohort.data["site"].nunique() == 10


def test_table_fails_on_a_damaged_cohort(bundled):
    damaged = bundled.copy()
    qct_t2 = (damaged["legal_status"].astype(str) == "QCT") & (damaged["wave"].astype(str) == "t2")
    damaged.loc[qct_t2, "offending_days"] = 30  # every QCT t2 answer 30, none missing
    bad = calibration_table(damaged).set_index("target")["ok"]
    assert not bad["offending t2 mean QCT (Figure 1)"]
    assert not bad["offending answered t2"]


def test_fast_search_statistics_agree_with_the_table():
    design = rc.build_design(
        rc.RECONSTRUCTION_SEED,
        rc.ACCEPTED_DRAWS["population"],
        rc.CALIBRATED_PARAMS,
        rc.CALIBRATED_DROPOUT,
    )
    stats = outcome_statistics(
        design, rc.complete_counts(design, rc.ACCEPTED_DRAWS, seed=rc.RECONSTRUCTION_SEED)
    )
    achieved = calibration_table(rc.reconstruct_cohort()).set_index("target")["achieved"]
    for name, value in stats.items():
        assert achieved[name] == pytest.approx(value, abs=1e-3), name


def test_dropout_is_informative_heavier_users_missed():
    design = rc.build_design(
        rc.RECONSTRUCTION_SEED,
        rc.ACCEPTED_DRAWS["population"],
        rc.CALIBRATED_PARAMS,
        rc.CALIBRATED_DROPOUT,
    )
    counts = rc.complete_counts(design, rc.ACCEPTED_DRAWS, seed=rc.RECONSTRUCTION_SEED)
    level = counts["offending"][:, 1:] + counts["drug-use"][:, 1:]
    seen = design.seen[:, 1:] == 1
    assert level[~seen].mean() > level[seen].mean() + 2


def test_calibrated_parameters_fit_their_expected_targets():
    from bayes_qct.data.reconstruct_fit import _populations, pack

    theta = pack(rc.CALIBRATED_PARAMS, rc.CALIBRATED_DROPOUT)
    stats = expected_statistics(theta, _populations(4), rc.CALIBRATED_PARAMS)
    close = [abs(stats[k] - v) <= 2 * s for k, (v, s) in FIT_TARGETS.items()]
    assert np.mean(close) >= 0.9


@pytest.mark.slow
def test_the_seeded_search_finds_the_accepted_draws():
    from bayes_qct.data.reconstruct_fit import search_draws

    assert search_draws() == rc.ACCEPTED_DRAWS
