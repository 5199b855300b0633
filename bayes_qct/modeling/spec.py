"""Model specs: what to fit (design, outcome, family, mechanism, priors, sampler) as a value.

A spec is read from TOML (``models/offending.toml``); command-line choices are merged over
it with :func:`load_spec`'s ``overrides``. The prior table is resolved at load time (the
design's, the family's and the mechanism's defaults with the user's entries merged over
them), and the mechanism's declared parameters are resolved to their values, so a spec
says completely which model was fitted. :meth:`ModelSpec.to_dict` writes the TOML's
shape and :func:`spec_from_dict` reads it back to an equal spec.

Two fingerprints: :meth:`ModelSpec.fingerprint` changes whenever a result would, and
:meth:`ModelSpec.posterior_fingerprint` only when the posterior would (a pattern-mixture
delta is post-processing of the MAR posterior; fits that share it share draws).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from bayes_qct.errors import Problem, SpecError
from bayes_qct.modeling.designs import DEFAULT_DESIGN, get_design, outcome_designs
from bayes_qct.modeling.missingness import (
    MECHANISMS,
    all_parameters,
    get_mechanism,
    parameter_text,
)
from bayes_qct.modeling.priors import PriorTable
from bayes_qct.modeling.spec_checks import (
    SAMPLER_KEYS,
    SAMPLERS,
    TOP_KEYS,
    SamplerSettings,
    check_raw,
    resolve_priors,
)

COMMAND_LINE = "command line"
"""The ``file`` of a problem with a value given as an option rather than in the spec."""


def flat_overrides() -> dict[str, tuple[str, ...]]:
    """Flat override keys (the CLI's options) -> where they live in the nested spec."""
    params = {name: ("missingness", name) for name in all_parameters()}
    sampler = {key: ("sampler", key) for key in SAMPLER_KEYS if key != "sampler"}
    return {"mechanism": ("missingness", "mechanism"), **params, **sampler}


def option_name(key: str) -> str:
    """Return the command-line option of an override key (``delta_qct`` -> ``--delta-qct``)."""
    return "--" + key.replace("_", "-")


def label_keys() -> tuple[str, ...]:
    """Choices that name the fit's folder when overridden (sampler settings do not)."""
    return ("design", "likelihood", "missingness", *all_parameters(), "covariates", "priors")


@dataclass(frozen=True)
class ModelSpec:
    """A fully resolved model specification.

    Attributes
    ----------
    name
        The spec's name (``default``); fit folders are named by :meth:`model_label`.
    outcome
        An outcome of the design (``offending``, ``drug-use``).
    design
        Key of :data:`bayes_qct.modeling.designs.DESIGNS` (``person-wave``).
    likelihood
        Key of :data:`bayes_qct.modeling.likelihoods.FAMILIES`.
    missingness
        Key of :data:`bayes_qct.modeling.missingness.MECHANISMS`.
    covariates
        Baseline covariate names (taken from each participant's t1 row).
    priors
        Resolved prior table, parameter name -> ``{"dist": ..., params...}``.
    missingness_parameters
        ``(name, value)`` of every parameter the mechanism declares, in its order;
        ``None`` = estimated under its prior (or, for a per-group delta, taken from delta
        at resolution, so no ``None`` is left there).
    sampler
        :class:`SamplerSettings`.
    overridden
        ``(key, value-text)`` pairs of model choices overridden at load time, in order
        (they name the fit folder).
    source
        Where the spec was read from.
    """

    name: str
    outcome: str
    design: str = DEFAULT_DESIGN
    likelihood: str = "zero-inflated-binomial"
    missingness: str = "mar"
    covariates: tuple[str, ...] = ()
    priors: PriorTable = field(default_factory=dict)
    missingness_parameters: tuple[tuple[str, float | None], ...] = ()
    sampler: SamplerSettings = field(default_factory=SamplerSettings)
    overridden: tuple[tuple[str, str], ...] = ()
    source: str = "<spec>"

    @property
    def mechanism_params(self) -> dict[str, float | None]:
        """The mechanism's parameters by name (``None``: estimated)."""
        return dict(self.missingness_parameters)

    def to_dict(self) -> dict[str, Any]:
        """Return the spec in the TOML's shape (JSON-ready); :func:`spec_from_dict` reads it."""
        missingness: dict[str, Any] = {"mechanism": self.missingness}
        missingness.update({k: v for k, v in self.missingness_parameters if v is not None})
        return {
            "name": self.name,
            "outcome": self.outcome,
            "design": self.design,
            "likelihood": self.likelihood,
            "covariates": list(self.covariates),
            "missingness": missingness,
            "priors": copy.deepcopy(self.priors),
            "sampler": asdict(self.sampler),
        }

    def fingerprint(self) -> str:
        """Stable hash of everything that determines the fit's results."""
        return _hash(self.to_dict())

    def posterior_fingerprint(self) -> str:
        """Stable hash of what determines the posterior draws only.

        Post-processing parameters are left out, the mechanism is replaced by the one
        whose posterior it samples (pattern-mixture: MAR), and the spec's name is not
        part of it: two fits with equal posterior fingerprints share draws.
        """
        mechanism = get_mechanism(self.missingness)
        data = self.to_dict()
        data.pop("name")
        posterior = mechanism.posterior_values(self.mechanism_params)
        data["missingness"] = {
            "mechanism": mechanism.samples_as or mechanism.name,
            **{k: v for k, v in posterior.items() if v is not None},
        }
        return _hash(data)

    def model_label(self) -> str:
        """Fit folder name: the spec name plus the model choices overridden at load."""
        parts = [self.name]
        for key, value in self.overridden:
            if key in ("design", "likelihood", "missingness"):
                parts.append(value)
            elif key in label_keys():
                parts.append(f"{key}{value}")
        return "-".join(parts)

    def formula(self) -> str:
        """Return the model in brms-like notation, its dropout part included (for reports)."""
        design = get_design(self.design)
        mechanism = get_mechanism(self.missingness)
        text = design.formula(self.outcome, self.likelihood, self.covariates)
        if mechanism.formula is None:
            return text
        dropout = mechanism.formula(
            self.mechanism_params, design.outcome_text(self.outcome), design.dropout_terms
        )
        return f"{text}; {dropout}"

    def parameter_summary(self) -> str:
        """Return the mechanism's parameters as fitted (``phi estimated``, ``delta = -1``)."""
        params = self.mechanism_params
        shown = [
            parameter_text(p.name, params[p.name])
            for p in get_mechanism(self.missingness).parameters
            if p.falls_back_to is None or params[p.name] != params[p.falls_back_to]
        ]
        return ", ".join(shown) if shown else "-"

    def without_sampler(self) -> ModelSpec:
        """Return the same model with default sampler settings (a compiled model's cache key)."""
        return replace(self, sampler=SamplerSettings())


def _hash(data: Mapping[str, Any]) -> str:
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ----------------------------------------------------------------------- loading


def _spec_dirs() -> list[Path]:
    here = Path(__file__).resolve().parent.parent  # bayes_qct/
    return [Path.cwd() / "models", here / "_specs", here.parent / "models"]


def find_spec_file(name_or_path: str | os.PathLike) -> Path:
    """Resolve an outcome name or spec path to a TOML file (CWD, wheel, repo)."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.is_file():
        if not path.is_file():
            raise SpecError(Problem(str(path), "no such spec file"))
        return path
    for folder in _spec_dirs():
        candidate = folder / f"{name_or_path}.toml"
        if candidate.is_file():
            return candidate
    raise SpecError(
        Problem(
            str(name_or_path),
            "no spec of that name in ./models, the installed package or the repository",
            expected=f"an outcome ({', '.join(outcome_designs())}) or a path to a .toml spec",
        )
    )


def _set(raw: dict, path: tuple[str, ...], value: Any) -> None:
    node = raw
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> dict:
    """Merge overrides (flat CLI keys like ``draws``/``mechanism`` or nested tables).

    When the overrides choose another mechanism, the file's parameters of its own
    mechanism are dropped (they do not apply to the one chosen).
    """
    merged = copy.deepcopy(dict(raw))
    flat = flat_overrides()
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    mechanism = overrides.get("missingness", overrides.get("mechanism"))
    if isinstance(mechanism, str) and mechanism in MECHANISMS:
        table = merged.get("missingness")
        if isinstance(table, Mapping) and table.get("mechanism", "mar") != mechanism:
            keep = set(get_mechanism(mechanism).parameter_names)
            merged["missingness"] = {k: v for k, v in table.items() if k in keep}
    for key, value in overrides.items():
        if key == "missingness" and isinstance(value, str):
            _set(merged, ("missingness", "mechanism"), value)
        elif key == "sampler" and isinstance(value, str):
            _set(merged, ("sampler", "sampler"), value)
        elif key in flat:
            _set(merged, flat[key], value)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _label_items(overrides: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    items = []
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        key = "missingness" if key == "mechanism" else key
        if isinstance(value, Mapping) and key == "missingness":
            for sub, subval in value.items():
                name = "missingness" if sub == "mechanism" else sub
                items.append((name, str(subval)))
            continue
        if isinstance(value, list | tuple):
            value = "+".join(map(str, value))
        elif isinstance(value, Mapping):
            value = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:6]
        items.append((key, f"{value:g}" if isinstance(value, float) else str(value)))
    return tuple(i for i in items if i[0] in label_keys())


def _override_origins(overrides: Mapping[str, Any] | None) -> dict[str, str]:
    """Nested field path -> the option that set it, for blaming the right source."""
    flat = flat_overrides()
    origins = {}
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key in ("missingness", "mechanism") and isinstance(value, str):
            origins["missingness.mechanism"] = "--missingness"
        elif key == "sampler" and isinstance(value, str):
            origins["sampler.sampler"] = "--sampler"
        elif key in flat:
            origins[".".join(flat[key])] = option_name(key)
        else:
            origins[key] = option_name(key)
    return origins


def _blame(problems: list[Problem], origins: Mapping[str, str]) -> list[Problem]:
    """Attribute problems with overridden fields to the command line and its option."""
    out = []
    for problem in problems:
        option = origins.get(problem.column or "")
        if option is None:
            out.append(problem)
            continue
        message = problem.message.replace(problem.column or "", option, 1)
        out.append(replace(problem, file=COMMAND_LINE, column=option, message=message))
    return out


def load_spec(
    name_or_path: str | os.PathLike, *, overrides: Mapping[str, Any] | None = None
) -> ModelSpec:
    """Read a spec (an outcome name or a TOML path) and merge overrides over it.

    Parameters
    ----------
    name_or_path
        An outcome (``offending``, ``drug-use``; looked up in ./models, then the
        packaged copy, then the repository's models/), or a path to a TOML file.
    overrides
        Choices that take precedence over the file, flat (``likelihood``, ``missingness``,
        a mechanism parameter such as ``phi``, ``lambda``, ``delta``, ``covariates``,
        ``sampler``, ``draws``, ``tune``, ``chains``, ``seed``, ``target_accept``) or as
        nested tables like the TOML's (``priors``). A problem with an override names
        the option (``--phi``) and the command line rather than the file.

    Raises
    ------
    SpecError
        Listing every problem, each naming its field (or option).
    """
    path = find_spec_file(name_or_path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(Problem(str(path), f"is not valid TOML: {exc}")) from None
    try:
        return spec_from_dict(
            apply_overrides(raw, overrides), source=str(path), overridden=_label_items(overrides)
        )
    except SpecError as exc:
        raise SpecError(_blame(exc.problems, _override_origins(overrides))) from None


def spec_from_dict(
    raw: Mapping[str, Any],
    *,
    source: str = "<spec>",
    overridden: tuple[tuple[str, str], ...] | list = (),
) -> ModelSpec:
    """Validate a nested spec mapping (the TOML's shape) and resolve it."""
    problems, values = check_raw(raw, file=source)
    if problems:
        raise SpecError(problems, file=source)
    return ModelSpec(
        **values,
        priors=resolve_priors(values, raw.get("priors", {}), file=source),
        overridden=tuple(tuple(item) for item in overridden),
        source=source,
    )


__all__ = [
    "SAMPLERS",
    "SAMPLER_KEYS",
    "TOP_KEYS",
    "ModelSpec",
    "SamplerSettings",
    "find_spec_file",
    "load_spec",
    "spec_from_dict",
]
