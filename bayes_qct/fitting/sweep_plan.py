"""A sweep's plan: the mechanism, the swept parameters and their grids, checked.

The swept parameters must be ones the mechanism declares (the error names the
mechanism that takes an option); a two-way grid sweeps two post-processing parameters
(the per-group deltas), a posterior parameter is swept alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bayes_qct.constants import TOOLKIT_VERSION
from bayes_qct.data.cohort import Cohort
from bayes_qct.errors import BadInputError, Problem
from bayes_qct.fitting.grid import COMMAND_LINE, parse_grid
from bayes_qct.modeling.missingness import POSTERIOR, all_parameters, get_mechanism
from bayes_qct.modeling.spec import ModelSpec, load_spec, spec_from_dict


@dataclass(frozen=True)
class SweepPlan:
    """What a sweep evaluates: one mechanism, one or two parameters and their grids."""

    outcome: str
    mechanism: str
    axes: tuple[tuple[str, tuple[float, ...]], ...]
    overrides: Mapping[str, Any] = field(default_factory=dict)
    model: str | None = None
    base_fit: str | None = None
    """A fit folder whose spec (and, for post-processing, posterior) the sweep starts from."""

    @property
    def parameters(self) -> tuple[str, ...]:
        """The swept parameters, in order."""
        return tuple(name for name, _ in self.axes)

    @property
    def label(self) -> str:
        """The sweep folder's name: the mechanism and the swept parameters."""
        return "-".join([self.mechanism, *self.parameters])

    @property
    def affects(self) -> str:
        """``posterior`` or ``postprocessing`` (every swept parameter is of one kind)."""
        return get_mechanism(self.mechanism).parameter(self.parameters[0]).affects

    def points(self) -> list[dict[str, float]]:
        """Every grid point, the first parameter varying slowest."""
        grids = [values for _, values in self.axes]
        return [
            dict(zip(self.parameters, combo, strict=True)) for combo in itertools.product(*grids)
        ]

    @staticmethod
    def point_id(point: Mapping[str, float]) -> str:
        """Return a point's checkpoint name (``delta_qct=-1+delta_voluntary=0.5``)."""
        return "+".join(f"{k}={v:g}" for k, v in point.items())

    def references(self) -> dict[str, float]:
        """Each parameter's MAR value (0), where conclusions are judged."""
        mechanism = get_mechanism(self.mechanism)
        out = {}
        for name in self.parameters:
            default = mechanism.parameter(name).default
            out[name] = 0.0 if default is None else float(default)
        return out

    def spec_at(self, point: Mapping[str, float]) -> ModelSpec:
        """Return the resolved spec of one grid point."""
        if self.base_fit is not None:  # the fit's own spec, with the mechanism and the point
            base = self.base_spec()
            raw = base.to_dict()
            raw["missingness"] = {"mechanism": self.mechanism, **point}
            label = (*base.overridden, ("missingness", self.mechanism))
            return spec_from_dict(raw, source=base.source, overridden=label)
        overrides = {**self.overrides, "missingness": self.mechanism, **point}
        return load_spec(self.model or self.outcome, overrides=overrides)

    def base_spec(self) -> ModelSpec:
        """Return the spec of the fit the sweep starts from (what a delta post-processes).

        The spec's own folder when its mechanism is that posterior's (the default fit),
        else the spec with the mechanism set.
        """
        if self.base_fit is not None:
            from bayes_qct.fitting.fitfolder import load_fit

            return load_fit(self.base_fit).spec
        mechanism = get_mechanism(self.mechanism)
        name = mechanism.samples_as or mechanism.name
        plain = load_spec(self.model or self.outcome, overrides=dict(self.overrides))
        if plain.missingness == name:
            return plain
        overrides = {**self.overrides, "missingness": name}
        return load_spec(self.model or self.outcome, overrides=overrides)

    def key(self, cohort: Cohort) -> dict[str, Any]:
        """Return what the results depend on (a checkpoint folder holds one key)."""
        return {
            "data_sha256": cohort.sha256,
            "outcome": self.outcome,
            "mechanism": self.mechanism,
            "grid": {name: list(values) for name, values in self.axes},
            "spec_fingerprint": self.base_spec().fingerprint(),
            "base_fit": self.base_fit,
            "toolkit_version": TOOLKIT_VERSION,
        }


def _bad(option: str, message: str, expected: str | None = None) -> BadInputError:
    return BadInputError(Problem(COMMAND_LINE, message, column=option, expected=expected))


def plan_sweep(
    outcome: str,
    mechanism: str,
    grids: Mapping[str, str],
    *,
    overrides: Mapping[str, Any] | None = None,
    model: str | None = None,
    base_fit: str | None = None,
) -> SweepPlan:
    """Check a sweep's mechanism and grids; return its plan.

    Raises
    ------
    BadInputError
        Naming the option: an unknown mechanism, a parameter the mechanism does not
        declare (and which mechanism does), no grid or more than two, parameters of
        different kinds, or a malformed grid (exit code 2).
    """
    from bayes_qct.modeling.missingness import MECHANISMS

    if mechanism not in MECHANISMS:
        raise _bad("--mechanism", f"--mechanism is {mechanism!r}", " | ".join(MECHANISMS))
    mech = get_mechanism(mechanism)
    if not mech.parameters:
        sweepable = [m.name for m in MECHANISMS.values() if m.parameters]
        raise _bad(
            "--mechanism",
            f"{mechanism} has no parameter to sweep",
            "a mechanism with one: " + ", ".join(sweepable),
        )
    known = all_parameters()
    axes = []
    for name, text in grids.items():
        option = "--" + name.replace("_", "-")
        if name not in mech.parameter_names:
            owners = " or ".join(known[name][1]) if name in known else "no mechanism"
            raise _bad(
                option,
                f"{option} is a parameter of {owners}, not of {mechanism}",
                ", ".join("--" + p.replace("_", "-") for p in mech.parameter_names),
            )
        axes.append((name, parse_grid(text, option=option)))
    if not axes:
        raise _bad(
            "grid",
            f"no grid given for {mechanism}",
            ", ".join(f"--{p.replace('_', '-')} START:STOP:COUNT" for p in mech.parameter_names),
        )
    if len(axes) > 2:
        raise _bad("grid", "at most two parameters can be swept at once")
    kinds = {mech.parameter(name).affects for name, _ in axes}
    if len(kinds) > 1 or (POSTERIOR in kinds and len(axes) > 1):
        raise _bad("grid", "a two-way grid sweeps two post-processing parameters")
    names = [n for n, _ in axes]
    if "delta" in names and len(names) > 1:
        raise _bad(
            "--delta", "--delta sets both groups: sweep it alone, or the two per-group deltas"
        )
    clean = {k: v for k, v in (overrides or {}).items() if v is not None and k not in known}
    if base_fit is not None:
        _check_base_fit(base_fit, outcome, mech)
    return SweepPlan(outcome, mechanism, tuple(axes), clean, model, base_fit)


def _check_base_fit(folder: str, outcome: str, mechanism: Any) -> None:
    """Refuse a base fit folder that is missing, of another outcome, or of another posterior."""
    from bayes_qct.fitting.fitfolder import load_fit

    try:
        fit = load_fit(folder)
    except BadInputError as exc:
        raise _bad(
            "--fit", f"--fit {folder!r}: {exc.problems[0].message}", "a fit folder"
        ) from None
    if fit.record.outcome != outcome:
        raise _bad("--fit", f"--fit {folder!r} is a fit of {fit.record.outcome}, not {outcome}")
    wanted = mechanism.samples_as or mechanism.name
    if mechanism.samples_as is not None and fit.record.missingness.get("mechanism") != wanted:
        raise _bad(
            "--fit",
            f"--fit {folder!r} holds a {fit.record.missingness.get('mechanism')} fit; "
            f"{mechanism.name} post-processes a {wanted} posterior",
        )
