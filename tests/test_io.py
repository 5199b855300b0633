"""Readers, reshaping and mapping: every format lands in the same typed Cohort."""

from __future__ import annotations

import pandas as pd
import pyreadstat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from bayes_qct.api import load_cohort
from bayes_qct.cli import app
from bayes_qct.constants import WAVES
from bayes_qct.data.io import cohort_from_frame, to_long, to_wide
from bayes_qct.errors import BadInputError


def _write(df: pd.DataFrame, path) -> None:
    suffix = path.suffix
    if suffix == ".csv":
        df.to_csv(path, index=False)
    elif suffix == ".parquet":
        df.to_parquet(path, index=False)
    elif suffix == ".sav":
        pyreadstat.write_sav(df, str(path))
    elif suffix == ".dta":
        pyreadstat.write_dta(df, str(path))


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".sav", ".dta"])
def test_round_trip_each_format(long_table, tmp_path, suffix):
    reference = cohort_from_frame(long_table).data
    path = tmp_path / f"cohort{suffix}"
    _write(long_table, path)
    cohort = load_cohort(path)
    pd.testing.assert_frame_equal(cohort.data, reference, check_dtype=False)
    assert cohort.n_participants == long_table["participant_id"].nunique()
    assert not cohort.synthetic and len(cohort.sha256) == 64


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".dta"])
def test_wide_files_are_reshaped(long_table, tmp_path, suffix):
    reference = cohort_from_frame(long_table).data
    wide = to_wide(cohort_from_frame(long_table).data)
    assert {"offending_days_t1", "offending_days_t4"} <= set(wide.columns)
    path = tmp_path / f"wide{suffix}"
    _write(wide, path)
    cohort = load_cohort(path)
    cols = [c for c in reference.columns if c != "interviewed"]
    pd.testing.assert_frame_equal(cohort.data[cols], reference[cols], check_dtype=False)


def test_mapping_renames_columns_and_labels(long_table, tmp_path):
    theirs = long_table.rename(columns={"participant_id": "client_id", "legal_status": "route"})
    theirs["route"] = theirs["route"].map({"QCT": "DTTO", "voluntary": "other"})
    theirs["wave"] = theirs["wave"].map({"t1": "intake", "t2": "fu6", "t3": "fu12", "t4": "fu18"})
    data = tmp_path / "theirs.csv"
    theirs.to_csv(data, index=False)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        '[columns]\nclient_id = "participant_id"\nroute = "legal_status"\n\n'
        '[values.legal_status]\nDTTO = "QCT"\nother = "voluntary"\n\n'
        '[values.wave]\nintake = "t1"\nfu6 = "t2"\nfu12 = "t3"\nfu18 = "t4"\n'
    )
    cohort = load_cohort(data, mapping=mapping)
    reference = cohort_from_frame(long_table).data
    pd.testing.assert_frame_equal(cohort.data, reference, check_dtype=False)


def test_mapping_applies_to_wide_suffixes(long_table, tmp_path):
    wide = to_wide(cohort_from_frame(long_table).data, columns=["offending_days"])
    wide.columns = [c.replace("_t2", "_fu6") for c in wide.columns]
    path = tmp_path / "wide.csv"
    wide.to_csv(path, index=False)
    mapping = tmp_path / "m.toml"
    mapping.write_text('[values.wave]\nfu6 = "t2"\n')
    cohort = load_cohort(path, mapping=mapping)
    assert (
        cohort.data["offending_days"]
        .notna()
        .groupby(cohort.data["wave"], observed=False)
        .sum()["t2"]
        > 0
    )


def test_absent_rows_fill_the_wave_grid(long_table):
    cohort = cohort_from_frame(long_table)
    assert len(cohort.data) == 4 * cohort.n_participants
    assert list(cohort.data["wave"].cat.categories) == list(WAVES)
    missing = cohort.data["offending_days"].isna()
    assert (cohort.data.loc[missing, "interviewed"] == 0).all()
    assert cohort.data["days_at_liberty"].between(0, 30).all()


_people = st.lists(
    st.tuples(
        st.sampled_from(["QCT", "voluntary"]),
        st.sampled_from(["a", "b", "c"]),
        st.lists(st.one_of(st.none(), st.integers(0, 30)), min_size=4, max_size=4),
        st.lists(st.one_of(st.none(), st.integers(0, 30)), min_size=4, max_size=4),
    ),
    min_size=1,
    max_size=15,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_people)
def test_long_wide_long_is_identity(people):
    rows = [
        {
            "participant_id": f"id{i}",
            "site": site,
            "legal_status": status,
            "wave": wave,
            "offending_days": off[w],
            "drug_use_days": drug[w],
        }
        for i, (status, site, off, drug) in enumerate(people)
        for w, wave in enumerate(WAVES)
    ]
    cohort = cohort_from_frame(pd.DataFrame(rows))
    wide = to_wide(cohort.data)
    back = cohort_from_frame(to_long(wide)).data
    pd.testing.assert_frame_equal(back, cohort.data, check_dtype=False)


# --- wide columns whose suffix is no wave ---------------------------------------------------


def _wide_fu(long_table) -> pd.DataFrame:
    wide = to_wide(cohort_from_frame(long_table).data, columns=["offending_days"])
    suffixes = {"_t1": "_intake", "_t2": "_fu6", "_t3": "_fu12", "_t4": "_fu18"}
    return wide.rename(columns=lambda c: next((c.replace(k, v) for k, v in suffixes.items()
                                               if c.endswith(k)), c))  # fmt: skip


FU_MAPPING = '[values.wave]\nintake = "t1"\nfu6 = "t2"\nfu12 = "t3"\nfu18 = "t4"\n'


def test_wide_suffixes_renamed_by_the_mapping_fill_every_wave(long_table, tmp_path):
    path, mapping = tmp_path / "wide.csv", tmp_path / "m.toml"
    _wide_fu(long_table).to_csv(path, index=False)
    mapping.write_text(FU_MAPPING)
    cohort = load_cohort(path, mapping=mapping)
    reference = cohort_from_frame(long_table).data
    assert cohort.data["offending_days"].tolist() == reference["offending_days"].tolist()


def test_a_wide_column_whose_suffix_is_no_wave_is_refused(long_table, tmp_path):
    path, mapping = tmp_path / "wide.csv", tmp_path / "m.toml"
    _wide_fu(long_table).rename(columns={"offending_days_fu12": "offending_days_fu_12"}).to_csv(
        path, index=False
    )
    mapping.write_text(FU_MAPPING)
    with pytest.raises(BadInputError) as info:
        load_cohort(path, mapping=mapping)
    message = str(info.value)
    assert "column 'offending_days_fu_12'" in message and "'fu_12'" in message
    assert "t1, t2, t3, t4" in message and "intake, fu6, fu12, fu18" in message
    before = set(tmp_path.iterdir())
    result = CliRunner().invoke(app, ["data", "validate", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 2
    assert "offending_days_fu_12" in result.output
    assert set(tmp_path.iterdir()) == before


def test_a_wide_suffix_without_its_mapping_is_refused(long_table, tmp_path):
    path = tmp_path / "wide.csv"
    _wide_fu(long_table).to_csv(path, index=False)
    with pytest.raises(BadInputError, match=r"column 'offending_days_fu6'"):
        load_cohort(path)
    with pytest.raises(BadInputError, match=r"column 'offending_days_fu6'"):
        cohort_from_frame(_wide_fu(long_table))


def test_a_mapping_label_with_an_underscore_renames_the_suffix(long_table, tmp_path):
    path, mapping = tmp_path / "wide.csv", tmp_path / "m.toml"
    _wide_fu(long_table).rename(columns={"offending_days_fu12": "offending_days_fu_12"}).to_csv(
        path, index=False
    )
    mapping.write_text(FU_MAPPING.replace("fu12 =", "fu_12 ="))
    cohort = load_cohort(path, mapping=mapping)
    assert cohort.data.loc[cohort.data["wave"] == "t3", "offending_days"].notna().any()


def test_other_columns_of_a_wide_file_are_left_alone(long_table, tmp_path):
    wide = to_wide(cohort_from_frame(long_table).data, columns=["offending_days"])
    wide["age_group"] = "20s"  # a baseline column, not spread over waves
    wide["notes_fu_12"] = "x"  # not a contract column
    cohort = cohort_from_frame(wide)
    assert cohort.n_participants == long_table["participant_id"].nunique()
    spread = wide.assign(age_t1=30, age_t2=30, age_fu_12=31)
    with pytest.raises(BadInputError, match=r"column 'age_fu_12'"):
        cohort_from_frame(spread)


def test_the_bundled_cohort_written_wide_reads_back_the_same(tmp_path):
    pytest.importorskip("bayes_qct.data.reconstruct")
    bundled = load_cohort()
    path = tmp_path / "wide.csv"
    to_wide(bundled.data).to_csv(path, index=False)
    back = load_cohort(path)
    pd.testing.assert_frame_equal(back.data, bundled.data, check_dtype=False)


# --- provenance ------------------------------------------------------------------------------


def test_provenance_records_the_file_and_the_mapping_apart(long_table, tmp_path):
    import hashlib
    import json
    import tomllib

    path = tmp_path / "theirs.csv"
    long_table.rename(columns={"participant_id": "client_id"}).to_csv(path, index=False)
    mapping = tmp_path / "m.toml"
    mapping.write_text('[columns]\nclient_id = "participant_id"\n')
    cohort = load_cohort(path, mapping=mapping)
    both = hashlib.sha256(path.read_bytes() + mapping.read_bytes()).hexdigest()
    assert cohort.sha256 == both  # the combined hash stays the fit's key
    record = json.loads(json.dumps(cohort.provenance()))
    assert record == {
        "source": str(path),
        "sha256": both,
        "file_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "mapping": {
            "path": str(mapping),
            "sha256": hashlib.sha256(mapping.read_bytes()).hexdigest(),
            "content": tomllib.loads(mapping.read_text()),
        },
        "label": cohort.label,
        "synthetic": False,
        "n_participants": cohort.n_participants,
        "n_rows": len(cohort.data),
    }
    assert cohort.with_data(cohort.data).provenance() == cohort.provenance()

    result = CliRunner().invoke(app, ["data", "validate", str(path), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert record["file_sha256"] in flat and record["mapping"]["sha256"] in flat


def test_provenance_without_a_mapping(long_table, tmp_path):
    import hashlib

    path = tmp_path / "cohort.csv"
    long_table.to_csv(path, index=False)
    record = load_cohort(path).provenance()
    assert record["mapping"] is None
    alone = hashlib.sha256(path.read_bytes()).hexdigest()
    assert record["file_sha256"] == record["sha256"] == alone
    assert cohort_from_frame(long_table).provenance()["file_sha256"] is None
