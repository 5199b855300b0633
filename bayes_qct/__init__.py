"""bayes-qct: Bayesian reanalysis of the QCT drug-treatment cohort.

The public API lives in :mod:`bayes_qct.api` and is re-exported here lazily, so that
``import bayes_qct`` stays fast and imports no sampler.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["fit", "load_cohort", "load_fit"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from bayes_qct import api

        return getattr(api, name)
    raise AttributeError(f"module 'bayes_qct' has no attribute {name!r}")
