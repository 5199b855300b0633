"""Each prior of a fit with what it implies and why it was chosen.

The toolkit's default priors (``modeling/designs/person_wave.py``, ``likelihoods.py``,
``missingness.py``) are justified here, each justification tied to the exact prior it
argues for: when a spec overrides a prior, the default's justification is not shown for
it (the report says the spec chose it). Every prior also gets its central 95% range on
the scale a reader thinks in (days, probability, odds ratio), computed from the prior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scipy import stats
from scipy.special import expit

from bayes_qct.constants import MAX_DAYS


@dataclass(frozen=True)
class Justification:
    """Why a default prior was chosen, and how to read its range."""

    prior: dict[str, Any]
    """The exact prior the text argues for."""
    reading: str
    """How its 95% range is shown: ``days``, ``probability``, ``odds ratio``, ``sd``, ``value``."""
    text: str


_SD_EFFECT = {"dist": "normal", "mu": 0.0, "sigma": 1.0}

JUSTIFICATIONS: dict[str, Justification | tuple[Justification, ...]] = {
    "b0": Justification(
        {"dist": "normal", "mu": -1.0, "sigma": 1.5},
        "days",
        "Days at intake average roughly 8-15 of 30 (logit about -1); the prior lets the "
        "baseline rate lie almost anywhere in 0..30.",
    ),
    "b_qct": Justification(
        _SD_EFFECT,
        "odds ratio",
        "Weakly informative: centred on no difference at intake, wide enough for the "
        "several-fold difference the paper reports (23 vs 9 days).",
    ),
    "g_wave": Justification(
        {"dist": "normal", "mu": 0.0, "sigma": 1.5},
        "odds ratio",
        "Changes from intake of +-3 on the logit scale (25 days falling to 2) stay "
        "plausible; centred on no change.",
    ),
    "d_qct_wave": Justification(
        _SD_EFFECT,
        "odds ratio",
        "The QCT group's change differs from the voluntary group's by an odds ratio "
        "within about 1/7..7: centred on the same change in both groups.",
    ),
    "sigma_site": Justification(
        {"dist": "halfnormal", "sigma": 0.5},
        "sd",
        "With 10 sites, most mass on site SDs below 1 logit (a site's rate 2.7x "
        "another's); light-tailed, which keeps the sampler out of the long weakly "
        "identified tail a half-Cauchy would open with so few sites.",
    ),
    "sigma_participant": Justification(
        {"dist": "halfnormal", "sigma": 2.0},
        "sd",
        "People differ a lot (desisters next to daily offenders): scale 2 on the logit scale.",
    ),
    "beta_cov": Justification(
        _SD_EFFECT,
        "odds ratio",
        "Covariates are standardised (binary ones centred): N(0, 1) per SD.",
    ),
    "z_wave": (
        Justification(
            {"dist": "normal", "mu": -1.0, "sigma": 1.5},
            "probability",
            "Zero-inflated families: P(structural zero) centred near 27% (logit -1) and free "
            "to be almost anything.",
        ),
        Justification(
            {"dist": "normal", "mu": 0.0, "sigma": 1.5},
            "probability",
            "Hurdle family: P(zero) (all zeros, not only structural ones) centred at one half.",
        ),
    ),
    "z_qct": Justification(
        _SD_EFFECT, "odds ratio", "Effects on the zero part: N(0, 1) on the logit scale."
    ),
    "kappa": Justification(
        {"dist": "gamma", "alpha": 2.0, "beta": 0.1},
        "value",
        "Beta-binomial precision: mean 20; small values are heavy overdispersion, large "
        "ones approach the binomial.",
    ),
    "psi_wave": Justification(
        {"dist": "normal", "mu": 0.5, "sigma": 1.5},
        "probability",
        "Response at follow-up ran at 60-70% (logit about 0.5); the prior is wide around it.",
    ),
    "psi_qct": Justification(
        _SD_EFFECT, "odds ratio", "Group difference in response: N(0, 1), centred on none."
    ),
    "phi": Justification(
        _SD_EFFECT,
        "odds ratio",
        "phi is identified only by the parametric form, so its prior matters: N(0, 1) keeps "
        "the odds ratio of being observed between a 30-day and a 0-day month within about "
        "1/7..7, the range attrition studies of drug users report; wider priors let "
        "distributional misfit masquerade as MNAR.",
    ),
    "lambda": Justification(
        _SD_EFFECT,
        "odds ratio",
        "The level is on the outcome's logit scale (SD about 1-2), so N(0, 1) keeps the odds "
        "ratio of being observed between people 1 SD apart within about 1/7..7.",
    ),
}
"""Justification of each default prior, by parameter name (several where the default
depends on the family)."""


def justification(name: str, prior: dict[str, Any]) -> Justification | None:
    """Return the justification written for exactly this prior of ``name`` (else None)."""
    known = JUSTIFICATIONS.get(name, ())
    options = known if isinstance(known, tuple) else (known,)
    return next((j for j in options if same_prior(prior, j.prior)), None)


def reading_of(name: str) -> str:
    """Return how a parameter's prior range is read (from its justifications)."""
    known = JUSTIFICATIONS.get(name, ())
    options = known if isinstance(known, tuple) else (known,)
    return options[0].reading if options else "value"


_FROZEN = {
    "normal": lambda p: stats.norm(p["mu"], p["sigma"]),
    "studentt": lambda p: stats.t(p["nu"], p["mu"], p["sigma"]),
    "halfnormal": lambda p: stats.halfnorm(0, p["sigma"]),
    "exponential": lambda p: stats.expon(0, 1.0 / p["lam"]),
    "gamma": lambda p: stats.gamma(p["alpha"], 0, 1.0 / p["beta"]),
    "lognormal": lambda p: stats.lognorm(p["sigma"], 0, math.exp(p["mu"])),
}


def _quantiles(prior: dict[str, Any]) -> tuple[float, float] | None:
    """Central 95% range of a prior (for half-distributions: 0 and the 95th percentile)."""
    dist = prior.get("dist")
    if dist == "halfstudentt":  # |t|: its 95th percentile is t's 97.5th
        t = stats.t(prior["nu"], 0, prior["sigma"])
        return 0.0, float(t.ppf(0.975))
    if dist not in _FROZEN:
        return None
    frozen = _FROZEN[dist](prior)
    if dist in ("halfnormal", "exponential"):
        return 0.0, float(frozen.ppf(0.95))
    return float(frozen.ppf(0.025)), float(frozen.ppf(0.975))


def prior_text(prior: dict[str, Any]) -> str:
    """``normal(mu=-1, sigma=1.5)``."""
    params = ", ".join(f"{k}={v:g}" for k, v in prior.items() if k != "dist")
    return f"{prior.get('dist', '?')}({params})"


def implied_range(prior: dict[str, Any], reading: str) -> str:
    """Return the prior's 95% range on the scale a reader thinks in (empty when unknown)."""
    bounds = _quantiles(prior)
    if bounds is None:
        return ""
    lo, hi = bounds
    if reading == "days":
        return f"{MAX_DAYS * expit(lo):.1f} to {MAX_DAYS * expit(hi):.1f} days of {MAX_DAYS}"
    if reading == "probability":
        return f"probability {100 * expit(lo):.0f}% to {100 * expit(hi):.0f}%"
    if reading == "odds ratio":
        return f"odds ratio {math.exp(lo):.2g} to {math.exp(hi):.2g}"
    if reading == "sd":
        return f"SD below {hi:.2f} (95%)"
    return f"{lo:.3g} to {hi:.3g}"


def same_prior(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Return True when two prior tables name the same distribution and parameters."""
    if a.get("dist") != b.get("dist") or set(a) != set(b):
        return False
    return all(k == "dist" or math.isclose(float(a[k]), float(b[k])) for k in a)


def prior_rows(priors: dict[str, dict[str, Any]], meanings: dict[str, str]) -> list[list[str]]:
    """Rows ``parameter, meaning, prior, 95% prior range, justification`` of a fit's priors."""
    rows = []
    for name, prior in priors.items():
        known = justification(name, prior)
        reading = reading_of(name)
        why = (
            known.text
            if known is not None
            else "Set by the spec, not the toolkit's default: the analyst who chose it gives "
            "the reason."
        )
        rows.append(
            [name, meanings.get(name, ""), prior_text(prior), implied_range(prior, reading), why]
        )
    return rows
