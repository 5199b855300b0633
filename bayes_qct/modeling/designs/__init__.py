"""Designs as a registry: what one row of a model is, and everything that hangs on it.

``person-wave`` is the day-count model of each participant at each interview;
``desistance``, ``retention`` and ``days-retained`` (with ``*-site2`` twins) are models
of one row per participant (:mod:`.person_outcomes`). A new
design is a :class:`~bayes_qct.modeling.designs.base.Design` subclass added with
:func:`register_design` (see ARCHITECTURE.md); nothing else changes.
"""

from __future__ import annotations

from bayes_qct.modeling.designs.base import Design, ModelData
from bayes_qct.modeling.designs.person_outcomes import PERSON_DESIGNS
from bayes_qct.modeling.designs.person_wave import PersonWave

DESIGNS: dict[str, Design] = {}
"""Registry of designs by name (as specs name them: ``design = "person-wave"``)."""

DEFAULT_DESIGN = "person-wave"


def register_design(design: Design) -> Design:
    """Add a design to the registry (its ``name`` must be new); return it."""
    if design.name in DESIGNS:
        raise ValueError(f"a design named {design.name!r} is already registered")
    DESIGNS[design.name] = design
    return design


def get_design(name: str) -> Design:
    """Look a design up by name (KeyError lists the known ones)."""
    try:
        return DESIGNS[name]
    except KeyError:
        raise KeyError(f"unknown design {name!r}; expected one of {sorted(DESIGNS)}") from None


def outcome_designs() -> dict[str, str]:
    """Every outcome any design models -> the design that models it."""
    return {outcome: d.name for d in DESIGNS.values() for outcome in d.outcomes}


register_design(PersonWave())
for _design in PERSON_DESIGNS:
    register_design(_design())

__all__ = ["DESIGNS", "Design", "ModelData", "get_design", "outcome_designs", "register_design"]
