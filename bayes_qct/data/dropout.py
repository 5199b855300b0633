"""The dropout mechanisms of `simulate`: who is interviewed at each follow-up wave.

At each follow-up wave t (t1 is always observed) the interview happens with probability::

    logit P(observed_it) = a_t + a_qct*QCT_i + term_it

where ``term_it`` is the mechanism's (a registry, looked up by name):

``mcar``              0 (and a_qct = 0)
``mar``               strength * y_i,last / n_i,last  (the latest *observed* value)
``mnar``              strength * y_it / n_it  (the current, possibly unobserved value:
                      STATISTICS.md's selection model, ``phi = strength``; phi < 0 means
                      heavier users drop out)
``shared-parameter``  strength * v_i / s_person  (the participant's latent level)
``pattern-mixture``   0, but the counts of missed waves come from the model with the
                      logit mean shifted by ``delta`` (delta = 0: drawn like the
                      observed ones, so the cohort is the ``mcar`` one)

The a_t are solved so the expected share interviewed matches ``retention`` (default the
paper's 68% / 64% / 61%). Missingness is intermittent by default (as in the study: 128
people re-interviewed at least once, 95 at t4); ``pattern="monotone"`` makes a missed wave
final. A missed interview leaves both outcomes missing; ``dropout_outcome`` says whose
values drive ``mar`` / ``mnar`` / ``shared-parameter``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from scipy.optimize import brentq
from scipy.special import expit

from bayes_qct.constants import WAVES
from bayes_qct.data import generator as gen
from bayes_qct.errors import BadInputError

DEFAULT_STRENGTH: dict[str, float] = {
    "mcar": 0.0,
    "mar": -2.0,
    "mnar": -2.0,
    "shared-parameter": -0.8,
    "pattern-mixture": 0.0,
}
"""Default strength per mechanism (log-odds of being interviewed per unit of its term)."""

PAPER_RETENTION: tuple[float, float, float] = (106 / 157, 100 / 157, 95 / 157)

Term = Callable[[int, dict], np.ndarray]


def _no_term(w: int, ctx: dict) -> np.ndarray:
    return np.zeros(ctx["n"])


def _mar_term(w: int, ctx: dict) -> np.ndarray:
    return ctx["strength"] * ctx["last_rate"]


def _mnar_term(w: int, ctx: dict) -> np.ndarray:
    return ctx["strength"] * ctx["rate"][:, w]


def _shared_term(w: int, ctx: dict) -> np.ndarray:
    return ctx["strength"] * ctx["v_std"]


MECHANISMS: dict[str, Term] = {
    "mcar": _no_term,
    "mar": _mar_term,
    "mnar": _mnar_term,
    "shared-parameter": _shared_term,
    "pattern-mixture": _no_term,
}
"""Dropout mechanisms of `simulate`, by name."""

SETTINGS_USED: dict[str, tuple[str, ...]] = {
    "mcar": (),
    "mar": ("strength", "dropout_outcome", "status_effect"),
    "mnar": ("strength", "dropout_outcome", "status_effect"),
    "shared-parameter": ("strength", "dropout_outcome", "status_effect"),
    "pattern-mixture": ("delta", "status_effect"),
}
"""The dropout settings each mechanism uses; size, sites, effects, retention and pattern
apply to every one. A setting given to a mechanism that does not use it is refused: it
would be printed and recorded while changing nothing."""


def refuse_unused(dropout: str, given: Mapping[str, str]) -> None:
    """Refuse settings the dropout mechanism does not use.

    Parameters
    ----------
    dropout
        The mechanism's name.
    given
        The settings given, each mapped to the name the user knows it by
        (``{"strength": "--strength"}`` on the command line).

    Raises
    ------
    BadInputError
        Naming each unused setting and the mechanisms that take it.
    """
    problems = []
    for setting, name in given.items():
        if setting in SETTINGS_USED.get(dropout, ()):
            continue
        takers = [m for m, used in SETTINGS_USED.items() if setting in used]
        listed = ", ".join(takers[:-1]) + f" and {takers[-1]}" if len(takers) > 1 else takers[0]
        where = f"--dropout {dropout}" if name.startswith("--") else f"dropout {dropout!r}"
        problems.append(f"{name} is not used by {where}: it is taken by {listed}")
    if problems:
        cli = any(name.startswith("--") for name in given.values())
        raise BadInputError("; ".join(problems), file="<command line>" if cli else "<arguments>")


def _solve_intercept(target: float, offset: np.ndarray, at_risk: np.ndarray) -> float:
    """Solve for a with mean(expit(a + offset)) over ``at_risk`` equal to ``target``."""
    if not at_risk.any():
        return 0.0
    off = offset[at_risk]
    target = min(max(target, 1e-6), 1 - 1e-6)
    return float(brentq(lambda a: expit(a + off).mean() - target, -40, 40))


def draw_interviews(
    rng: np.random.Generator,
    pop: gen.Population,
    *,
    rate: np.ndarray,
    mechanism: str,
    strength: float,
    status_effect: float,
    retention: tuple[float, float, float],
    pattern: str,
    s_person: float,
    outcome_index: int,
) -> tuple[np.ndarray, list[float]]:
    """Interview indicators (N, 4) and the solved a_t, under a named mechanism."""
    term = MECHANISMS[mechanism]
    observed = np.ones((pop.n, len(WAVES)), dtype=np.int64)
    ctx = {
        "n": pop.n,
        "strength": strength,
        "rate": rate,
        "v_std": pop.v[:, outcome_index] / s_person,
        "last_rate": rate[:, 0].copy(),
    }
    a_qct = 0.0 if mechanism == "mcar" else status_effect
    intercepts = []
    for w in range(1, len(WAVES)):
        offset = a_qct * pop.qct + term(w, ctx)
        at_risk = observed[:, w - 1] == 1 if pattern == "monotone" else np.ones(pop.n, bool)
        target = retention[w - 1] / max(at_risk.mean(), 1e-9)
        a = _solve_intercept(target, offset, at_risk)
        p = expit(a + offset) * at_risk
        observed[:, w] = (rng.random(pop.n) < p).astype(np.int64)
        ctx["last_rate"] = np.where(observed[:, w] == 1, rate[:, w], ctx["last_rate"])
        intercepts.append(a)
    return observed, intercepts
