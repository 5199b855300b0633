"""Companion fits: the fits a design asks ``bayes-qct fit`` to make beside its own.

A design lists :class:`~bayes_qct.modeling.designs.base.Companion` entries (Table 1's
fixed site-2 dummy beside the pooled sites, the selection model beside MAR, days retained
beside in treatment); :func:`companion_specs` resolves them against the main fit's spec
and command-line choices, and :func:`fit_companions` fits each (reusing unchanged fits)
so the command can show them side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bayes_qct.data.cohort import Cohort
from bayes_qct.fitting.fitfolder import FitResult
from bayes_qct.fitting.mechanisms import mechanism_overrides
from bayes_qct.modeling.designs import get_design
from bayes_qct.modeling.designs.base import Companion
from bayes_qct.modeling.spec import SAMPLER_KEYS, ModelSpec, load_spec

Fit = Callable[..., FitResult]
"""``fit(cohort, spec, out=..., force=..., progress=...) -> FitResult`` (``api.fit``)."""


def _carried(
    companion: Companion, overrides: Mapping[str, Any], *, same_outcome: bool
) -> dict[str, Any]:
    """Return the main fit's choices a companion takes, with its own overrides over them."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if not same_outcome:
        given = {k: v for k, v in given.items() if k in SAMPLER_KEYS}
    own = dict(companion.overrides)
    mechanism = own.get("missingness", own.get("mechanism"))
    if isinstance(mechanism, str):  # a parameter of the main fit's mechanism stays with it
        given = mechanism_overrides(mechanism, given)
    return {**given, **own}


def companion_specs(
    spec: ModelSpec,
    *,
    overrides: Mapping[str, Any] | None = None,
    model: str | Path | None = None,
) -> list[tuple[Companion, ModelSpec]]:
    """Resolve the companions of ``spec``'s design (a duplicate of the main fit is left out).

    Parameters
    ----------
    spec
        The main fit's resolved spec.
    overrides
        The main fit's command-line choices (flat override keys; ``None`` values unset).
    model
        The main fit's spec file, when one was given instead of the outcome's default.
    """
    seen = {(spec.outcome, spec.model_label())}
    out = []
    for companion in get_design(spec.design).companions:
        source = companion.spec or (model if model is not None else spec.outcome)
        base = load_spec(source)
        wanted = _carried(companion, overrides or {}, same_outcome=base.outcome == spec.outcome)
        resolved = load_spec(source, overrides=wanted) if wanted else base
        key = (resolved.outcome, resolved.model_label())
        if key not in seen:
            seen.add(key)
            out.append((companion, resolved))
    return out


def fit_companions(
    cohort: Cohort,
    spec: ModelSpec,
    *,
    fit: Fit,
    overrides: Mapping[str, Any] | None = None,
    model: str | Path | None = None,
    out: Path | None = None,
    force: bool = False,
    progress: bool = True,
    report: Callable[[str], None] | None = None,
) -> dict[str, FitResult]:
    """Fit every companion of ``spec``'s design; return them by label, in order.

    Each goes to its default folder (``posterior/<outcome>/<model>/``), or beside ``out``
    (``<out>-<key>``) when the main fit's folder was given.
    """
    results = {}
    for companion, resolved in companion_specs(spec, overrides=overrides, model=model):
        folder = None if out is None else out.parent / f"{out.name}-{companion.key}"
        if report is not None:
            report(
                f"companion fit: {companion.label} ({resolved.outcome}, {resolved.model_label()})"
            )
        results[companion.label] = fit(cohort, resolved, out=folder, force=force, progress=progress)
    return results
