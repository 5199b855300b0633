"""The fixed effects sampled centred (each status's level and wave effects) are the model.

:func:`~bayes_qct.modeling.designs.person_wave_model.fixed_effects` samples
``a_s = level_s(t1) + c_s . g_s`` and the QCT group's own wave effects instead of
``b0``, ``b_qct``, ``g_wave`` and ``d_qct_wave``, and centres the intercepts at ``a_s``.
A change of coordinates with Jacobian 1 and the priors moved with it: the log density
at corresponding points must be the same number, for every mechanism.
"""

from __future__ import annotations

import numpy as np
import pytest

from bayes_qct.modeling.build import build_model, model_data, prepared_data
from bayes_qct.modeling.designs import person_wave_model
from bayes_qct.modeling.spec import spec_from_dict
from tests.conftest_model import simulate_cohort

FAST = "FAST_COMPILE"


@pytest.fixture(scope="module")
def cohort():
    return simulate_cohort(40, seed=5, phi=-1.0, n_sites=4, intake_missing=2)[0]


def _spec(mechanism: str, likelihood: str = "zero-inflated-binomial", **extra):
    raw = {
        "outcome": "offending",
        "likelihood": likelihood,
        "missingness": {"mechanism": mechanism},
    }
    return spec_from_dict(raw | extra)


def _plain_model(cohort, spec, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(person_wave_model, "centred_waves", lambda priors: False)
        return build_model(cohort, spec)


def _centred_point(plain: dict, data) -> dict:
    """The centred model's coordinates of a plain model's point."""
    c = data.wave_weights
    g, d = plain["g_wave_free"], plain["d_qct_wave_free"]
    g_qct = g + d
    mean = np.array([c[0] @ g, c[1] @ g_qct])
    point = {k: v for k, v in plain.items() if k not in ("b0", "b_qct", "d_qct_wave_free")}
    point["g_qct_wave_free"] = g_qct
    point["a_voluntary"] = plain["b0"] + mean[0]
    point["a_qct"] = plain["b0"] + plain["b_qct"] + mean[1]
    shift = np.where(data.participant_qct > 0.5, mean[1], mean[0])
    point["w_participant"] = plain["w_participant"] + np.where(data.participant_centred, shift, 0.0)
    return point


@pytest.mark.parametrize(
    ("mechanism", "extra"),
    [
        ("mar", {}),
        ("selection", {}),
        ("shared-parameter", {}),
        ("pattern-mixture", {}),
        ("complete-case", {}),  # non-completers' intercepts are non-centred
        ("mar", {"covariates": ["age", "male"]}),
    ],
)
def test_centred_model_has_the_plain_models_density(cohort, monkeypatch, mechanism, extra):
    spec = _spec(mechanism, **extra)
    centred = build_model(cohort, spec)
    plain = _plain_model(cohort, spec, monkeypatch)
    free = {v.name for v in centred.free_RVs}
    assert {"a_voluntary", "a_qct", "g_qct_wave_free"} <= free
    assert not {"b0", "b_qct", "d_qct_wave_free"} & free
    assert {"b0", "b_qct", "d_qct_wave_free"} <= {v.name for v in plain.free_RVs}
    _, data = prepared_data(cohort, spec)
    logp_c, logp_p = centred.compile_logp(mode=FAST), plain.compile_logp(mode=FAST)
    det_c, det_p = (
        m.compile_fn(
            m.replace_rvs_by_values([m[n] for n in ("b0", "b_qct", "d_qct_wave", "v_participant")]),
            inputs=m.value_vars,
            mode=FAST,
            on_unused_input="ignore",
        )
        for m in (centred, plain)
    )
    rng = np.random.default_rng(1)
    start = plain.initial_point()
    for _ in range(3):
        point = {k: v + rng.normal(0, 0.7, size=np.shape(v)) for k, v in start.items()}
        moved = _centred_point(point, data)
        assert set(moved) == set(centred.initial_point())
        np.testing.assert_allclose(logp_c(moved), logp_p(point), rtol=1e-11)
        for a, b in zip(det_c(moved), det_p(point), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_wave_weights_are_each_statuses_observed_shares(cohort) -> None:
    data = model_data(cohort, _spec("mar"))
    for status in (0, 1):
        seen = data.observed & (data.qct == status)
        shares = [np.mean(data.wave[seen] == t) for t in (1, 2, 3)]
        np.testing.assert_allclose(data.wave_weights[status], shares)


def test_a_positive_prior_on_an_effect_keeps_the_plain_coordinates(cohort) -> None:
    spec = _spec("mar", priors={"b_qct": {"dist": "halfnormal", "sigma": 1.0}})
    free = {v.name for v in build_model(cohort, spec).free_RVs}
    assert {"b0", "b_qct", "g_wave_free", "d_qct_wave_free"} <= free
    assert "a_voluntary" not in free
