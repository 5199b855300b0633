"""Shared fixtures: small hand-made cohorts in the data contract's long format."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayes_qct.constants import WAVES


def make_long(n_people: int = 12, *, seed: int = 0, n_sites: int = 3) -> pd.DataFrame:
    """A small valid long table: some waves absent, some outcomes empty."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_people):
        status = "QCT" if i % 2 == 0 else "voluntary"
        site = f"site{i % n_sites + 1}"
        for w, wave in enumerate(WAVES):
            if w > 0 and rng.random() < 0.3:
                continue  # absent row: not interviewed
            liberty = int(rng.integers(20, 31))
            off = int(rng.integers(0, liberty + 1))
            drug = int(rng.integers(0, liberty + 1))
            rows.append(
                {
                    "participant_id": f"p{i:03d}",
                    "site": site,
                    "legal_status": status,
                    "wave": wave,
                    "offending_days": off,
                    "drug_use_days": drug if rng.random() > 0.1 else None,
                    "days_at_liberty": liberty,
                    "age": float(20 + i),
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def long_table() -> pd.DataFrame:
    return make_long()


# the report tests' outputs root and report, made once per session (no MCMC)
from tests.report_helpers import report_files, report_root  # noqa: E402, F401
