"""Convergence diagnostics of a fit, with the thresholds stated and a one-line verdict."""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bayes_qct.constants import CI_KIND, CI_PROB, SAMPLE_DIMS

log = logging.getLogger(__name__)


R_HAT_MAX = 1.01
"""Largest acceptable rank-normalised split R-hat (Vehtari et al. 2021)."""
ESS_MIN = 400
"""Smallest acceptable bulk and tail effective sample size (100 per chain for 4 chains)."""
BFMI_MIN = 0.3
"""Smallest acceptable E-BFMI of any chain (Betancourt 2016)."""
DIVERGENCES_MAX = 0
"""Divergent transitions tolerated after warm-up."""

THRESHOLDS_TEXT = (
    f"thresholds: divergences = {DIVERGENCES_MAX}, r_hat <= {R_HAT_MAX}, "
    f"bulk and tail ESS >= {ESS_MIN}, E-BFMI >= {BFMI_MIN}"
)


@dataclass(frozen=True)
class Diagnostics:
    """Summary of MCMC convergence for a fit.

    Attributes
    ----------
    divergences
        Divergent transitions after warm-up, all chains together.
    n_draws
        Post-warm-up draws, all chains together.
    max_r_hat, min_ess_bulk, min_ess_tail
        Worst values over every (non-constant) model parameter, with the parameter.
    min_bfmi
        Smallest E-BFMI over chains (``nan`` when the sampler gave no energy).
    failures
        One sentence per failed check (empty when all pass).
    """

    divergences: int
    n_draws: int
    max_r_hat: float
    max_r_hat_parameter: str
    min_ess_bulk: float
    min_ess_bulk_parameter: str
    min_ess_tail: float
    min_ess_tail_parameter: str
    min_bfmi: float
    failures: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when every check passes."""
        return not self.failures

    def verdict(self) -> str:
        """One line: converged or not, the worst numbers and the thresholds."""
        numbers = (
            f"{self.divergences} divergences in {self.n_draws} draws, "
            f"max r_hat {self.max_r_hat:.3f}, min bulk ESS {self.min_ess_bulk:.0f}, "
            f"min tail ESS {self.min_ess_tail:.0f}, min E-BFMI {self.min_bfmi:.2f}"
        )
        if self.ok:
            return f"Converged: {numbers} ({THRESHOLDS_TEXT})."
        return f"NOT CONVERGED: {'; '.join(self.failures)} ({THRESHOLDS_TEXT})."

    def advice(self) -> str:
        """Return what usually fixes the failed checks ('' when every check passes).

        Divergences bias the draws near them: more draws do not help, a smaller step
        (a higher ``target_accept``) or another parametrisation does. Without them, a
        high r_hat or a low ESS is slow mixing, which longer chains fix.
        """
        tips = []
        if self.divergences > DIVERGENCES_MAX:
            tips.append(
                "divergent transitions: raise target_accept in the spec's [sampler] table "
                "(e.g. 0.95); if they remain, the posterior's geometry needs another "
                "parametrisation, and more draws will not help"
            )
        slow = not self.max_r_hat <= R_HAT_MAX or not (
            self.min_ess_bulk >= ESS_MIN and self.min_ess_tail >= ESS_MIN
        )
        if slow:
            tips.append(
                "r_hat / ESS: the chains mix slowly; "
                + (
                    "fix the divergences first"
                    if self.divergences > DIVERGENCES_MAX
                    else "run longer chains (--draws, e.g. twice as many per chain)"
                )
            )
        if self.min_bfmi < BFMI_MIN:
            tips.append(
                "low E-BFMI: the warm-up did not adapt to the posterior's energy "
                "(heavy tails or a funnel): more warm-up (--tune) or another parametrisation"
            )
        return "; ".join(tips)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (NaN as None), with the thresholds used."""
        out = asdict(self)
        out["failures"] = list(self.failures)
        out["ok"] = self.ok
        out["thresholds"] = {
            "divergences_max": DIVERGENCES_MAX,
            "r_hat_max": R_HAT_MAX,
            "ess_min": ESS_MIN,
            "bfmi_min": BFMI_MIN,
        }
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnostics:
        """Inverse of :meth:`to_dict`."""
        names = cls.__dataclass_fields__
        values = {k: (math.nan if v is None else v) for k, v in data.items() if k in names}
        values["failures"] = tuple(values.get("failures", ()))
        return cls(**values)


def parameter_summary(idata: Any, *, var_names: list[str] | None = None) -> pd.DataFrame:
    """ArviZ summary of the posterior with 95% equal-tailed intervals, unrounded.

    The numbers of ``arviz_stats.summary`` (mean, sd, interval, bulk and tail ESS, rank
    R-hat, MCSE of mean and sd), computed for every scalar parameter in one batch
    (:func:`~bayes_qct.estimands.batch_summary.batch_summary`): thousands of participant
    intercepts cost seconds, not minutes. The index becomes a ``parameter`` column
    (``u_site[S01]``, as ArviZ labels it); interval columns are named by kind and
    probability (``eti95_lb``, ``eti95_ub``).
    """
    from arviz_base import dataset_to_dataarray, rcParams

    from bayes_qct.estimands.batch_summary import batch_summary

    if CI_KIND != "eti":  # the batch computes equal-tailed intervals only
        raise ValueError(f"unsupported interval kind {CI_KIND!r}")
    posterior = idata["posterior"]
    if hasattr(posterior, "to_dataset"):
        posterior = posterior.to_dataset()
    dataset = posterior[var_names] if var_names is not None else posterior
    stacked = dataset_to_dataarray(dataset, sample_dims=list(SAMPLE_DIMS), add_coords=False)
    stacked = stacked.transpose(*SAMPLE_DIMS, "label")
    table = batch_summary(
        stacked.to_numpy(),
        [str(label) for label in stacked["label"].to_numpy()],
        ci_prob=CI_PROB,
        tail_prob=rcParams["stats.ci_prob"],
    )
    table.index.name = "parameter"
    return table.reset_index()


def _worst(summary: pd.DataFrame, column: str, *, largest: bool) -> tuple[float, str]:
    values = summary[column].astype(float)
    constant = summary["sd"].astype(float) == 0
    values = values[~constant & values.notna()]
    if values.empty:
        return math.nan, ""
    idx = values.idxmax() if largest else values.idxmin()
    return float(values[idx]), str(summary.loc[idx, "parameter"])


def _min_bfmi(idata: Any) -> float:
    if "sample_stats" not in idata.children or "energy" not in idata["sample_stats"]:
        return math.nan
    from arviz_stats import bfmi

    values = np.asarray(bfmi(idata)["energy"].to_numpy(), float)
    return float(values.min()) if values.size else math.nan


def diagnose(idata: Any, summary: pd.DataFrame) -> Diagnostics:
    """Check divergences, r_hat, bulk/tail ESS and E-BFMI against the stated thresholds.

    Parameters
    ----------
    idata
        The fit's DataTree (``posterior`` and ``sample_stats`` groups).
    summary
        :func:`parameter_summary` of the model parameters (constant ones are skipped:
        r_hat is undefined for, e.g., a wave effect fixed at 0).

    Returns
    -------
    Diagnostics
        With ``failures`` naming each failed check; a warning is logged when any fails.
    """
    stats = idata["sample_stats"] if "sample_stats" in idata.children else None
    divergences = int(stats["diverging"].sum()) if stats is not None and "diverging" in stats else 0
    post = idata["posterior"]
    n_draws = int(post.sizes["chain"] * post.sizes["draw"])
    r_hat, r_hat_par = _worst(summary, "r_hat", largest=True)
    ess_bulk, bulk_par = _worst(summary, "ess_bulk", largest=False)
    ess_tail, tail_par = _worst(summary, "ess_tail", largest=False)
    bfmi = _min_bfmi(idata)
    failures = []
    if divergences > DIVERGENCES_MAX:
        failures.append(f"{divergences} divergent transitions")
    if not r_hat <= R_HAT_MAX:
        failures.append(f"r_hat {r_hat:.3f} > {R_HAT_MAX} ({r_hat_par})")
    if not ess_bulk >= ESS_MIN:
        failures.append(f"bulk ESS {ess_bulk:.0f} < {ESS_MIN} ({bulk_par})")
    if not ess_tail >= ESS_MIN:
        failures.append(f"tail ESS {ess_tail:.0f} < {ESS_MIN} ({tail_par})")
    if bfmi < BFMI_MIN:
        failures.append(f"E-BFMI {bfmi:.2f} < {BFMI_MIN}")
    result = Diagnostics(
        divergences=divergences,
        n_draws=n_draws,
        max_r_hat=r_hat,
        max_r_hat_parameter=r_hat_par,
        min_ess_bulk=ess_bulk,
        min_ess_bulk_parameter=bulk_par,
        min_ess_tail=ess_tail,
        min_ess_tail_parameter=tail_par,
        min_bfmi=bfmi,
        failures=tuple(failures),
    )
    if failures:
        log.warning("convergence checks failed: %s", "; ".join(failures))
    return result
