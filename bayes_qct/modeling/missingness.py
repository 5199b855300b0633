"""Missing-data mechanisms as a registry: each entry owns its parameters and its terms.

A :class:`Mechanism` declares its parameters (:class:`Parameter`: name, default prior,
default fixed value, and whether the parameter changes the posterior or only the
post-processing); spec validation, the fit-folder label, the formula text, default
priors, provenance and the command line's options are all derived from that
declaration. Its dropout log-likelihood (:mod:`bayes_qct.modeling.dropout`) is one
function used by the default build, the compile-once build and NumPy code on posterior
draws. The paper's data handlings are entries too: their ``prepare`` transforms the
cohort (complete case, LOCF, mean imputation) and the MAR model is fitted on the result,
so the estimands show what each handling does.

Registered (data contract, names):

``mar``               likelihood on the observed rows; missing counts from the outcome model.
``selection``         logit P(r = 1) = eta_r + phi y / n; a missing y summed out exactly.
``shared-parameter``  logit P(r = 1) = eta_r + lambda level_i (the participant's latent
                      level); given it the missing counts follow the outcome model.
``pattern-mixture``   the MAR posterior; a missed wave's count (and expected rate) comes
                      from the MAR model with its logit mean shifted by delta (per legal
                      status with ``delta_qct`` / ``delta_voluntary``). delta = 0 is MAR.
``complete-case``, ``locf``, ``mean-imputation``: data handlings (:func:`prepare_handling`).

The indicator is "the outcome was observed" (item nonresponse included). Which rows the
dropout model describes, and the terms of ``eta_r``, are the design's; rows outside it
(the intake wave of the day-count design) are missing at random under every mechanism.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bayes_qct.constants import LEGAL_STATUSES, WAVES
from bayes_qct.modeling.dropout import (
    selection_loglik,
    selection_missing_weight,
    shared_parameter_loglik,
)
from bayes_qct.modeling.priors import PriorTable

if TYPE_CHECKING:
    from bayes_qct.data.cohort import Cohort

POSTERIOR = "posterior"
POSTPROCESSING = "postprocessing"


@dataclass(frozen=True)
class Parameter:
    """A mechanism's parameter, as the spec, the CLI and the fit record see it.

    Attributes
    ----------
    name
        Spec key (``[missingness] phi = ...``) and option (``--phi``).
    description
        One line for ``--help`` and the formula text.
    affects
        ``posterior`` (a change needs new draws, or reweighted ones) or
        ``postprocessing`` (the same posterior, other predictions: never resamples).
    default
        The value when the spec does not give one; ``None`` means estimated under
        ``prior`` (posterior parameters) or "take the value of ``falls_back_to``".
    prior
        Default prior when estimated (``None``: the parameter is never estimated).
    falls_back_to
        Another parameter whose value this one takes when not given (per-group deltas).
    status
        The legal status whose rows alone the parameter acts on (per-group deltas), so
        a sweep can evaluate each group once per value of its own parameter.
    """

    name: str
    description: str
    affects: str
    default: float | None = None
    prior: Mapping[str, Any] | None = None
    falls_back_to: str | None = None
    status: str | None = None

    @property
    def estimable(self) -> bool:
        """True when leaving it unset means "estimate it under its prior"."""
        return self.prior is not None


@dataclass(frozen=True)
class Mechanism:
    """A missing-data mechanism (or, via ``prepare``, a data handling).

    Attributes
    ----------
    name
        Registry key (data contract names).
    description
        One line for listings and the formula.
    parameters
        Declared parameters (:class:`Parameter`), in order.
    kind
        ``mechanism`` (a model of dropout) or ``handling`` (a data handling).
    dropout_loglik
        ``f(ops, DropoutInputs) -> (seen_ll, missing_ll)`` for a mechanism with a
        response model (the design's dropout predictor and priors come with it);
        ``None``: the missing outcomes are ignorable given the outcome model.
    needs_level
        The response model uses the participant's latent level (a design without one
        cannot take this mechanism).
    missing_log_weight
        NumPy ``f(params, eta_r, n, k_max) -> log weight`` over k multiplying the outcome
        pmf of a missing dropout row (``None``: the outcome model alone).
    eta_shift
        NumPy ``f(params, missed, status) -> shift`` of the logit mean per row, given which
        rows are missed dropout rows and each row's legal status (pattern-mixture).
    prepare
        ``f(cohort, column) -> cohort`` applied to the outcome's cohort column before
        building (complete case, LOCF...).
    samples_as
        The mechanism whose posterior this one's equals (pattern-mixture: ``mar``); fits
        of the two share draws and differ only in post-processing.
    formula
        ``f(params, outcome_text, dropout_terms) -> str``: the dropout part of the formula.
    """

    name: str
    description: str
    parameters: tuple[Parameter, ...] = ()
    kind: str = "mechanism"
    dropout_loglik: Callable[..., tuple[Any, Any]] | None = None
    needs_level: bool = False
    missing_log_weight: Callable[..., np.ndarray] | None = None
    eta_shift: Callable[..., np.ndarray] | None = None
    prepare: Callable[[Cohort, str], Cohort] | None = None
    samples_as: str | None = None
    formula: Callable[[Mapping[str, float | None], str, str], str] | None = None

    def parameter(self, name: str) -> Parameter:
        """Return the declared parameter ``name`` (KeyError when the mechanism has none)."""
        for param in self.parameters:
            if param.name == name:
                return param
        raise KeyError(name)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """Names of the declared parameters, in order."""
        return tuple(p.name for p in self.parameters)

    def resolve(self, given: Mapping[str, float | None]) -> dict[str, float | None]:
        """Every declared parameter's value: given, else its default (fall-backs applied)."""
        values = {p.name: given.get(p.name, p.default) for p in self.parameters}
        for p in self.parameters:
            if values[p.name] is None and p.falls_back_to is not None:
                values[p.name] = values[p.falls_back_to]
        return values

    def posterior_values(self, values: Mapping[str, float | None]) -> dict[str, float | None]:
        """Return the parameters that shape the posterior (None = estimated)."""
        return {p.name: values.get(p.name) for p in self.parameters if p.affects == POSTERIOR}

    def default_priors(self, values: Mapping[str, float | None]) -> PriorTable:
        """Priors of the estimated parameters (a fixed parameter has none)."""
        return {
            p.name: dict(p.prior)
            for p in self.parameters
            if p.estimable and values.get(p.name) is None
        }

    @property
    def models_dropout(self) -> bool:
        """True when the mechanism adds a response model (and its parameters)."""
        return self.dropout_loglik is not None


def parameter_text(name: str, value: float | None) -> str:
    """``phi estimated`` or ``phi = -1`` (for formulas and comparison tables)."""
    return f"{name} estimated" if value is None else f"{name} = {value:g}"


# ------------------------------------------------------------------------ selection

PHI = Parameter(
    "phi",
    "selection: dependence of P(observed) on the outcome's share of days (logit scale)",
    POSTERIOR,
    # phi is identified only by the parametric form, so its prior matters. N(0, 1)
    # keeps the odds ratio of being observed between a 30-day and a 0-day month within
    # about 1/7..7 (95%), the range attrition studies of drug users report, and lets the
    # data move it; wider priors let distributional misfit masquerade as MNAR.
    prior={"dist": "normal", "mu": 0.0, "sigma": 1.0},
)


def _selection_weight(
    params: Mapping[str, Any], eta_r: np.ndarray, n: np.ndarray, k_max: int
) -> np.ndarray:
    return selection_missing_weight(params, eta_r, n, k_max)


def _selection_formula(values: Mapping[str, float | None], outcome: str, terms: str) -> str:
    return f"observed ~ {terms} + phi * {outcome} ({parameter_text('phi', values['phi'])})"


# ---------------------------------------------------------------- shared-parameter

LAMBDA = Parameter(
    "lambda",
    "shared-parameter: dependence of P(observed) on the participant's latent level",
    POSTERIOR,
    # the level is on the outcome's logit scale (SD sigma_participant, about 1-2), so
    # N(0, 1) keeps the odds ratio of being observed between people 1 SD apart within
    # about 1/7..7 (95%), as phi's prior does for the selection model.
    prior={"dist": "normal", "mu": 0.0, "sigma": 1.0},
)


def _shared_formula(values: Mapping[str, float | None], outcome: str, terms: str) -> str:
    lam = parameter_text("lambda", values["lambda"])
    return f"observed ~ {terms} + lambda * v_participant ({lam})"


# ----------------------------------------------------------------- pattern-mixture

_QCT, _VOLUNTARY = LEGAL_STATUSES
DELTAS = (
    Parameter(
        "delta",
        "pattern-mixture: shift of the logit mean on missed waves (0 = MAR)",
        POSTPROCESSING,
        default=0.0,
    ),
    Parameter(
        f"delta_{_QCT.lower()}",
        f"pattern-mixture: delta for the {_QCT} group only (default: delta)",
        POSTPROCESSING,
        falls_back_to="delta",
        status=_QCT,
    ),
    Parameter(
        f"delta_{_VOLUNTARY.lower()}",
        f"pattern-mixture: delta for the {_VOLUNTARY} group only (default: delta)",
        POSTPROCESSING,
        falls_back_to="delta",
        status=_VOLUNTARY,
    ),
)


def _pattern_shift(
    params: Mapping[str, float | None], missed: np.ndarray, status: np.ndarray
) -> np.ndarray:
    """Each group's delta on the logit mean of missed dropout rows, 0 elsewhere (per row)."""
    by_group = np.where(
        status == _QCT, float(params[DELTAS[1].name]), float(params[DELTAS[2].name])
    )
    return np.where(missed, by_group, 0.0)


def _pattern_formula(values: Mapping[str, float | None], outcome: str, terms: str) -> str:
    qct, vol = values[DELTAS[1].name], values[DELTAS[2].name]
    if qct == vol:
        return f"missed waves: logit mean + delta (delta = {qct:g})"
    return f"missed waves: logit mean + delta ({_QCT} {qct:g}, {_VOLUNTARY} {vol:g})"


# ------------------------------------------------------------------- data handlings

HANDLING_OPTIONS: dict[str, dict[str, Any]] = {
    "complete-case": {"waves": WAVES},
    "locf": {"waves": WAVES[1:]},
    "mean-imputation": {"waves": WAVES, "by": "legal_status"},
}
"""How each handling is applied before the (MAR) model is fitted."""

HANDLING_TEXT: dict[str, str] = {
    "complete-case": "completers only (observed at all four waves)",
    "locf": "last observation carried forward into t2..t4",
    "mean-imputation": "missing values = observed wave mean by legal status, rounded to whole days",
}


def prepare_handling(name: str, cohort: Cohort, outcome: str) -> Cohort:
    """Apply one of the paper's handlings to the outcome; the table keeps its shape.

    ``complete-case``
        Completers only: participants whose outcome was observed at all four waves keep
        it; everyone else's outcome is hidden at every wave (their rows stay, so the
        estimands still average over every enrolled participant). The model is fitted on
        the completers, and a non-completer's level is drawn from the completers'
        distribution for their legal status and site: the estimands then describe the
        cohort *as if* the non-completers were like the completers (the assumption a
        completers' analysis makes), not the completers alone.
    ``locf``
        Each missing follow-up outcome (t2..t4) takes the participant's last observed
        value, with that wave's days at liberty (the paper carried t1 into t2 only; here
        every follow-up wave is filled). A missing t1 stays missing (predicted by the
        model).
    ``mean-imputation``
        Each missing outcome takes the observed mean of its wave within the participant's
        legal status, **rounded to whole days** (half up) and capped at the days at
        liberty, so the table stays one of day counts.

    Filled values are then treated as observed by the model (that is what the handlings
    do); :mod:`bayes_qct.frequentist.imputation` logs how many values each one filled
    or set aside.
    """
    from bayes_qct.frequentist.imputation import HANDLING_FUNCTIONS

    result = HANDLING_FUNCTIONS[name](cohort, outcome, **HANDLING_OPTIONS[name])
    if result.cohort is None:  # pragma: no cover - a Cohort in gives a Cohort out
        raise TypeError("prepare_handling needs a Cohort")
    return result.cohort


def _handling(name: str) -> Mechanism:
    def prepare(cohort: Cohort, outcome: str) -> Cohort:
        return prepare_handling(name, cohort, outcome)

    def formula(values: Mapping[str, float | None], outcome: str, terms: str) -> str:
        return f"fitted on handled data: {HANDLING_TEXT[name]}"

    return Mechanism(
        name,
        f"the paper's handling: {HANDLING_TEXT[name]}",
        kind="handling",
        prepare=prepare,
        formula=formula,
    )


# ------------------------------------------------------------------------- registry

MECHANISMS: dict[str, Mechanism] = {
    "mar": Mechanism("mar", "missing at random given the model"),
    "selection": Mechanism(
        "selection",
        "selection model (MNAR): P(observed) depends on the unobserved count",
        parameters=(PHI,),
        dropout_loglik=selection_loglik,
        missing_log_weight=_selection_weight,
        formula=_selection_formula,
    ),
    "shared-parameter": Mechanism(
        "shared-parameter",
        "shared-parameter model (MNAR): P(observed) depends on the participant's level",
        parameters=(LAMBDA,),
        dropout_loglik=shared_parameter_loglik,
        needs_level=True,
        formula=_shared_formula,
    ),
    "pattern-mixture": Mechanism(
        "pattern-mixture",
        "pattern-mixture (delta adjustment of the MAR model on missed waves)",
        parameters=DELTAS,
        eta_shift=_pattern_shift,
        samples_as="mar",
        formula=_pattern_formula,
    ),
    **{name: _handling(name) for name in HANDLING_OPTIONS},
}
"""Registry of mechanisms and data handlings, by their data-contract names."""


def get_mechanism(name: str) -> Mechanism:
    """Look a mechanism up by name (KeyError lists the known ones)."""
    try:
        return MECHANISMS[name]
    except KeyError:
        known = sorted(MECHANISMS)
        raise KeyError(f"unknown missingness mechanism {name!r}; expected one of {known}") from None


def all_parameters() -> dict[str, tuple[Parameter, list[str]]]:
    """Every declared parameter name -> (its declaration, the mechanisms that take it)."""
    out: dict[str, tuple[Parameter, list[str]]] = {}
    for mech in MECHANISMS.values():
        for param in mech.parameters:
            out.setdefault(param.name, (param, []))[1].append(mech.name)
    return out
