"""What a user sees: stdout holds results, stderr progress; legends; a discoverable API."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pandas as pd
import pytest

import bayes_qct
from bayes_qct.labels import NO_DATA
from bayes_qct.progress import ChainProgress, show_stages, stage
from bayes_qct.reporting.text import contrasts_text


def test_chain_progress_draws_on_the_file_it_is_given_not_stdout(capsys) -> None:
    sink = io.StringIO()
    chain = SimpleNamespace(
        finished_draws=10, total_draws=20, divergent_draws=[3], tuning=True, started=True
    )
    with ChainProgress(2, file=sink) as bar:
        bar.update([chain, chain])
    assert "chain 1" in sink.getvalue() and "divergences 1" in sink.getvalue()
    assert capsys.readouterr().out == ""


def test_stages_go_to_stderr_and_quiet_silences_them(capsys) -> None:
    show_stages(True)
    stage("sampling: %d chains", 4)
    captured = capsys.readouterr()
    assert "sampling: 4 chains" in captured.err and captured.out == ""
    show_stages(False)
    stage("not shown")
    assert "not shown" not in capsys.readouterr().err


def test_a_fit_announces_its_stages_on_stderr(tmp_path, capsys) -> None:
    from bayes_qct.fitting.pipeline import run_fit
    from bayes_qct.modeling.spec import load_spec
    from tests.conftest_model import simulate_cohort
    from tests.test_pipeline import FakeSampler

    cohort = simulate_cohort(20, seed=2, n_sites=3)[0]
    show_stages(True)
    try:
        run_fit(
            cohort,
            load_spec("offending"),
            folder=tmp_path / "fit",
            sampler=FakeSampler(cohort),
            force=False,
        )
    finally:
        show_stages(False)
    captured = capsys.readouterr()
    for word in ("building and compiling", "diagnostics", "estimands", "writing"):
        assert word in captured.err
    assert captured.out == ""


def test_the_fit_table_has_its_legend_and_marks_prior_only_cells() -> None:
    rows = []
    for q, g in (("expected_days", "QCT"), ("expected_days", "voluntary")):
        for w in ("t1", "t2"):
            rows.append(
                {
                    "quantity": q,
                    "legal_status": g,
                    "wave": w,
                    "mean": 5.0,
                    "lower": 4.0,
                    "upper": 6.0,
                    "prob_positive": float("nan"),
                    "note": NO_DATA if (g, w) == ("voluntary", "t2") else "",
                }
            )
    text = contrasts_text(pd.DataFrame(rows), "offending | data: x | model: m | missingness: mar")
    assert "95% equal-tailed" in text and "per 30 days at liberty" in text
    assert "expected_days averages" in text and "full_data_mean keeps" in text
    flat = " ".join(text.split())
    assert NO_DATA in flat and "not a causal effect" in flat
    assert all(len(line) <= 80 for line in text.splitlines())


def test_the_api_is_discoverable() -> None:
    names = set(dir(bayes_qct))
    assert {"fit", "load_cohort", "load_fit", "load_spec", "list_fits", "sweep"} <= names
    assert bayes_qct.api.__doc__ and "load_cohort" in bayes_qct.api.__doc__
    assert set(bayes_qct.api.QUANTITIES) == {
        "expected_days",
        "full_data_mean",
        "reduction",
        "reduction_difference",
        "any_days",
    }
    with pytest.raises(AttributeError):
        bayes_qct.nonsense  # noqa: B018


def test_compare_says_which_stage_it_is_in_and_what_it_reused(tmp_path, monkeypatch) -> None:
    from bayes_qct.fitting import families
    from tests.conftest_model import simulate_cohort

    messages = []
    cohort = simulate_cohort(20, seed=2, n_sites=3)[0]

    def fake_fit(cohort_, spec, **kwargs):
        raise RuntimeError("stop after the first stage")  # the messages come first

    monkeypatch.setattr(families, "run_fit", fake_fit)
    with pytest.raises(RuntimeError):
        families.run_comparison(
            cohort, "offending", ["binomial"], sampler=None, root=tmp_path, report=messages.append
        )
    assert messages and messages[0].startswith("[1/1] fitting binomial")
