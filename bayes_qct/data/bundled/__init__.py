"""The bundled synthetic cohort (data files), and where they are.

Kept apart from :mod:`bayes_qct.data.reconstruct` (which makes them) so that finding the
file imports nothing else: every command on the bundled cohort starts here.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

BUNDLED_CSV = "qct_cohort_synthetic.csv"
BUNDLED_META = "qct_cohort_synthetic.json"


def bundled_path() -> Path:
    """Path of the bundled synthetic cohort CSV (inside the installed package)."""
    return Path(str(resources.files(__name__).joinpath(BUNDLED_CSV)))


def bundled_metadata_path() -> Path:
    """Path of the bundled cohort's metadata JSON."""
    return Path(str(resources.files(__name__).joinpath(BUNDLED_META)))
