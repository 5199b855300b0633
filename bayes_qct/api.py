"""The Python API scripts use: load data, fit, check. Thin wrappers over the library."""

from __future__ import annotations

import os

from bayes_qct.data.cohort import Cohort

# --- data (owned by the lead) ------------------------------------------------------------


def load_cohort(
    path: str | os.PathLike | None = None, mapping: str | os.PathLike | None = None
) -> Cohort:
    """Read, validate and type a cohort file; ``None`` loads the bundled synthetic cohort.

    Parameters
    ----------
    path
        A ``.csv``, ``.parquet``, ``.sav`` or ``.dta`` file, long or wide (DATA_CONTRACT §1).
        ``None`` gives the bundled reconstructed cohort, which is synthetic and says so.
    mapping
        Optional TOML column mapping (user names and labels -> the contract's).

    Raises
    ------
    BadInputError
        Listing every problem (file, row or participant, column, what was expected).
    """
    from bayes_qct.data.io import load_cohort_file

    return load_cohort_file(path, mapping=mapping)


# --- fitting (model-pipeline helper adds fit / load_fit below) -----------------------------
