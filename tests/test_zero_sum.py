"""The zero-sum site effects are ``pm.ZeroSumNormal``, written without its join.

:func:`~bayes_qct.modeling.designs.person_wave_model.zero_sum_standard_normal` samples the
S - 1 free values of ``pm.ZeroSumNormal(sigma=1)``'s transform and maps them into the
zero-sum subspace with the same map, so at the same free values the effects must be the
same numbers and the log densities differ by a constant only.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

from bayes_qct.modeling.designs.person_wave_model import zero_sum_standard_normal

FAST = "FAST_COMPILE"


@pytest.mark.parametrize("size", [2, 3, 10])
def test_zero_sum_effects_are_pymcs_zero_sum_normal(size):
    coords = {"site": [f"S{k}" for k in range(size)]}
    with pm.Model(coords=coords) as theirs:
        pm.ZeroSumNormal("z", sigma=1.0, dims="site")
    with pm.Model(coords=coords) as ours:
        pm.Deterministic("z", zero_sum_standard_normal("z", "site"), dims="site")
    assert [v.name for v in ours.free_RVs] == ["z_free"]  # and nothing else stored
    (value,) = theirs.value_vars
    their_logp = theirs.compile_logp(mode=FAST)
    their_z = theirs.compile_fn(theirs.unobserved_value_vars, mode=FAST)
    our_logp = ours.compile_logp(mode=FAST)
    our_z = ours.compile_fn(ours.unobserved_value_vars, mode=FAST)
    rng = np.random.default_rng(size)
    gaps = []
    for _ in range(5):
        free = rng.normal(size=size - 1) * 2.0
        z = _named(ours, our_z({"z_free": free}))["z"]
        expected = _named(theirs, their_z({value.name: free}))["z"]
        np.testing.assert_allclose(z, expected, rtol=1e-13, atol=1e-14)
        assert abs(z.sum()) < 1e-12
        np.testing.assert_allclose(np.sum(z**2), np.sum(free**2), rtol=1e-12)  # an isometry
        gaps.append(their_logp({value.name: free}) - our_logp({"z_free": free}))
    np.testing.assert_allclose(gaps, gaps[0], rtol=0, atol=1e-10)


def test_one_site_has_no_site_effect():
    with pm.Model(coords={"site": ["S1"]}) as model:
        z = zero_sum_standard_normal("z", "site")
    assert model.free_RVs == [] and model.deterministics == []
    np.testing.assert_array_equal(z.eval(), [0.0])


def _named(model, values):
    return dict(zip([v.name for v in model.unobserved_value_vars], values, strict=True))
