"""The batched summary gives ArviZ's numbers, for every parameter at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from bayes_qct.estimands.diagnostics import parameter_summary


def posterior(chains=4, draws=400, seed=0):
    """Autocorrelated draws with ties, a constant entry and a multi-dimensional variable."""
    rng = np.random.default_rng(seed)
    ar = np.zeros((chains, draws, 3))
    for t in range(1, draws):
        ar[:, t] = 0.8 * ar[:, t - 1] + rng.normal(size=(chains, 3))
    sticky = np.repeat(rng.normal(size=(chains, draws // 4)), 4, axis=1)  # repeated draws
    wide = rng.gamma(2.0, size=(chains, draws, 2, 3)) + np.arange(3)
    constant = np.zeros((chains, draws))
    return xr.Dataset(
        {
            "a": (("chain", "draw", "k"), ar),
            "sticky": (("chain", "draw"), sticky),
            "wide": (("chain", "draw", "i", "j"), wide),
            "zero": (("chain", "draw"), constant),
        },
        coords={"k": ["x", "y", "z"], "i": [0, 1], "j": ["p", "q", "r"]},
    )


@pytest.mark.parametrize("chains", [4, 1])
def test_batch_summary_equals_arviz(chains):
    import arviz_stats

    data = posterior(chains=chains)
    ours = parameter_summary(xr.DataTree.from_dict({"posterior": data})).set_index("parameter")
    ref = pd.DataFrame(
        arviz_stats.summary(data, ci_prob=0.95, ci_kind="eti", round_to="none")
    ).astype(float)
    assert list(ours.index) == list(ref.index)
    assert list(ours.columns) == list(ref.columns)
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-9, equal_nan=True)


def test_var_names_select_and_order_the_rows():
    data = posterior()
    table = parameter_summary(xr.DataTree.from_dict({"posterior": data}), var_names=["sticky", "a"])
    assert list(table["parameter"]) == ["sticky", "a[x]", "a[y]", "a[z]"]
