"""bayes-qct: Bayesian reanalysis of the QCT drug-treatment cohort.

The public API lives in :mod:`bayes_qct.api` and is re-exported here lazily, so that
``import bayes_qct`` stays fast and imports no sampler. ``help(bayes_qct.api)`` lists it.
"""

from __future__ import annotations

from typing import Any

from bayes_qct.constants import TOOLKIT_VERSION as __version__

__all__ = ["__version__", "fit", "list_fits", "load_cohort", "load_fit", "load_spec", "sweep"]


def __getattr__(name: str) -> Any:
    if name == "api":
        import importlib

        return importlib.import_module("bayes_qct.api")
    if name in __all__:
        from bayes_qct import api

        return getattr(api, name)
    raise AttributeError(f"module 'bayes_qct' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*__all__, "api"])
