"""Priors as data: distribution registry, default tables and merging of user overrides.

A prior is a small mapping ``{"dist": "normal", "mu": 0.0, "sigma": 1.0}``. The builder
never chooses a prior itself: it asks :func:`make_prior` for the variable by name and the
resolved table (family defaults, then mechanism defaults, then the user's overrides) says
what it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pymc as pm

from bayes_qct.errors import Problem, SpecError

PriorTable = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class PriorDist:
    """One supported prior distribution: its parameters and how to build it in PyMC."""

    params: tuple[str, ...]
    positive: tuple[str, ...]
    build: Callable[..., Any]
    support: str  # "real" or "positive"


PRIOR_DISTS: dict[str, PriorDist] = {
    "normal": PriorDist(("mu", "sigma"), ("sigma",), pm.Normal, "real"),
    "studentt": PriorDist(("nu", "mu", "sigma"), ("nu", "sigma"), pm.StudentT, "real"),
    "halfnormal": PriorDist(("sigma",), ("sigma",), pm.HalfNormal, "positive"),
    "halfstudentt": PriorDist(("nu", "sigma"), ("nu", "sigma"), pm.HalfStudentT, "positive"),
    "exponential": PriorDist(("lam",), ("lam",), pm.Exponential, "positive"),
    "gamma": PriorDist(("alpha", "beta"), ("alpha", "beta"), pm.Gamma, "positive"),
    "lognormal": PriorDist(("mu", "sigma"), ("sigma",), pm.LogNormal, "positive"),
}
"""Registry of prior distributions a spec may name."""


# Shared by every family: the logit-scale mean model. Offending / drug-use days at intake
# average roughly 8-15 of 30 (logit about -1), so b0 ~ N(-1, 1.5) puts 95% of the baseline
# rate between 1 and 26 days; wave and status effects of +-3 on the logit scale (a change
# from 25 to 2 days) stay plausible under N(0, 1.5).
BASE_PRIORS: PriorTable = {
    "b0": {"dist": "normal", "mu": -1.0, "sigma": 1.5},
    "b_qct": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
    "g_wave": {"dist": "normal", "mu": 0.0, "sigma": 1.5},
    "d_qct_wave": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
    # 10 sites: a half-normal with scale 0.5 keeps most mass on site SDs below 1 logit
    # (a site rate 2.7x another's) and, being light-tailed, keeps the sampler out of
    # the long, weakly identified tail that a half-Cauchy would open with so few sites.
    "sigma_site": {"dist": "halfnormal", "sigma": 0.5},
    # Persons differ a lot (desisters next to daily offenders): scale 2 on the logit scale.
    "sigma_participant": {"dist": "halfnormal", "sigma": 2.0},
    # Covariates are standardised (binary ones centred): N(0, 1) per SD.
    "beta_cov": {"dist": "normal", "mu": 0.0, "sigma": 1.0},
}


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


def make_prior(name: str, table: Mapping[str, Mapping[str, Any]], **kwargs: Any) -> Any:
    """Create the PyMC random variable ``name`` from its entry in the prior table."""
    prior = dict(table[name])
    dist = PRIOR_DISTS[prior.pop("dist")]
    return dist.build(name, **prior, **kwargs)


def prior_table_frame(table: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows ``{parameter, dist, params}`` describing the priors used (for reports)."""
    rows = []
    for name, prior in table.items():
        params = ", ".join(f"{k}={v}" for k, v in prior.items() if k != "dist")
        rows.append({"parameter": name, "dist": prior["dist"], "params": params})
    return rows
