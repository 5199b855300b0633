"""The reconstructed default cohort: calibrated, reproducible, synthetic, informative dropout."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest

from bayes_qct.api import load_cohort
from bayes_qct.calibration.fit import FIT_TARGETS, expected_statistics
from bayes_qct.calibration.search import outcome_statistics
from bayes_qct.calibration.targets import (
    FIGURE1_TOLERANCE,
    TARGETS,
    calibration_table,
    derived_numbers,
)
from bayes_qct.constants import SYNTHETIC_LABEL
from bayes_qct.data import generator as gen
from bayes_qct.data import reconstruct as rc
from bayes_qct.data.paper import Registry, load_registry


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
    from bayes_qct.calibration.fit import _populations, pack

    theta = pack(rc.CALIBRATED_PARAMS, rc.CALIBRATED_DROPOUT)
    stats = expected_statistics(theta, _populations(4), rc.CALIBRATED_PARAMS)
    close = [abs(stats[k] - v) <= 2 * s for k, (v, s) in FIT_TARGETS.items()]
    assert np.mean(close) >= 0.9


@pytest.mark.slow
def test_the_seeded_search_finds_the_accepted_draws():
    from bayes_qct.calibration.search import search_draws

    assert search_draws() == rc.ACCEPTED_DRAWS


def test_every_published_target_value_and_section_is_the_registrys():
    reg = load_registry()
    derived = derived_numbers(reg)
    for t in TARGETS:
        assert t.paper_ids, t.name
        entries = [reg.get(i) for i in t.paper_ids]  # KeyError if an id is not in the registry
        if t.field == "derived":
            assert (t.value, t.paper_ids) in {(float(v), ids) for v, ids in derived.values()}
            assert t.lower == t.upper == t.value, t.name
        elif t.field == "ns":  # a "not significant" claim: a Wald z inside +-1.96
            (entry,) = entries
            assert entry.p_relation == "ns" and t.section == entry.section, t.name
            assert (t.lower, t.value, t.upper) == (-1.96, 0.0, 1.96), t.name
        else:
            (entry,) = entries
            assert t.value == float(getattr(entry, t.field)), t.name
            assert t.section == entry.section, t.name
            assert t.lower <= t.value <= t.upper, t.name


def test_table_names_its_registry_entries(table):
    by_name = {t.name: t for t in TARGETS}
    for row in table.itertuples():
        assert row.paper_ids == ";".join(by_name[row.target].paper_ids)
        assert row.paper_value == by_name[row.target].value


def test_figure1_targets_follow_the_registrys_reading_and_decoding():
    reg = load_registry()
    by_name = {t.name: t for t in TARGETS}
    entries = reg.find(kind="figure_value", outcome="offending")
    assert len(entries) == 8
    for e in entries:
        t = by_name[f"offending {e.wave} mean {e.group} (Figure 1)"]
        assert t.value == e.value and t.paper_ids == (e.id,)
        tol = FIGURE1_TOLERANCE[e.decoding]
        assert (t.lower, t.upper) == (e.value - tol, e.value + tol)
        assert e.decoding in t.note and (e.decoding == "certain" or "1.5" in t.note)
    assert [by_name[f"offending t{k} mean QCT (Figure 1)"].value for k in (1, 2, 3, 4)] == [
        23,
        2,
        4,
        6,
    ]
    assert [by_name[f"offending t{k} mean voluntary (Figure 1)"].value for k in (1, 2, 3, 4)] == [
        9,
        5,
        6,
        4,
    ]


def test_derived_numbers_reproduce_the_published_ones():
    d = derived_numbers()
    assert d["n voluntary"][0] == 68
    assert (d["men QCT"][0], d["men voluntary"][0]) == (79, 41)
    chi2 = pd.crosstab(
        np.repeat([1, 0], [89, 68]),
        np.concatenate([np.repeat([1, 0], [79, 10]), np.repeat([1, 0], [41, 27])]),
    )
    from scipy.stats import chi2_contingency

    assert round(chi2_contingency(chi2.to_numpy(), correction=False)[0], 2) == 17.35
    assert (d["re-interviewed QCT"][0], d["re-interviewed voluntary"][0]) == (75, 53)
    assert (round(100 * 62 / 75), round(100 * 30 / 53)) == (83, 57)


def test_derived_numbers_refuse_an_inconsistent_registry():
    from dataclasses import replace

    reg = load_registry()
    for entry_id, changes in (
        ("profile.male.chi_square", {"value": 5.0}),
        ("method.reinterviewed_any", {"value": 127.0}),
    ):
        bad = Registry([replace(e, **changes) if e.id == entry_id else e for e in reg])
        with pytest.raises(ValueError):
            derived_numbers(bad)


def test_design_constants_come_from_the_registry():
    reg = load_registry()
    assert rc.MALE == {"QCT": 79, "voluntary": 41}
    assert rc.NEVER_REINTERVIEWED == {"QCT": 89 - 75, "voluntary": 68 - 53}
    assert rc.HOMELESS_T1["QCT"] == reg.get("reintegration.homeless.t1.QCT.pct").numerator
    assert rc.PEER_DRUG_USE == tuple(
        reg.get(f"reintegration.peer_drug_use.t{k}.pct").numerator for k in (1, 2, 3, 4)
    )


def test_table1_targets_are_the_frequentist_refit_of_the_published_model(table):
    from bayes_qct.calibration import table1 as t1
    from bayes_qct.frequentist.logistic import logistic_frame, table1_model

    fit, _ = table1_model(logistic_frame(load_cohort()))
    assert fit.n == 105 and fit.converged
    rows = table.set_index("paper_ids")
    ors = fit.table.set_index("term")["odds_ratio"]
    for term, entry_id in t1.ENTRY_IDS.items():
        assert rows.loc[entry_id, "achieved"] == pytest.approx(ors[term], abs=1e-3)
        assert rows.loc[entry_id, "lower"] < rows.loc[entry_id, "paper_value"]
    assert rows.loc[t1.R2_ID, "achieved"] == pytest.approx(fit.nagelkerke_r2, abs=1e-3)
    # the crude site-2 odds ratio of desistance has no published counterpart: gone
    assert not table["target"].str.contains("site 2 odds ratio, no offending").any()


def test_expected_table1_recovers_the_model_it_is_given():
    from bayes_qct.calibration import table1 as t1
    from bayes_qct.frequentist.logistic import TABLE1_TERMS

    rng = np.random.default_rng(3)
    n = 3000
    frame = t1.frame_from_arrays(
        score=rng.beta(5, 20, n),
        age=rng.normal(31, 6, n).round(),
        stage=rng.integers(0, 3, n),
        site2=rng.random(n) < 0.2,
        qct=rng.random(n) < 0.5,
        no_offending_t2=np.zeros(n),
    )
    beta = np.array([3.0, 0.66, -1.35, -0.08, -1.17])
    x = np.column_stack([np.ones(n), frame[list(TABLE1_TERMS)].to_numpy()])
    p = 1 / (1 + np.exp(-x @ beta))
    big = t1.expected_table1(frame, p, np.ones(n), n=1e7)  # no small-sample bias left
    assert [big[t] for t in TABLE1_TERMS] == pytest.approx(beta[1:], abs=1e-3)
    assert big["qct_z"] == pytest.approx(0, abs=1e-3)  # legal status plays no part
    small = t1.expected_table1(frame, p, np.ones(n))  # at 105: ML overstates strong effects
    assert abs(small["site2"]) > abs(big["site2"]) and 0 < small["r2"] < 1
