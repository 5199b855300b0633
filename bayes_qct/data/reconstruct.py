"""The reconstructed default cohort: synthetic, seeded, calibrated to the paper's figures.

The study's individual data are not public. This module builds a stand-in with the
generator of :mod:`bayes_qct.data.generator`, its parameters fitted (see
:mod:`bayes_qct.calibration.fit`) to the paper's descriptive figures (checked by
:mod:`bayes_qct.calibration.targets`), and the design counts constructed
exactly: 89 QCT / 68 voluntary at 10 sites; interviews 157 / 106 / 100 / 95, 128
re-interviewed at least once, 458 in all; the covariate margins of the intake profile.

Desistance at t2 follows the paper's Table 1 as printed (no offending more likely with a
higher intake composite score, per SD, and less likely with age, the action stage and
site 2): the offending zero-inflation at t2 carries those terms, fitted so that Table 1's
model refitted on the 105 t2 respondents lands near the published odds ratios and
Nagelkerke R2, and legal status added to it is not significant, as the paper says (QCT
clients' t2 zero-inflation is shifted back by ``z_qct_t2``: with their higher scores, the
all-wave QCT term alone would make them desist far less than their profile predicts). The
reading of the score's direction is the registry's
(``offending.logistic.or.composite_score``), and so is the question it leaves open.

Dropout is informative (missing not at random): at each follow-up wave, who is
interviewed is drawn with exact counts per group and wave (Gumbel top-k) from log-odds
that fall by ``phi_current`` per unit of the participant's *current* expected share of
days offending and using drugs, (1 - pi_it) mu_it, which is never observed for those
missed: heavier current users are less often re-interviewed. A person-level response
frailty clusters missed interviews (29 people are never re-interviewed), and a fitted term
in QCT clients' intake offending (``phi_baseline_qct``, negative: the heaviest intake
offenders among QCT clients are also less often re-interviewed).

Randomness comes in five streams (population and interviews; offending counts of each
group; drug-use counts of each group); :data:`ACCEPTED_DRAWS` names the draw of each that
the seeded search of :mod:`bayes_qct.calibration.search` accepted.

Everything printed from it says SYNTHETIC; real data replaces it with ``--data``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bayes_qct.constants import LEGAL_STATUSES, WAVES
from bayes_qct.data import generator as gen
from bayes_qct.data.bundled import BUNDLED_CSV, BUNDLED_META, bundled_metadata_path, bundled_path
from bayes_qct.data.paper_derived import derived_numbers, registry

__all__ = [
    "ACCEPTED_DRAWS",
    "CALIBRATED_PARAMS",
    "RECONSTRUCTION_SEED",
    "bundled_metadata_path",
    "bundled_path",
    "reconstruct_cohort",
    "write_bundled",
]

log = logging.getLogger(__name__)

RECONSTRUCTION_SEED = 2003_06
"""Base seed (fieldwork began June 2003)."""

ACCEPTED_DRAWS: dict[str, int] = {
    "population": 3,
    "offending.QCT": 758,
    "offending.voluntary": 8826,
    "drug-use.QCT": 0,
    "drug-use.voluntary": 1,
}
"""Accepted draw of each random stream (:func:`bayes_qct.calibration.search.search_draws`)."""


SITE_SIZES = (17, 30, 15, 13, 14, 12, 15, 13, 15, 13)
SITE_QCT = (10, 17, 9, 7, 8, 7, 8, 7, 9, 7)
"""Participants and QCT clients per site (site 2 = ``S02``); sums 157 and 89.

The paper prints no site sizes. Site 2's 30 are inferred from the widths of its two
published intervals: Table 1's (0.1-0.7, SE of the log OR 0.50 among 105 respondents)
and retention's (0.12-0.64, SE 0.43 among 155) both fit a site 2 of about a fifth of the
sample (some 20 t2 respondents). With 16 (10 at t2) the reconstruction's SEs were 0.72
and 0.55; with 30 they are 0.61 and 0.44. The other sites share the rest evenly; QCT
clients are spread in proportion."""

INTERVIEWS = {"QCT": (89, 65, 53, 48), "voluntary": (68, 41, 47, 47)}
"""Interviews per wave and group: 157 / 106 / 100 / 95 (458); the group split is inferred
from the paper's n (64 + 41 offending answers at t2, 47 + 46 at t4)."""

_DERIVED = derived_numbers()
_GROUP_N = {"QCT": int(registry().get("method.sample.t1.QCT").value)}
_GROUP_N["voluntary"] = _DERIVED["n voluntary"][0]


def _numerator(entry_id: str) -> int:
    return int(registry().get(entry_id).numerator)


NEVER_REINTERVIEWED = {s: _GROUP_N[s] - _DERIVED[f"re-interviewed {s}"][0] for s in LEGAL_STATUSES}
"""89 - 75 and 68 - 53: the paper's 83% (n=62) and 57% (n=30) continued offending imply
75 QCT and 53 voluntary participants re-interviewed (128 in all); derived from the registry
by :func:`paper_derived.derived_numbers`."""

MALE = {s: _DERIVED[f"men {s}"][0] for s in LEGAL_STATUSES}
"""120 men; 79 / 41 is the only split reproducing chi-square 17.35 (17.346, no continuity
correction); derived from the registry by :func:`paper_derived.derived_numbers`."""

STAGES = {"QCT": (17, 19, 53), "voluntary": (13, 14, 41)}
"""Pre-contemplation 30, contemplation 33, action 94, spread evenly (no group difference)."""

AGE_SUM = {
    s: round(_GROUP_N[s] * registry().get(f"profile.age.mean.{s}").value) for s in LEGAL_STATUSES
}
HOMELESS_T1 = {s: _numerator(f"reintegration.homeless.t1.{s}.pct") for s in LEGAL_STATUSES}
HOMELESS_FOLLOW_UP = tuple(_numerator(f"reintegration.homeless.{w}.pct") for w in WAVES[1:])
PEER_DRUG_USE = tuple(_numerator(f"reintegration.peer_drug_use.{w}.pct") for w in WAVES)
IN_TREATMENT_T2 = {s: _numerator(f"retention.in_treatment.t2.{s}.pct") for s in LEGAL_STATUSES}
TREATMENT_PROFILE = 1.0
"""Rise in the log-odds of being in treatment at t2 per unit of the participant's t2
desistance profile (:func:`generator.desistance_profile`: Table 1's score, age and stage
terms). In the paper being in treatment goes with desistance (rs = .261, p < .01) yet did
not enter Table 1's model beside those terms, as when both share them as a cause. Without
this link the reconstruction's in-treatment rs falls near -0.05 (its higher-score clients
desist more but use more drugs, which lowers treatment); 1.0 brings its expectation to
about 0.18 in the bundled population (more adds little: the profile is only part of what
decides desistance) and leaves site 2's retention odds ratio in its interval."""
RETAINED_MEAN = {"QCT": (146.0, 86.0), "voluntary": (146.0, 107.0)}
"""Mean days retained in the first six months (in treatment at t2, not in treatment)."""


@dataclass(frozen=True)
class DropoutParams:
    """Who is re-interviewed (log-odds scale, before the exact-count selection)."""

    phi_current: float = -1.5
    phi_baseline_qct: float = -0.67
    frailty_sd: float = 1.5


CALIBRATED_PARAMS = gen.GeneratorParams(
    offending=gen.OutcomeParams(
        b0=0.86,
        b_qct=0.76,
        g=(0.0, -1.58, -1.6, -0.2),
        d=(0.0, -1.43, -1.76, -1.95),
        z=(0.28, 1.97, 0.22, 2.48),
        z_qct=-2.48,
        b_score=0.2,
        s_person=1.2,
        s_site=0.3,
        site2_shift=1.0,
        z_site2=-1.3,
        z_score=0.76,
        z_age=-0.09,
        z_action=-1.18,
        z_qct_t2=2.08,
    ),
    drug_use=gen.OutcomeParams(
        b0=1.51,
        b_qct=2.22,
        g=(0.0, -0.56, -0.56, -0.56),
        d=(0.0, -2.68, -2.68, -2.68),
        z=(-4.0, -2.5, -2.5, -2.5),
        z_qct=0.0,
        b_score=0.4,
        s_person=1.5,
        s_site=0.3,
        site2_shift=1.5,
    ),
    person_corr=0.5,
)
"""Generator parameters fitted to the paper's figures
(:func:`bayes_qct.calibration.fit.fit_parameters`, rounded to two decimals) with the
registry's reading of Figure 1 (QCT t1..t4 = 23, 2, 4, 6; voluntary 9, 5, 6, 4); drug use's
``site2_shift`` raised from 0.8 to 1.5 by hand so that site 2's drug-use outcomes are
visibly worse, as the paper reports. The offending zero-inflation intercepts were allowed up
to 3.0 (1.5 before): the low QCT means after t1 with 83% of QCT clients still offending at
some follow-up need many clients offending on a few days and others not at all (now up to
4.5, with the Table 1 terms ``z_score``, ``z_age``, ``z_action`` and ``z_qct_t2`` at t2
only, as Table 1 models t2 only)."""

CALIBRATED_DROPOUT = DropoutParams(phi_baseline_qct=-2.01)
"""Dropout fitted with the generator (``phi_baseline_qct``; the others as the defaults)."""


def _top_k(keys: np.ndarray, k: int) -> np.ndarray:
    """Boolean mask of the k largest keys (ties broken by position)."""
    mask = np.zeros(len(keys), dtype=bool)
    mask[np.argsort(-keys, kind="stable")[:k]] = True
    return mask


def _exact_sum(rng: np.random.Generator, x: np.ndarray, total: int, lo: int, hi: int) -> np.ndarray:
    """Whole numbers in [lo, hi] near ``x`` whose sum is exactly ``total`` (an exact mean)."""
    a = np.clip(np.rint(x), lo, hi).astype(np.int64)
    while (gap := total - int(a.sum())) != 0:
        j = rng.choice(np.flatnonzero((a < hi) if gap > 0 else (a > lo)))
        a[j] += np.sign(gap)
    return a


def _gumbel(rng: np.random.Generator, shape: tuple[int, ...] | int) -> np.ndarray:
    return -np.log(-np.log(rng.random(shape)))


def build_population(rng: np.random.Generator, params: gen.GeneratorParams) -> gen.Population:
    """Participants with the paper's exact design counts and intake margins."""
    site = np.repeat(np.arange(len(SITE_SIZES)), SITE_SIZES)
    qct = np.concatenate(
        [[1] * q + [0] * (s - q) for s, q in zip(SITE_SIZES, SITE_QCT, strict=True)]
    )
    n = len(site)
    male = np.zeros(n, dtype=np.int64)
    stage = np.zeros(n, dtype=np.int64)
    age = np.zeros(n, dtype=np.int64)
    score = np.zeros(n)
    for g, status in enumerate(LEGAL_STATUSES):
        idx = np.flatnonzero(qct == (1 - g))
        male[rng.choice(idx, MALE[status], replace=False)] = 1
        stage[idx] = rng.permutation(np.repeat(np.arange(3), STAGES[status]))
        a = np.rint(rng.normal(params.age_mean[g], 6.5, len(idx)))
        age[idx] = _exact_sum(rng, a, AGE_SUM[status], 18, 60)
        m, kappa = params.score_mean[g], params.score_concentration
        s = rng.beta(m * kappa, (1 - m) * kappa, len(idx))
        score[idx] = np.clip(np.round(s - s.mean() + m, 3), 0.0, 1.0)
    v, u = gen.draw_effects(rng, n, len(SITE_SIZES), params)
    ids = np.array([f"R{k + 1:03d}" for k in range(n)])
    return gen.Population(ids, site, qct, age, male, score, stage, v, u)


def _repair_never(chosen: np.ndarray, keys: np.ndarray, n_never: int) -> np.ndarray:
    """Swap interviews within a wave until exactly ``n_never`` have no follow-up."""
    chosen = chosen.copy()
    for _ in range(10 * len(keys)):
        count = chosen.sum(axis=1)
        never = np.flatnonzero(count == 0)
        if len(never) == n_never:
            return chosen
        if len(never) > n_never:  # bring in the never-seen person most likely to respond
            j = never[np.argmax(keys[never].max(axis=1))]
            w = int(np.argmax(keys[j]))
            donors = np.flatnonzero(chosen[:, w] & (count >= 2))
            out = donors[np.argmin(keys[donors, w])]
            chosen[out, w], chosen[j, w] = False, True
        else:  # drop the least likely single-interview person, refill from the others
            single = np.flatnonzero(count == 1)
            j = single[np.argmin(keys[single].max(axis=1))]
            w = int(np.flatnonzero(chosen[j])[0])
            takers = np.flatnonzero(~chosen[:, w] & (count >= 1) & (np.arange(len(keys)) != j))
            into = takers[np.argmax(keys[takers, w])]
            chosen[j, w], chosen[into, w] = False, True
    raise RuntimeError("could not reach the re-interview counts")


def interview_keys(
    pop: gen.Population, rates: dict[str, np.ndarray], dropout: DropoutParams
) -> np.ndarray:
    """Log-odds part of the re-interview propensity (N, 3) for t2..t4, before noise."""
    current = 0.5 * (rates["offending"][:, 1:] + rates["drug-use"][:, 1:])
    base = dropout.phi_baseline_qct * pop.qct * rates["offending"][:, 0]
    return dropout.phi_current * current + base[:, None]


def draw_interviews(
    rng: np.random.Generator,
    pop: gen.Population,
    rates: dict[str, np.ndarray],
    dropout: DropoutParams,
) -> np.ndarray:
    """Interview indicators (N, 4) with the paper's exact counts per group and wave."""
    frailty = rng.normal(0.0, dropout.frailty_sd, pop.n)
    keys = interview_keys(pop, rates, dropout) + frailty[:, None] + _gumbel(rng, (pop.n, 3))
    interviewed = np.ones((pop.n, 4), dtype=np.int64)
    for g, status in enumerate(LEGAL_STATUSES):
        idx = np.flatnonzero(pop.qct == (1 - g))
        k = keys[idx]
        chosen = np.column_stack([_top_k(k[:, w], INTERVIEWS[status][w + 1]) for w in range(3)])
        interviewed[idx, 1:] = _repair_never(chosen, k, NEVER_REINTERVIEWED[status])
    return interviewed


def _item_missing(rng: np.random.Generator, pop: gen.Population, seen: np.ndarray) -> np.ndarray:
    """Offending answered (N, 4): the paper's n imply a few unanswered items.

    One QCT answer missing at t2 (65 interviews, 64 answers), one QCT and one voluntary at
    t4 (93 answers), and six voluntary at t1 (151 answers; 2 of them answered at t2 and 3
    at t4, which gives the LOCF n of 64 and 43 voluntary t1-t4 pairs).
    """
    ok = seen.astype(bool).copy()
    qct, vol = pop.qct == 1, pop.qct == 0
    for w, group in ((1, qct), (3, qct), (3, vol)):
        ok[rng.choice(np.flatnonzero(group & ok[:, w])), w] = False
    t2, t4 = ok[:, 1], ok[:, 3]
    for mask, k in ((vol & t2 & t4, 2), (vol & ~t2 & t4, 1), (vol & ~t2 & ~t4, 3)):
        ok[rng.choice(np.flatnonzero(mask), k, replace=False), 0] = False
    return ok


def _exact_binary(keys: np.ndarray, eligible: np.ndarray, k: int) -> np.ndarray:
    out = np.full(len(keys), np.nan)
    idx = np.flatnonzero(eligible)
    out[idx] = _top_k(keys[idx], k).astype(float)
    return out


def wave_covariates(
    rng: np.random.Generator,
    pop: gen.Population,
    seen: np.ndarray,
    rates: dict[str, np.ndarray],
    profile: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Draw the per-wave covariates with the paper's exact counts.

    Homelessness and peer drug use among those interviewed; treatment status at t2 (agency
    data, everyone: less likely with more current drug use and at site 2, more likely with
    a higher desistance ``profile``, see :data:`TREATMENT_PROFILE`) and days retained in
    the first six months.
    """
    profile = np.zeros(pop.n) if profile is None else profile
    shape = (pop.n, 4)
    homeless, peer = np.full(shape, np.nan), np.full(shape, np.nan)
    drug = pop.v[:, 1]
    h_key = drug + _gumbel(rng, pop.n)
    for g, status in enumerate(LEGAL_STATUSES):
        group = pop.qct == (1 - g)
        col = _exact_binary(h_key, group, HOMELESS_T1[status])
        homeless[group, 0] = col[group]
    for w in range(1, 4):
        key = 2.0 * homeless[:, 0] + 0.5 * drug + _gumbel(rng, pop.n)
        homeless[:, w] = _exact_binary(key, seen[:, w] == 1, HOMELESS_FOLLOW_UP[w - 1])
    for w in range(4):
        key = 0.5 * drug + 2.0 * rates["drug-use"][:, w] + _gumbel(rng, pop.n)
        peer[:, w] = _exact_binary(key, seen[:, w] == 1, PEER_DRUG_USE[w])
    site2 = (pop.site == 1).astype(float)
    treat_key = (
        -1.5 * rates["drug-use"][:, 1]
        - 1.5 * site2
        + TREATMENT_PROFILE * profile
        + _gumbel(rng, pop.n)
    )
    in_treatment, retained = np.full(shape, np.nan), np.full(shape, np.nan)
    days = np.zeros(pop.n)
    for g, status in enumerate(LEGAL_STATUSES):
        group = pop.qct == (1 - g)
        treat = _exact_binary(treat_key, group, IN_TREATMENT_T2[status])
        in_treatment[group, 1] = treat[group]
        for flag, target in zip((1.0, 0.0), RETAINED_MEAN[status], strict=True):
            sel = group & (in_treatment[:, 1] == flag)
            lo, hi = (91, 183) if flag else (1, 180)
            raw = lo + (hi - lo) * rng.beta(3, 2, sel.sum()) * (1 - 0.3 * site2[sel])
            days[sel] = _exact_sum(rng, raw, round(target * sel.sum()), lo, hi)
    retained[:, 1] = days
    qct_treated = np.flatnonzero((pop.qct == 1) & (in_treatment[:, 1] == 1))
    unanswered = rng.choice(qct_treated, 2, replace=False)
    retained[unanswered, 1] = np.nan  # the paper has retention for 87 of 89 QCT clients
    return {
        "homeless": homeless,
        "peer_drug_use": peer,
        "in_treatment": in_treatment,
        "days_retained": retained,
    }


@dataclass
class Design:
    """Everything of a reconstruction except the counts: people, interviews, covariates."""

    pop: gen.Population
    liberty: np.ndarray
    probs: dict[str, tuple[np.ndarray, np.ndarray]]
    seen: np.ndarray
    answered: np.ndarray
    covariates: dict[str, np.ndarray]


def build_design(
    seed: int, draw: int, params: gen.GeneratorParams, dropout: DropoutParams
) -> Design:
    """People, days at liberty, interviews and covariates (stream ``population``).

    Interviews depend on each participant's current *expected* share of days,
    (1 - pi_it) mu_it, not on the drawn count, so the counts can be drawn afterwards from
    their own streams; the dependence is still on the unobserved current level (MNAR).
    """
    rng = np.random.default_rng([seed, 0, draw])
    pop = build_population(rng, params)
    liberty = gen.draw_liberty(rng, pop, params)
    probs = {o: gen.probabilities(pop, params, o) for o in gen.OUTCOME_KEYS}
    level = {o: (1 - pi) * mu for o, (mu, pi) in probs.items()}
    seen = draw_interviews(rng, pop, level, dropout)
    answered = _item_missing(rng, pop, seen)
    profile = gen.desistance_profile(pop, params.offending)
    covariates = wave_covariates(rng, pop, seen, level, profile)
    return Design(pop, liberty, probs, seen, answered, covariates)


def draw_stream_counts(
    design: Design, outcome: str, status: str, *, seed: int, draw: int
) -> np.ndarray:
    """Draw one outcome's counts for one group (stream ``<outcome>.<status>``), (n_group, 4)."""
    o, g = gen.OUTCOME_KEYS.index(outcome), LEGAL_STATUSES.index(status)
    rng = np.random.default_rng([seed, 1 + o, g, draw])
    m = design.pop.qct == (1 - g)
    mu, pi = design.probs[outcome]
    return gen.draw_counts(rng, mu[m], pi[m], design.liberty[m])


def assemble(design: Design, counts: dict[str, np.ndarray]) -> pd.DataFrame:
    """Assemble the long table of a design and its complete counts (N, 4) per outcome."""
    observed = {
        "offending": np.where(design.answered, counts["offending"], np.nan),
        "drug-use": np.where(design.seen == 1, counts["drug-use"], np.nan),
    }
    return gen.long_table(
        design.pop,
        site_names=gen.site_labels(len(SITE_SIZES)),
        interviewed=design.seen,
        counts=observed,
        liberty=design.liberty,
        wave_covariates=design.covariates,
    )


def complete_counts(design: Design, draws: dict[str, int], *, seed: int) -> dict[str, np.ndarray]:
    """Complete counts (N, 4) per outcome from the accepted stream draws."""
    out = {}
    for outcome in gen.OUTCOME_KEYS:
        y = np.zeros((design.pop.n, 4), dtype=np.int64)
        for g, status in enumerate(LEGAL_STATUSES):
            y[design.pop.qct == (1 - g)] = draw_stream_counts(
                design, outcome, status, seed=seed, draw=draws[f"{outcome}.{status}"]
            )
        out[outcome] = y
    return out


def reconstruct_cohort(
    *,
    seed: int = RECONSTRUCTION_SEED,
    draws: dict[str, int] | None = None,
    params: gen.GeneratorParams = CALIBRATED_PARAMS,
    dropout: DropoutParams = CALIBRATED_DROPOUT,
) -> pd.DataFrame:
    """Build the reconstructed cohort as a long table (DATA_CONTRACT §1).

    Deterministic: the same ``seed``, stream ``draws`` and parameters give the same table.
    """
    draws = {**ACCEPTED_DRAWS, **(draws or {})}
    design = build_design(seed, draws["population"], params, dropout)
    return assemble(design, complete_counts(design, draws, seed=seed))


def metadata(csv_text: str, *, seed: int, draws: dict[str, int]) -> dict:
    """Metadata of a reconstructed cohort file."""
    return {
        "synthetic": True,
        "file": BUNDLED_CSV,
        "sha256": hashlib.sha256(csv_text.encode("utf-8")).hexdigest(),
        "generator_version": gen.GENERATOR_VERSION,
        "seed": seed,
        "draws": draws,
        "description": (
            "SYNTHETIC reconstructed cohort: 157 participants drawn from bayes-qct's "
            "generator, calibrated to the published figures of the QCT Europe England "
            "study; not the study's individual data."
        ),
        "dropout": (
            "informative (MNAR): heavier users are less often re-interviewed. At each "
            "follow-up wave the log-odds of being interviewed fall with the participant's "
            "current expected share of days offending and using drugs, (1 - pi) mu, "
            f"(phi_current = {CALIBRATED_DROPOUT.phi_current}); a person-level frailty "
            f"(sd {CALIBRATED_DROPOUT.frailty_sd}) clusters missed interviews; QCT clients' "
            "intake offending enters with "
            f"phi_baseline_qct = {CALIBRATED_DROPOUT.phi_baseline_qct}; exact counts per "
            "group and wave by Gumbel top-k selection."
        ),
        "desistance": (
            "no offending at t2 follows the paper's Table 1 as printed: the t2 zero-inflation "
            "logit rises per SD of the intake composite score "
            f"(z_score = {CALIBRATED_PARAMS.offending.z_score}) and falls with age "
            f"(z_age = {CALIBRATED_PARAMS.offending.z_age} per year) and the action stage "
            f"(z_action = {CALIBRATED_PARAMS.offending.z_action}), besides site 2's shift; "
            f"QCT clients' t2 term z_qct_t2 = {CALIBRATED_PARAMS.offending.z_qct_t2} keeps "
            "legal status not significant beside those terms, as the paper reports; the "
            "direction of the score's odds ratio is an open question of the paper"
        ),
        "layout": (
            "long: participant x wave; in_treatment and days_retained on the t2 row "
            "(agency data, recorded also for those not interviewed); homeless and "
            "peer_drug_use only where interviewed; days_at_liberty empty where not interviewed"
        ),
        "parameters": CALIBRATED_PARAMS.to_dict(),
        "dropout_parameters": asdict(CALIBRATED_DROPOUT),
    }


def write_bundled(folder: Path | None = None, *, force: bool = True) -> tuple[Path, Path]:
    """Regenerate the bundled CSV and its metadata (default: into the package)."""
    from bayes_qct.outputs import atomic_write_text

    folder = folder or bundled_path().parent
    text = gen.cohort_csv_text(reconstruct_cohort())
    meta = metadata(text, seed=RECONSTRUCTION_SEED, draws=ACCEPTED_DRAWS)
    csv = atomic_write_text(folder / BUNDLED_CSV, text, force=force)
    js = atomic_write_text(folder / BUNDLED_META, json.dumps(meta, indent=2) + "\n", force=force)
    for path in (csv, js):
        path.chmod(0o644)  # package data: readable by all, like the rest of the package
    return csv, js


def main(argv: list[str] | None = None) -> None:
    """``python -m bayes_qct.data.reconstruct``: regenerate the bundled cohort."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", type=Path, default=None, help="folder (default: the package)")
    args = parser.parse_args(argv)
    csv, js = write_bundled(args.out)
    print(f"wrote {csv} and {js} (SYNTHETIC)")


if __name__ == "__main__":
    main()
