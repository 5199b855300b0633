"""Tables every fit has, whatever its design: the priors it used.

The design's own tables (missingness patterns, site effects, ICC, observed vs model) live
with the design (:mod:`bayes_qct.modeling.designs`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def priors_table(priors: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """Tabulate the resolved priors actually used: ``parameter, dist, params``."""
    rows = []
    for name, prior in priors.items():
        params = ", ".join(f"{k}={v}" for k, v in prior.items() if k != "dist")
        rows.append({"parameter": name, "dist": prior["dist"], "params": params})
    return pd.DataFrame(rows, columns=["parameter", "dist", "params"])
