"""The participant-level data-generating model shared by the reconstruction and `simulate`.

It is the model the toolkit fits, so recovery checks are fair. Per outcome ``o``,
participant ``i`` and wave ``t``, with ``n_it`` days at liberty::

    y_it ~ ZIB(n_it, mu_it, pi_it)        (a structural zero with probability pi_it)
    logit mu_it = b0 + b_qct*QCT_i + g_t + d_t*QCT_i + u_site(i) + v_i + b_score*score_i
    logit pi_it = z_t + z_qct*QCT_i               (+ z_site2 * [site 2], default 0)
                  (+ [t = t2] * (z_score*score_i + z_age*(age_i - mean age) + z_action*action_i
                                 + z_qct_t2*QCT_i), all 0 by default)
    u_s ~ Normal(0, s_site)                (site 2 shifted to be worse)
    (v_i^off, v_i^drug) ~ Normal(0, diag(s) R diag(s)),  corr(R) = person_corr

``score_i`` is the standardised composite drug-use score (EuropASI, 0..1). The t1 window
is the 30 days before arrest for QCT clients (their peak), before admission for voluntary
ones, which the QCT t1 level carries. Dropout mechanisms live in
:mod:`bayes_qct.data.simulate` and :mod:`bayes_qct.data.reconstruct`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
from scipy.special import expit

from bayes_qct.constants import LEGAL_STATUSES, MAX_DAYS, STAGES_OF_CHANGE, WAVES

GENERATOR_VERSION = "1.0"
"""Bumped whenever the same seed and parameters would give different data."""

OUTCOME_KEYS: tuple[str, ...] = ("offending", "drug-use")
"""Outcome names, in the order of the person-effect columns."""

COHORT_COLUMNS: tuple[str, ...] = (
    "participant_id",
    "site",
    "legal_status",
    "wave",
    "interviewed",
    "offending_days",
    "drug_use_days",
    "days_at_liberty",
    "age",
    "male",
    "composite_drug_score",
    "stage_of_change",
    "homeless",
    "peer_drug_use",
    "in_treatment",
    "days_retained",
)
"""Column order of every cohort table the generator writes (DATA_CONTRACT.md §1)."""


@dataclass(frozen=True)
class OutcomeParams:
    """Parameters of one outcome's zero-inflated binomial (logit scale).

    ``g`` and ``d`` hold the wave effects and the QCT x wave interactions for t1..t4 (the
    t1 entries are 0 by convention); ``z`` the zero-inflation intercepts per wave.
    """

    b0: float
    b_qct: float
    g: tuple[float, float, float, float]
    d: tuple[float, float, float, float]
    z: tuple[float, float, float, float]
    z_qct: float
    b_score: float = 0.0
    s_person: float = 1.5
    s_site: float = 0.3
    site2_shift: float = 0.0
    z_site2: float = 0.0
    """Shift of site 2's zero-inflation logit (0 in the model the toolkit fits; the
    reconstruction uses it so that site 2's clients less often report no days at all)."""
    z_score: float = 0.0
    """Shift of the t2 zero-inflation logit per SD of the intake composite score (0 in
    the model the toolkit fits; the reconstruction uses this and the two below so that
    desistance at t2 follows the paper's Table 1)."""
    z_age: float = 0.0
    """t2 zero-inflation shift per year of age above the cohort's mean age."""
    z_action: float = 0.0
    """t2 zero-inflation shift for the action stage of change at intake."""
    z_qct_t2: float = 0.0
    """t2 zero-inflation shift for QCT clients beyond ``z_qct`` (0 in the model the
    toolkit fits; the reconstruction uses it so that, with Table 1's terms, legal status
    does not predict desistance at t2, as the paper reports)."""


@dataclass(frozen=True)
class GeneratorParams:
    """Everything the generator needs besides the dropout mechanism."""

    offending: OutcomeParams
    drug_use: OutcomeParams
    person_corr: float = 0.5
    reduced_liberty: tuple[float, float] = (0.15, 0.05)
    """P(days at liberty < 30) at a follow-up wave for (QCT, voluntary)."""
    score_mean: tuple[float, float] = (0.22, 0.15)
    score_concentration: float = 26.0
    age_mean: tuple[float, float] = (30.0, 32.0)
    male_share: tuple[float, float] = (0.89, 0.60)
    extra: dict = field(default_factory=dict)

    def outcome(self, name: str) -> OutcomeParams:
        """Return the parameters of ``offending`` or ``drug-use``."""
        return {"offending": self.offending, "drug-use": self.drug_use}[name]

    def with_outcome(self, name: str, **changes: object) -> GeneratorParams:
        """Return a copy with some of one outcome's parameters changed."""
        key = "offending" if name == "offending" else "drug_use"
        return replace(self, **{key: replace(self.outcome(name), **changes)})

    def to_dict(self) -> dict:
        """JSON-serialisable form."""
        return asdict(self)


@dataclass
class Population:
    """The enrolled participants and their true random effects (arrays, one row each)."""

    participant_id: np.ndarray
    site: np.ndarray
    qct: np.ndarray
    age: np.ndarray
    male: np.ndarray
    score: np.ndarray
    stage: np.ndarray
    v: np.ndarray
    """(N, 2) person effects: offending, drug use."""
    u: np.ndarray
    """(n_sites, 2) site effects: offending, drug use."""

    @property
    def n(self) -> int:
        """Number of participants."""
        return len(self.qct)


def site_labels(n_sites: int) -> list[str]:
    """Site names ``S01``, ``S02``, ... (``S02`` is the paper's "site 2")."""
    return [f"S{k + 1:02d}" for k in range(n_sites)]


def draw_effects(
    rng: np.random.Generator, n: int, n_sites: int, params: GeneratorParams
) -> tuple[np.ndarray, np.ndarray]:
    """Draw correlated person effects (N, 2) and site effects (n_sites, 2).

    Site 2 (index 1) gets its outcome's ``site2_shift`` added: the paper's worse site.
    """
    sd = np.array([params.offending.s_person, params.drug_use.s_person])
    corr = np.array([[1.0, params.person_corr], [params.person_corr, 1.0]])
    chol = np.linalg.cholesky(corr)
    v = (rng.standard_normal((n, 2)) @ chol.T) * sd
    s_site = np.array([params.offending.s_site, params.drug_use.s_site])
    u = rng.standard_normal((n_sites, 2)) * s_site
    if n_sites > 1:
        u[1] += [params.offending.site2_shift, params.drug_use.site2_shift]
    return v, u


def draw_population(
    rng: np.random.Generator,
    *,
    n_qct: int,
    n_voluntary: int,
    n_sites: int,
    params: GeneratorParams,
) -> Population:
    """Draw participants: status, site, baseline covariates and true effects."""
    n = n_qct + n_voluntary
    qct = np.zeros(n, dtype=np.int64)
    qct[rng.permutation(n)[:n_qct]] = 1
    site = rng.integers(0, n_sites, size=n)
    site[: min(n, n_sites)] = np.arange(min(n, n_sites))  # every site has someone
    g = 1 - qct  # 0 = QCT, 1 = voluntary
    age = np.clip(np.rint(rng.normal(np.take(params.age_mean, g), 6.5)), 18, 65)
    male = (rng.random(n) < np.take(params.male_share, g)).astype(np.int64)
    mean = np.take(params.score_mean, g)
    kappa = params.score_concentration
    score = np.round(rng.beta(mean * kappa, (1 - mean) * kappa), 3)
    stage = rng.choice(3, size=n, p=[0.19, 0.21, 0.60])
    v, u = draw_effects(rng, n, n_sites, params)
    ids = np.array([f"P{k + 1:04d}" for k in range(n)])
    return Population(ids, site, qct, age.astype(np.int64), male, score, stage, v, u)


def standardise(x: np.ndarray) -> np.ndarray:
    """Centre and scale to unit SD (zeros if constant)."""
    sd = x.std()
    return (x - x.mean()) / sd if sd > 0 else np.zeros_like(x, dtype=float)


def desistance_profile(pop: Population, p: OutcomeParams) -> np.ndarray:
    """Shift of each participant's t2 zero-inflation logit by intake profile (N,).

    ``z_score`` per SD of the composite score, ``z_age`` per year of age above the mean,
    ``z_action`` for the action stage; zeros when those are 0 (the model the toolkit fits).
    """
    return (
        p.z_score * standardise(pop.score.astype(float))
        + p.z_age * (pop.age - pop.age.mean())
        + p.z_action * (pop.stage == STAGES_OF_CHANGE.index("action"))
    )


def probabilities(
    pop: Population, params: GeneratorParams, outcome: str
) -> tuple[np.ndarray, np.ndarray]:
    """(mu, pi), each (N, 4): binomial probability and structural-zero probability."""
    p = params.outcome(outcome)
    k = OUTCOME_KEYS.index(outcome)
    q = pop.qct[:, None]
    eta = (
        p.b0
        + p.b_qct * q
        + np.asarray(p.g)[None, :]
        + np.asarray(p.d)[None, :] * q
        + pop.u[pop.site, k][:, None]
        + pop.v[:, k][:, None]
        + p.b_score * standardise(pop.score.astype(float))[:, None]
    )
    zeta = np.asarray(p.z)[None, :] + p.z_qct * q + p.z_site2 * (pop.site == 1)[:, None]
    t2 = (np.arange(len(WAVES)) == 1)[None, :]
    zeta = zeta + (desistance_profile(pop, p) + p.z_qct_t2 * pop.qct)[:, None] * t2
    return expit(eta), np.broadcast_to(expit(zeta), eta.shape).copy()


def draw_liberty(rng: np.random.Generator, pop: Population, params: GeneratorParams) -> np.ndarray:
    """Days at liberty (N, 4): 30 at t1; at follow-up some spend part of the month inside."""
    n = np.full((pop.n, len(WAVES)), MAX_DAYS, dtype=np.int64)
    share = np.where(pop.qct == 1, *params.reduced_liberty)[:, None]
    inside = rng.random((pop.n, len(WAVES) - 1)) < share
    days = rng.integers(5, MAX_DAYS, size=inside.shape)
    n[:, 1:] = np.where(inside, days, MAX_DAYS)
    return n


def draw_counts(
    rng: np.random.Generator, mu: np.ndarray, pi: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """Zero-inflated binomial draws, same shape as ``mu``."""
    zero = rng.random(mu.shape) < pi
    return np.where(zero, 0, rng.binomial(n, mu)).astype(np.int64)


def zib_pmf(mu: np.ndarray, pi: np.ndarray, n: np.ndarray) -> np.ndarray:
    """P(y = k) for k = 0..30, shape (..., 31); zero beyond each ``n``."""
    from scipy.stats import binom

    k = np.arange(MAX_DAYS + 1)
    pmf = binom.pmf(k, n[..., None], mu[..., None]) * (1 - pi[..., None])
    pmf[..., 0] += pi
    return pmf


def status_masks(pop: Population) -> dict[str, np.ndarray]:
    """Boolean masks of the estimand groups ``QCT``, ``voluntary`` and ``all``."""
    qct = pop.qct == 1
    return {LEGAL_STATUSES[0]: qct, LEGAL_STATUSES[1]: ~qct, "all": np.ones_like(qct)}


def full_data_estimands(
    pop: Population,
    outcome: str,
    *,
    mu: np.ndarray,
    pi: np.ndarray,
    n: np.ndarray,
    y: np.ndarray,
    counterfactual: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> list[dict]:
    """Compute the DATA_CONTRACT §2 estimands over every enrolled participant, before dropout.

    ``expected_days`` is the mean of 30 (1 - pi_it) mu_it (the finite-population quantity,
    conditional on each participant's true effects); ``full_data_mean`` the mean of the
    complete counts; ``reduction`` 1 - expected_days(t) / expected_days(t1);
    ``reduction_difference`` QCT minus voluntary; ``any_days`` the mean of P(y_it > 0).

    With ``counterfactual`` ((mu, pi) of every participant as if QCT, and as if voluntary,
    keyed by status), the standardised versions are added as well, ``*_standardised``: the
    group's expected days averaged over the *whole* cohort (its covariates, sites and
    person effects), the g-computation estimand of a model with covariates.
    """
    rows: list[dict] = []
    expected = MAX_DAYS * (1 - pi) * mu
    any_days = (1 - pi) * (1 - (1 - mu) ** n)
    red: dict[str, np.ndarray] = {}
    for status, mask in status_masks(pop).items():
        e = expected[mask].mean(axis=0)
        red[status] = 1 - e / e[0]
        for w, wave in enumerate(WAVES):
            for quantity, value in (
                ("expected_days", e[w]),
                ("full_data_mean", y[mask, w].mean()),
                ("any_days", any_days[mask, w].mean()),
            ):
                rows.append(_row(outcome, quantity, status, wave, value))
            if w > 0:
                rows.append(_row(outcome, "reduction", status, wave, red[status][w]))
    qct, vol = LEGAL_STATUSES
    for w, wave in enumerate(WAVES[1:], start=1):
        diff = red[qct][w] - red[vol][w]
        rows.append(_row(outcome, "reduction_difference", f"{qct}-{vol}", wave, diff))
    if counterfactual:
        std = {}
        for status, (cmu, cpi) in counterfactual.items():
            e = (MAX_DAYS * (1 - cpi) * cmu).mean(axis=0)
            std[status] = 1 - e / e[0]
            for w, wave in enumerate(WAVES):
                rows.append(_row(outcome, "expected_days_standardised", status, wave, e[w]))
                if w > 0:
                    rows.append(
                        _row(outcome, "reduction_standardised", status, wave, std[status][w])
                    )
        for w, wave in enumerate(WAVES[1:], start=1):
            diff = std[qct][w] - std[vol][w]
            rows.append(
                _row(outcome, "reduction_difference_standardised", f"{qct}-{vol}", wave, diff)
            )
    return rows


def _row(outcome: str, quantity: str, status: str, wave: str, value: float) -> dict:
    return {
        "outcome": outcome,
        "quantity": quantity,
        "legal_status": status,
        "wave": wave,
        "value": float(value),
    }


def long_table(
    pop: Population,
    *,
    site_names: list[str],
    interviewed: np.ndarray,
    counts: dict[str, np.ndarray],
    liberty: np.ndarray,
    wave_covariates: dict[str, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Assemble the contract's long table; entries that are NaN in ``counts`` are missing.

    ``interviewed`` is (N, 4) 0/1; ``counts`` maps outcome name to (N, 4) float arrays with
    NaN where not observed; ``wave_covariates`` maps column names to (N, 4) float arrays
    (NaN = not recorded). Days at liberty are written only for interviewed rows.
    """
    n_waves = len(WAVES)
    rep = np.repeat
    df = pd.DataFrame(
        {
            "participant_id": rep(pop.participant_id, n_waves),
            "site": rep(np.asarray(site_names)[pop.site], n_waves),
            "legal_status": rep(np.where(pop.qct == 1, *LEGAL_STATUSES), n_waves),
            "wave": np.tile(np.asarray(WAVES), pop.n),
            "interviewed": interviewed.reshape(-1).astype(np.int64),
            "offending_days": counts["offending"].reshape(-1),
            "drug_use_days": counts["drug-use"].reshape(-1),
            "days_at_liberty": np.where(interviewed == 1, liberty, np.nan).reshape(-1),
            "age": rep(pop.age, n_waves).astype(float),
            "male": rep(pop.male, n_waves).astype(float),
            "composite_drug_score": rep(pop.score, n_waves).astype(float),
            "stage_of_change": rep(np.asarray(STAGES_OF_CHANGE)[pop.stage], n_waves),
        }
    )
    for col in COHORT_COLUMNS:
        if col in df.columns:
            continue
        values = (wave_covariates or {}).get(col)
        df[col] = np.nan if values is None else values.reshape(-1)
    return df[list(COHORT_COLUMNS)]


def cohort_csv_text(df: pd.DataFrame) -> str:
    """Write the table as CSV text with fixed formatting (byte-for-byte reproducible).

    Whole-number columns are written without decimals, the composite score with three,
    and missing cells as empty strings.
    """
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if col == "composite_drug_score":
            out[col] = s.map(lambda x: "" if pd.isna(x) else f"{x:.3f}")
        elif pd.api.types.is_numeric_dtype(s):
            out[col] = s.map(lambda x: "" if pd.isna(x) else str(round(float(x))))
        else:
            out[col] = s.astype(object).where(s.notna(), "")
    return out.to_csv(index=False, lineterminator="\n")
