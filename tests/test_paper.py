"""The registry of the paper's published numbers: contents, vocabulary, validation."""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest

from bayes_qct.data.paper import KINDS, Entry, Registry, load_registry, parse_registry
from bayes_qct.errors import BadInputError

EXPECTED_KINDS = {
    "external": 22,
    "sample_size": 14,
    "design": 8,
    "percentage": 55,
    "mean": 39,
    "count": 18,
    "ns_claim": 13,
    "chi_square": 10,
    "t_test": 8,
    "mann_whitney": 1,
    "percent_change": 8,
    "wilcoxon": 14,
    "spearman": 10,
    "nagelkerke_r2": 1,
    "odds_ratio": 5,
    "figure_value": 8,
    "median": 2,
}


@pytest.fixture(scope="module")
def reg() -> Registry:
    return load_registry()


def test_counts_by_kind_exact(reg):
    assert reg.counts_by_kind() == EXPECTED_KINDS
    assert len(reg) == sum(EXPECTED_KINDS.values())


def test_ids_unique_and_every_entry_has_section_and_quote(reg):
    ids = [e.id for e in reg.entries]
    assert len(ids) == len(set(ids))
    assert all(e.section.strip() and e.quote.strip() for e in reg.entries)


def test_lookups_other_helpers_rely_on(reg):
    (w,) = reg.find(
        kind="wilcoxon",
        outcome="offending",
        group="QCT",
        contrast="t1-t2",
        handling="complete-case",
    )
    assert (w.z, w.r, w.p, w.p_relation) == (-6.46, -0.57, 0.001, "<")
    homeless = reg.find(kind="chi_square", outcome="homeless")
    assert [h.value for h in homeless] == [7.12, 7.12]
    assert all(
        (h.count_qct, h.n_qct, h.count_voluntary, h.n_voluntary) == (28, 89, 9, 68)
        for h in homeless
    )
    assert len(reg.find(kind="odds_ratio")) == 5
    (m,) = reg.find(kind="mean", outcome="offending", group="QCT", wave="t2", handling="locf")
    assert (m.value, m.n, m.unit) == (8.3, 89, "days per 30")


def test_offending_units_distinguish_six_months_from_30_days(reg):
    six = reg.find(kind="mean", outcome="offending", handling="observed")
    locf = reg.find(kind="mean", outcome="offending", handling="locf")
    assert {e.unit for e in six} == {"days per 180"}
    assert {e.unit for e in locf} == {"days per 30"}
    assert {e.unit for e in reg.find(kind="figure_value")} == {"days per 30"}


def test_core_design_numbers(reg):
    sizes = {
        e.wave: int(e.value)
        for e in reg.find(kind="sample_size", group="all")
        if e.id.startswith("method.sample")
    }
    assert sizes == {"t1": 157, "t2": 106, "t3": 100, "t4": 95}
    assert reg.get("method.sample.t1.QCT").value == 89
    assert reg.get("method.interviews_total").value == 458


def test_table_has_one_row_per_entry(reg):
    table = reg.table()
    assert isinstance(table, pd.DataFrame)
    assert len(table) == len(reg)
    assert {"id", "kind", "section", "value", "p_relation", "unit"} <= set(table.columns)


def test_find_rejects_unknown_fields(reg):
    with pytest.raises(TypeError, match="unknown field"):
        reg.find(kindd="mean")


def test_get_unknown_id_names_neighbours(reg):
    with pytest.raises(KeyError, match="offending"):
        reg.get("offending.nope")


def test_printed_decimals_respects_trailing_zeros(reg):
    assert reg.get("drug-use.wilcoxon.voluntary.t1-t4.complete-case").printed_decimals("r") == 2
    assert reg.get("offending.mean.all.t2.locf").printed_decimals() == 1
    assert reg.get("offending.logistic.or.composite_score").printed_decimals("ci_high") == 1


def test_every_kind_known_and_required_fields_present(reg):
    for e in reg.entries:
        assert e.kind in KINDS
        for name in KINDS[e.kind]:
            assert getattr(e, name) is not None, (e.id, name)


def _doc(*entries: dict) -> dict:
    return {"entry": list(entries)}


GOOD = {"id": "a", "kind": "count", "section": "S", "quote": "q", "value": 3}


def test_parse_accepts_minimal_entry():
    reg = parse_registry(_doc(GOOD))
    assert reg.get("a") == Entry(id="a", kind="count", section="S", quote="q", value=3.0)


def test_validation_reports_every_problem_at_once():
    bad = [
        GOOD,
        dict(GOOD),  # duplicate id
        {"id": "b", "kind": "mystery", "section": "S", "quote": "q"},
        {"id": "c", "kind": "chi_square", "section": "S", "quote": "q", "value": 1.0, "df": 1},
        {"id": "d", "kind": "count", "section": "", "quote": "q", "value": 1, "colour": "red"},
        {"id": "e", "kind": "count", "section": "S", "quote": "q", "value": "seven"},
        {
            "id": "f",
            "kind": "wilcoxon",
            "section": "S",
            "quote": "q",
            "value": -2.0,
            "z": -2.0,
            "r": -0.2,
            "p_relation": "<",
        },
        {
            "id": "g",
            "kind": "mean",
            "section": "S",
            "quote": "q",
            "value": 1.0,
            "unit": "days",
            "wave": "t9",
        },
    ]
    with pytest.raises(BadInputError) as info:
        parse_registry(_doc(*bad))
    text = str(info.value)
    for expected in (
        "duplicate id 'a'",
        "unknown value 'mystery'",
        "required for kind 'chi_square'",
        "'section'",
        "unknown field",
        "has type str",
        "needs the printed p",
        "'t9'",
    ):
        assert expected in text, expected


def test_load_registry_from_path_and_bad_toml(tmp_path):
    path = tmp_path / "paper.toml"
    path.write_text('[[entry]]\nid = "a"\nkind = "count"\nsection = "S"\nquote = "q"\nvalue = 1\n')
    assert len(load_registry(path)) == 1
    path.write_text("[[entry]\n")
    with pytest.raises(BadInputError, match="not valid TOML"):
        load_registry(path)


def test_packaged_file_is_plain_toml():
    from importlib import resources

    text = resources.files("bayes_qct").joinpath("data/paper.toml").read_text(encoding="utf-8")
    assert len(tomllib.loads(text)["entry"]) == sum(EXPECTED_KINDS.values())


def test_table1_score_reading_and_its_open_question_are_recorded(reg):
    e = reg.get("offending.logistic.or.composite_score")
    assert e.unit == "odds ratio per SD of the intake composite score"
    assert "NO offending at t2" in e.note and "OPEN QUESTION" in e.note
