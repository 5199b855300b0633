"""The terminal rendering of a fit, chosen by its design (no list of design names here).

A design names its rendering (:attr:`~bayes_qct.modeling.designs.base.Design.renderer`);
:data:`RENDERERS` maps each name to a function of the fit and its companion fits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bayes_qct.modeling.designs import get_design
from bayes_qct.reporting.person_text import participant_text
from bayes_qct.reporting.text import contrasts_text


def _day_counts(result: Any, companions: Mapping[str, Any]) -> str:
    """Render the day-count estimands (their designs have no companions)."""
    return contrasts_text(result.contrasts, result.heading)


RENDERERS: dict[str, Callable[[Any, Mapping[str, Any]], str]] = {
    "day-counts": _day_counts,
    "participant": participant_text,
}
"""Renderings by the name a design gives (``Design.renderer``)."""


def fit_text(result: Any, companions: Mapping[str, Any] | None = None) -> str:
    """Render a fit (and its companions) the way its design asks."""
    design = get_design(result.record.design)
    return RENDERERS[design.renderer](result, companions or {})
