"""Model specs: what to fit (outcome, family, mechanism, priors, sampler) as a frozen value.

A spec is read from TOML (``models/offending.toml``); command-line choices are merged over
it with :func:`load_spec`'s ``overrides``. The prior table is resolved at load time (the
family's and the mechanism's defaults with the user's entries merged over them), so a
spec says completely which model was fitted and its :meth:`ModelSpec.fingerprint` changes
whenever the model does.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bayes_qct.constants import OUTCOMES
from bayes_qct.errors import Problem, SpecError
from bayes_qct.modeling.priors import BASE_PRIORS, PriorTable, merge_priors

SAMPLERS = ("nutpie", "numpyro", "pymc")
TOP_KEYS = ("name", "outcome", "likelihood", "covariates", "missingness", "priors", "sampler")
MISSINGNESS_KEYS = ("mechanism", "phi", "lambda", "delta")
SAMPLER_KEYS = ("sampler", "draws", "tune", "chains", "seed", "target_accept")
# Flat override keys (the CLI's flags) -> where they live in the nested spec.
FLAT_OVERRIDES = {
    "mechanism": ("missingness", "mechanism"),
    "phi": ("missingness", "phi"),
    "lambda": ("missingness", "lambda"),
    "delta": ("missingness", "delta"),
    **{key: ("sampler", key) for key in SAMPLER_KEYS if key != "sampler"},
}
# Choices that name the fit's folder when overridden (sampler settings do not).
LABEL_KEYS = ("likelihood", "missingness", "phi", "lambda", "delta", "covariates", "priors")


@dataclass(frozen=True)
class SamplerSettings:
    """Sampler choice and its settings (seeded: same seed, same draws)."""

    sampler: str = "nutpie"
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    seed: int = 20260101
    target_accept: float = 0.9


@dataclass(frozen=True)
class ModelSpec:
    """A fully resolved model specification.

    Attributes
    ----------
    name
        The spec's name (``default``); fit folders are named by :meth:`model_label`.
    outcome
        ``offending`` or ``drug-use``.
    likelihood
        Key of :data:`bayes_qct.modeling.likelihoods.FAMILIES`.
    missingness
        Key of :data:`bayes_qct.modeling.missingness.MECHANISMS`.
    covariates
        Baseline covariate names (taken from each participant's t1 row).
    priors
        Resolved prior table, parameter name -> ``{"dist": ..., params...}``.
    phi
        Selection-model dependence on y/n: ``None`` = estimated under its prior, else fixed.
    lambda_
        Shared-parameter dependence of dropout on the participant's latent level v_i
        (``missingness.lambda`` in the TOML): ``None`` = estimated under its prior.
    delta
        Pattern-mixture shift of the logit mean on missed waves (0 = MAR).
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
    likelihood: str = "zero-inflated-binomial"
    missingness: str = "mar"
    covariates: tuple[str, ...] = ()
    priors: PriorTable = field(default_factory=dict)
    phi: float | None = None
    lambda_: float | None = None
    delta: float = 0.0
    sampler: SamplerSettings = field(default_factory=SamplerSettings)
    overridden: tuple[tuple[str, str], ...] = ()
    source: str = "<spec>"

    def to_dict(self) -> dict[str, Any]:
        """Plain, JSON-serialisable form of the resolved spec."""
        out = asdict(self)
        out["covariates"] = list(self.covariates)
        out["overridden"] = [list(p) for p in self.overridden]
        return out

    def fingerprint(self) -> str:
        """Stable hash of everything that determines the fit (not where it was read)."""
        data = self.to_dict()
        data.pop("source")
        data.pop("overridden")
        text = json.dumps(data, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def model_label(self) -> str:
        """Fit folder name: the spec name plus the model choices overridden at load."""
        parts = [self.name]
        for key, value in self.overridden:
            if key in ("likelihood", "missingness"):
                parts.append(value)
            elif key in LABEL_KEYS:
                parts.append(f"{key}{value}")
        return "-".join(parts)

    def formula(self) -> str:
        """Write the model out in brms-like notation (for reports)."""
        covs = "".join(f" + {c}" for c in self.covariates)
        text = (
            f"{OUTCOMES[self.outcome]} | trials(days_at_liberty) ~ legal_status * wave{covs}"
            f" + (1 | site) + (1 | participant_id), family = {self.likelihood}"
        )
        if "zero-inflated" in self.likelihood or "hurdle" in self.likelihood:
            part = "zi" if "zero-inflated" in self.likelihood else "hu"
            text += f"; {part} ~ wave + legal_status"
        return text + self._missingness_formula()

    def _missingness_formula(self) -> str:
        """Return the dropout part of :meth:`formula`."""
        column = OUTCOMES[self.outcome]
        if self.missingness == "selection":
            phi = "phi estimated" if self.phi is None else f"phi = {self.phi:g}"
            return (
                f"; observed ~ wave(t2..t4) + legal_status + phi * {column}"
                f" / days_at_liberty ({phi})"
            )
        if self.missingness == "shared-parameter":
            lam = "lambda estimated" if self.lambda_ is None else f"lambda = {self.lambda_:g}"
            return f"; observed ~ wave(t2..t4) + legal_status + lambda * v_participant ({lam})"
        if self.missingness == "pattern-mixture":
            return f"; missed waves: logit mean + delta (delta = {self.delta:g})"
        handled = {
            "complete-case": "completers only (observed at all four waves)",
            "locf": "last observation carried forward into t2..t4",
            "mean-imputation": "missing values = observed wave mean by legal status, "
            "rounded to whole days",
        }
        if self.missingness in handled:
            return f"; fitted on handled data: {handled[self.missingness]}"
        return ""


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
            expected=f"an outcome ({', '.join(OUTCOMES)}) or a path to a .toml spec",
        )
    )


def _set(raw: dict, path: tuple[str, ...], value: Any) -> None:
    node = raw
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any] | None) -> dict:
    """Merge overrides (flat CLI keys like ``draws``/``mechanism`` or nested tables)."""
    merged = copy.deepcopy(dict(raw))
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        if key == "missingness" and isinstance(value, str):
            _set(merged, ("missingness", "mechanism"), value)
        elif key == "sampler" and isinstance(value, str):
            _set(merged, ("sampler", "sampler"), value)
        elif key in FLAT_OVERRIDES:
            _set(merged, FLAT_OVERRIDES[key], value)
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
    return tuple(i for i in items if i[0] in LABEL_KEYS)


def load_spec(
    name_or_path: str | os.PathLike, *, overrides: Mapping[str, Any] | None = None
) -> ModelSpec:
    """Read a spec (an outcome name or a TOML path) and merge overrides over it.

    Parameters
    ----------
    name_or_path
        ``offending`` / ``drug-use`` (looked up in ./models, then the packaged copy, then
        the repository's models/), or a path to a TOML file.
    overrides
        Choices that take precedence over the file, flat (``likelihood``, ``missingness``,
        ``phi``, ``delta``, ``covariates``, ``sampler``, ``draws``, ``tune``, ``chains``,
        ``seed``, ``target_accept``) or as nested tables like the TOML's (``priors``).

    Raises
    ------
    SpecError
        Listing every problem, each naming its field.
    """
    path = find_spec_file(name_or_path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SpecError(Problem(str(path), f"is not valid TOML: {exc}")) from None
    return spec_from_dict(
        apply_overrides(raw, overrides), source=str(path), overridden=_label_items(overrides)
    )


def spec_from_dict(
    raw: Mapping[str, Any],
    *,
    source: str = "<spec>",
    overridden: tuple[tuple[str, str], ...] = (),
) -> ModelSpec:
    """Validate a nested spec mapping (the TOML's shape) and resolve its priors."""
    problems, values = check_raw(raw, file=source)
    if problems:
        raise SpecError(problems, file=source)
    return ModelSpec(
        **values,
        priors=resolve_priors(values, raw.get("priors", {}), file=source),
        overridden=overridden,
        source=source,
    )


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


def _check_missingness(table: Any, file: str, problems: list[Problem]) -> dict[str, Any]:
    from bayes_qct.modeling.missingness import MECHANISMS

    out: dict[str, Any] = {"missingness": "mar", "phi": None, "lambda_": None, "delta": 0.0}
    if not isinstance(table, Mapping):
        problems.append(_problem(file, "missingness", "must be a table", "[missingness]"))
        return out
    for key in table:
        if key not in MISSINGNESS_KEYS:
            problems.append(
                _problem(
                    file, f"missingness.{key}", "is not a known key", ", ".join(MISSINGNESS_KEYS)
                )
            )
    mech = table.get("mechanism", "mar")
    if mech not in MECHANISMS:
        problems.append(
            _problem(file, "missingness.mechanism", f"is {mech!r}", " | ".join(MECHANISMS))
        )
    out["missingness"] = mech
    for key in ("phi", "lambda", "delta"):
        if key in table and not _is_number(table[key]):
            problems.append(_problem(file, f"missingness.{key}", f"is {table[key]!r}", "a number"))
        elif key in table:
            out["lambda_" if key == "lambda" else key] = float(table[key])
    return out


def check_raw(raw: Mapping[str, Any], *, file: str) -> tuple[list[Problem], dict[str, Any]]:
    """Check a nested spec mapping; return every problem and the typed values."""
    from bayes_qct.data.cohort import BASELINE_COVARIATES
    from bayes_qct.modeling.likelihoods import FAMILIES

    problems: list[Problem] = []
    for key in raw:
        if key not in TOP_KEYS:
            problems.append(_problem(file, key, "is not a known key", ", ".join(TOP_KEYS)))
    name = raw.get("name", "default")
    if not isinstance(name, str) or not name or any(c in name for c in "/\\ "):
        problems.append(_problem(file, "name", f"is {name!r}", "a non-empty folder-safe name"))
    outcome = raw.get("outcome")
    if outcome not in OUTCOMES:
        problems.append(_problem(file, "outcome", f"is {outcome!r}", " | ".join(OUTCOMES)))
    likelihood = raw.get("likelihood", "zero-inflated-binomial")
    if likelihood not in FAMILIES:
        problems.append(_problem(file, "likelihood", f"is {likelihood!r}", " | ".join(FAMILIES)))
    covariates = raw.get("covariates", [])
    if not isinstance(covariates, list | tuple) or not all(isinstance(c, str) for c in covariates):
        problems.append(_problem(file, "covariates", "must be a list of names"))
        covariates = []
    for cov in covariates:
        if cov not in BASELINE_COVARIATES:
            problems.append(
                _problem(file, "covariates", f"names {cov!r}", ", ".join(BASELINE_COVARIATES))
            )
    if len(set(covariates)) != len(covariates):
        problems.append(_problem(file, "covariates", "lists a name twice"))
    if not isinstance(raw.get("priors", {}), Mapping):
        problems.append(_problem(file, "priors", "must be a table", "[priors]"))
    values: dict[str, Any] = {
        "name": name,
        "outcome": outcome,
        "likelihood": likelihood,
        "covariates": tuple(covariates),
        **_check_missingness(raw.get("missingness", {}), file, problems),
        "sampler": _check_sampler(raw.get("sampler", {}), file, problems),
    }
    return problems, values


def default_priors(
    likelihood: str, missingness: str, *, phi: float | None = None, lam: float | None = None
) -> PriorTable:
    """Return the default prior table of a family x mechanism (before user overrides).

    ``phi`` / ``lam``: the selection / shared-parameter dependence when the spec fixes it
    (a fixed parameter has no prior).
    """
    from bayes_qct.modeling.likelihoods import get_family
    from bayes_qct.modeling.missingness import get_mechanism

    table: PriorTable = {k: dict(v) for k, v in BASE_PRIORS.items()}
    table.update(copy.deepcopy(get_family(likelihood).default_priors))
    table.update(get_mechanism(missingness).default_priors(phi=phi, lam=lam))
    return table


def resolve_priors(values: Mapping[str, Any], user: Mapping[str, Any], *, file: str) -> PriorTable:
    """Defaults for the spec's family and mechanism with the user's entries merged over."""
    defaults = default_priors(
        values["likelihood"], values["missingness"], phi=values["phi"], lam=values["lambda_"]
    )
    if not values["covariates"]:
        defaults.pop("beta_cov")
        user = {k: v for k, v in user.items() if k != "beta_cov"}
    return merge_priors(defaults, user, file=file)
