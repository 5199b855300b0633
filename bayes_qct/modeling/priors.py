"""Priors as data: distribution registry, default tables and merging of user overrides.

A prior is a small mapping ``{"dist": "normal", "mu": 0.0, "sigma": 1.0}``. The builder
never chooses a prior itself: it asks :func:`make_prior` for the variable by name and the
resolved table (the design's, family's and mechanism's defaults, then the user's
overrides) says what it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bayes_qct.errors import Problem, SpecError

PriorTable = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class PriorDist:
    """One supported prior distribution: its parameters and how to build it in PyMC."""

    params: tuple[str, ...]
    positive: tuple[str, ...]
    pymc_name: str  # the PyMC distribution (imported only when a model is built)
    support: str  # "real" or "positive"

    @property
    def build(self) -> Callable[..., Any]:
        """The PyMC distribution class."""
        import pymc as pm

        return getattr(pm, self.pymc_name)


PRIOR_DISTS: dict[str, PriorDist] = {
    "normal": PriorDist(("mu", "sigma"), ("sigma",), "Normal", "real"),
    "studentt": PriorDist(("nu", "mu", "sigma"), ("nu", "sigma"), "StudentT", "real"),
    "halfnormal": PriorDist(("sigma",), ("sigma",), "HalfNormal", "positive"),
    "halfstudentt": PriorDist(("nu", "sigma"), ("nu", "sigma"), "HalfStudentT", "positive"),
    "exponential": PriorDist(("lam",), ("lam",), "Exponential", "positive"),
    "gamma": PriorDist(("alpha", "beta"), ("alpha", "beta"), "Gamma", "positive"),
    "lognormal": PriorDist(("mu", "sigma"), ("sigma",), "LogNormal", "positive"),
}
"""Registry of prior distributions a spec may name."""


def spec_problems(table: Mapping[str, Any], *, field: str, file: str) -> list[Problem]:
    """Return every problem of a prior table (unknown dist, missing/extra/bad params)."""
    problems: list[Problem] = []
    for name, prior in table.items():
        where = f"{field}.{name}"
        if not isinstance(prior, Mapping):
            problems.append(
                Problem(file, f"{where} must be a table", column=where, expected="{dist=...}")
            )
            continue
        dist_name = prior.get("dist")
        if dist_name not in PRIOR_DISTS:
            problems.append(
                Problem(
                    file,
                    f"{where}.dist is {dist_name!r}",
                    column=f"{where}.dist",
                    expected=" | ".join(PRIOR_DISTS),
                )
            )
            continue
        dist = PRIOR_DISTS[dist_name]
        for key, value in prior.items():
            if key == "dist":
                continue
            if key not in dist.params:
                problems.append(
                    Problem(
                        file,
                        f"{where}.{key} is not a parameter of {dist_name}",
                        column=f"{where}.{key}",
                        expected=", ".join(dist.params),
                    )
                )
            elif isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(
                    Problem(file, f"{where}.{key} must be a number", column=f"{where}.{key}")
                )
            elif key in dist.positive and value <= 0:
                problems.append(
                    Problem(file, f"{where}.{key} must be > 0", column=f"{where}.{key}")
                )
        missing = [p for p in dist.params if p not in prior]
        if missing:
            problems.append(
                Problem(
                    file,
                    f"{where} lacks {', '.join(missing)}",
                    column=where,
                    expected=", ".join(dist.params),
                )
            )
    return problems


def merge_priors(
    defaults: Mapping[str, Mapping[str, Any]],
    overrides: Mapping[str, Any],
    *,
    field: str = "priors",
    file: str = "<spec>",
) -> PriorTable:
    """Merge user prior overrides over the defaults and validate the result.

    An override naming the same ``dist`` (or none) updates only the parameters it gives;
    one naming another ``dist`` replaces the default entirely. Names not in the defaults
    are refused, so a typo never silently leaves a default in place.

    Raises
    ------
    SpecError
        Listing every unknown name and bad parameter, each named ``priors.<name>...``.
    """
    problems: list[Problem] = []
    merged: PriorTable = {name: dict(prior) for name, prior in defaults.items()}
    for name, override in overrides.items():
        if name not in defaults:
            problems.append(
                Problem(
                    file,
                    f"{field}.{name} is not a parameter of this model",
                    column=f"{field}.{name}",
                    expected=", ".join(sorted(defaults)),
                )
            )
            continue
        if not isinstance(override, Mapping):
            problems.append(Problem(file, f"{field}.{name} must be a table", column=name))
            continue
        base = merged[name]
        if "dist" in override and override["dist"] != base["dist"]:
            merged[name] = dict(override)
        else:
            merged[name] = {**base, **override}
    problems += spec_problems(merged, field=field, file=file)
    if problems:
        raise SpecError(problems, file=file)
    return merged


def make_prior(
    name: str, table: Mapping[str, Mapping[str, Any]], *, shift: Any = None, **kwargs: Any
) -> Any:
    """Create the PyMC random variable ``name`` from its entry in the prior table.

    ``shift`` (a location family's only, see :func:`shiftable`) moves the prior's
    location: ``x ~ D(mu + shift, ...)`` is ``x - shift ~ D(mu, ...)``, the same prior on
    ``x - shift``.
    """
    prior = dict(table[name])
    dist = PRIOR_DISTS[prior.pop("dist")]
    if shift is not None:
        if not shiftable(table[name]):
            raise ValueError(f"the prior of {name} has no location to shift")
        prior["mu"] = prior["mu"] + shift
    return dist.build(name, **prior, **kwargs)


def shiftable(prior: Mapping[str, Any]) -> bool:
    """Whether a prior is a location family on the real line (normal, Student t).

    Examples
    --------
    >>> shiftable({"dist": "normal", "mu": 0.0, "sigma": 1.0})
    True
    >>> shiftable({"dist": "lognormal", "mu": 0.0, "sigma": 1.0})
    False
    """
    dist = PRIOR_DISTS[prior["dist"]]
    return dist.support == "real" and "mu" in dist.params


def log_density(prior: Mapping[str, Any], x: Any) -> Any:
    """Evaluate a prior's log density at ``x`` in NumPy (elementwise; for power-scaling).

    Examples
    --------
    >>> float(log_density({"dist": "normal", "mu": 0.0, "sigma": 1.0}, 0.0))  # doctest: +ELLIPSIS
    -0.918938...
    """
    import numpy as np
    from scipy import stats

    p = dict(prior)
    x = np.asarray(x, dtype=np.float64)
    name = p.pop("dist")
    if name == "normal":
        return stats.norm.logpdf(x, p["mu"], p["sigma"])
    if name == "studentt":
        return stats.t.logpdf(x, p["nu"], p["mu"], p["sigma"])
    if name == "halfnormal":
        return stats.halfnorm.logpdf(x, scale=p["sigma"])
    if name == "halfstudentt":
        return np.where(x >= 0, np.log(2.0) + stats.t.logpdf(x, p["nu"], scale=p["sigma"]), -np.inf)
    if name == "exponential":
        return stats.expon.logpdf(x, scale=1.0 / p["lam"])
    if name == "gamma":
        return stats.gamma.logpdf(x, p["alpha"], scale=1.0 / p["beta"])
    if name == "lognormal":
        return stats.lognorm.logpdf(x, p["sigma"], scale=np.exp(p["mu"]))
    raise KeyError(f"no log density for prior {name!r}; expected one of {sorted(PRIOR_DISTS)}")
