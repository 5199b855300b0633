"""Checking a spec's raw mapping (the TOML's shape) and resolving its priors.

Every problem is collected (a field name with what was expected), never the first only;
:func:`check_raw` returns them with the typed values, and :func:`resolve_priors` merges
the user's priors over the defaults of the design, the family and the mechanism.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bayes_qct.errors import Problem
from bayes_qct.modeling.designs import DEFAULT_DESIGN, DESIGNS, get_design, outcome_designs
from bayes_qct.modeling.likelihoods import FAMILIES, get_family
from bayes_qct.modeling.missingness import MECHANISMS, all_parameters, get_mechanism
from bayes_qct.modeling.priors import PriorTable, merge_priors

SAMPLERS = ("nutpie", "numpyro", "pymc")
TOP_KEYS = (
    "name",
    "outcome",
    "design",
    "likelihood",
    "covariates",
    "missingness",
    "priors",
    "sampler",
)
SAMPLER_KEYS = ("sampler", "draws", "tune", "chains", "seed", "target_accept")


@dataclass(frozen=True)
class SamplerSettings:
    """Sampler choice and its settings (seeded: same seed, same draws)."""

    sampler: str = "nutpie"
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = 20260101
    target_accept: float = 0.9


def _problem(file: str, fld: str, message: str, expected: str | None = None) -> Problem:
    return Problem(file, f"{fld} {message}", column=fld, expected=expected)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_sampler(table: Any, file: str, problems: list[Problem]) -> SamplerSettings:
    if not isinstance(table, Mapping):
        problems.append(_problem(file, "sampler", "must be a table"))
        return SamplerSettings()
    for key in table:
        if key not in SAMPLER_KEYS:
            problems.append(
                _problem(file, f"sampler.{key}", "is not a known key", ", ".join(SAMPLER_KEYS))
            )
    settings = {
        **asdict(SamplerSettings()),
        **{k: v for k, v in table.items() if k in SAMPLER_KEYS},
    }
    if settings["sampler"] not in SAMPLERS:
        problems.append(
            _problem(file, "sampler.sampler", f"is {settings['sampler']!r}", " | ".join(SAMPLERS))
        )
    for key, low in (("draws", 1), ("tune", 0), ("chains", 1), ("seed", 0)):
        if not _is_int(settings[key]) or settings[key] < low:
            problems.append(
                _problem(file, f"sampler.{key}", f"is {settings[key]!r}", f"an integer >= {low}")
            )
    ta = settings["target_accept"]
    if not _is_number(ta) or not 0 < ta < 1:
        problems.append(_problem(file, "sampler.target_accept", f"is {ta!r}", "a number in (0, 1)"))
    return SamplerSettings(**settings)


def _check_missingness(
    table: Any, file: str, problems: list[Problem], design: str | None
) -> dict[str, Any]:
    """Return the mechanism and its resolved parameters; a parameter of another one is refused."""
    out: dict[str, Any] = {"missingness": "mar", "missingness_parameters": ()}
    if not isinstance(table, Mapping):
        problems.append(_problem(file, "missingness", "must be a table", "[missingness]"))
        return out
    name = table.get("mechanism", "mar")
    if name not in MECHANISMS:
        problems.append(
            _problem(file, "missingness.mechanism", f"is {name!r}", " | ".join(MECHANISMS))
        )
        return out
    mechanism = get_mechanism(name)
    if design in DESIGNS:
        allowed = DESIGNS[design].mechanisms
        if allowed is not None and name not in allowed:
            problems.append(
                _problem(
                    file,
                    "missingness.mechanism",
                    f"is {name!r}, which design {design!r} does not take",
                    " | ".join(allowed),
                )
            )
        if mechanism.needs_level and not DESIGNS[design].has_level:
            problems.append(
                _problem(
                    file,
                    "missingness.mechanism",
                    f"is {name!r}, which needs a participant-level latent intercept; "
                    f"design {design!r} has none",
                )
            )
    known = all_parameters()
    given: dict[str, float | None] = {}
    for key, value in table.items():
        if key == "mechanism":
            continue
        where = f"missingness.{key}"
        if key not in known:
            problems.append(
                _problem(file, where, "is not a known key", ", ".join(["mechanism", *known]))
            )
        elif key not in mechanism.parameter_names:
            owners = " or ".join(known[key][1])
            problems.append(
                _problem(
                    file,
                    where,
                    f"is a parameter of {owners}, not of the chosen missingness {name!r}",
                    ", ".join(mechanism.parameter_names) or f"no parameter for {name}",
                )
            )
        elif not _is_number(value):
            problems.append(_problem(file, where, f"is {value!r}", "a number"))
        else:
            given[key] = float(value)
    out["missingness"] = name
    out["missingness_parameters"] = tuple(mechanism.resolve(given).items())
    return out


def check_raw(raw: Mapping[str, Any], *, file: str) -> tuple[list[Problem], dict[str, Any]]:
    """Check a nested spec mapping; return every problem and the typed values."""
    problems: list[Problem] = []
    for key in raw:
        if key not in TOP_KEYS:
            problems.append(_problem(file, key, "is not a known key", ", ".join(TOP_KEYS)))
    name = raw.get("name", "default")
    if not isinstance(name, str) or not name or any(c in name for c in "/\\ "):
        problems.append(_problem(file, "name", f"is {name!r}", "a non-empty folder-safe name"))
    outcome = raw.get("outcome")
    by_outcome = outcome_designs()
    design = raw.get("design", by_outcome.get(outcome, DEFAULT_DESIGN))
    if design not in DESIGNS:
        problems.append(_problem(file, "design", f"is {design!r}", " | ".join(DESIGNS)))
    elif outcome not in DESIGNS[design].outcomes:
        expected = " | ".join(DESIGNS[design].outcomes)
        problems.append(_problem(file, "outcome", f"is {outcome!r}", expected))
    likelihood = raw.get("likelihood", "zero-inflated-binomial")
    if likelihood not in FAMILIES:
        problems.append(_problem(file, "likelihood", f"is {likelihood!r}", " | ".join(FAMILIES)))
    elif design in DESIGNS and DESIGNS[design].families is not None:
        families = DESIGNS[design].families or ()
        if likelihood not in families:
            problems.append(
                _problem(
                    file,
                    "likelihood",
                    f"is {likelihood!r}, which design {design!r} does not take",
                    " | ".join(families),
                )
            )
    covariates = raw.get("covariates", [])
    if not isinstance(covariates, list | tuple) or not all(isinstance(c, str) for c in covariates):
        problems.append(_problem(file, "covariates", "must be a list of names"))
        covariates = []
    allowed = DESIGNS[design].covariates if design in DESIGNS else ()
    for cov in covariates:
        if cov not in allowed:
            problems.append(_problem(file, "covariates", f"names {cov!r}", ", ".join(allowed)))
    if len(set(covariates)) != len(covariates):
        problems.append(_problem(file, "covariates", "lists a name twice"))
    if not isinstance(raw.get("priors", {}), Mapping):
        problems.append(_problem(file, "priors", "must be a table", "[priors]"))
    values: dict[str, Any] = {
        "name": name,
        "outcome": outcome,
        "design": design,
        "likelihood": likelihood,
        "covariates": tuple(covariates),
        **_check_missingness(raw.get("missingness", {}), file, problems, design),
        "sampler": _check_sampler(raw.get("sampler", {}), file, problems),
    }
    return problems, values


def default_priors(
    design: str,
    likelihood: str,
    missingness: str,
    parameters: Mapping[str, float | None],
    *,
    covariates: bool,
) -> PriorTable:
    """Default prior table of a design x family x mechanism (before user overrides).

    The design's parameters and the family's zero part, the family's own parameters,
    then the response model's predictor (for a mechanism that models dropout) and the
    mechanism's estimated parameters (a fixed one has no prior).
    """
    the_design = get_design(design)
    family = get_family(likelihood)
    mechanism = get_mechanism(missingness)
    table = the_design.default_priors(family, covariates=covariates)
    table.update(copy.deepcopy(dict(family.default_priors)))
    if mechanism.models_dropout:
        table.update(the_design.dropout_priors())
    table.update(mechanism.default_priors(parameters))
    return table


def resolve_priors(values: Mapping[str, Any], user: Mapping[str, Any], *, file: str) -> PriorTable:
    """Defaults for the spec's design, family and mechanism with the user's entries merged."""
    defaults = default_priors(
        values["design"],
        values["likelihood"],
        values["missingness"],
        dict(values["missingness_parameters"]),
        covariates=bool(values["covariates"]),
    )
    if not values["covariates"]:
        user = {k: v for k, v in user.items() if k != "beta_cov"}
    return merge_priors(defaults, user, file=file)
