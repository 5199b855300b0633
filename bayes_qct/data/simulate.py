"""Draw synthetic cohorts with a chosen dropout mechanism, and their known full-data truth.

Every cohort comes from :mod:`bayes_qct.data.generator` (the model the toolkit fits); the
interviews are then drawn under a dropout mechanism of :mod:`bayes_qct.data.dropout`
(``mcar``, ``mar``, ``mnar``, ``shared-parameter``, ``pattern-mixture``), each with its own
settings. A missed interview leaves both outcomes missing; the truth (the estimands of
DATA_CONTRACT §2) is computed on the complete data before dropout.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import expit

from bayes_qct.constants import LEGAL_STATUSES, MAX_DAYS, WAVES
from bayes_qct.data import generator as gen
from bayes_qct.data.dropout import (
    DEFAULT_STRENGTH,
    MECHANISMS,
    PAPER_RETENTION,
    draw_interviews,
    refuse_unused,
)
from bayes_qct.errors import BadInputError, RefusedOverwriteError

log = logging.getLogger(__name__)


def default_params() -> gen.GeneratorParams:
    """Return the reconstruction's calibrated parameters, minus what the fitted model lacks.

    The reconstruction lets site 2 have fewer structural zeros in offending (``z_site2``)
    and gives the t2 zero-inflation Table 1's desistance terms (``z_score``, ``z_age``,
    ``z_action``, ``z_qct_t2``); the count models the toolkit fits have none of these, so
    simulations leave them at 0 and a fitted model is checked against data from its own
    family (with them in, the t1 and t4 truths of the recovery tests fell outside the
    fitted intervals: the data were no longer from the model that was fitted).
    """
    from bayes_qct.data.reconstruct import CALIBRATED_PARAMS

    return CALIBRATED_PARAMS.with_outcome(
        "offending", z_site2=0.0, z_score=0.0, z_age=0.0, z_action=0.0, z_qct_t2=0.0
    )


def apply_effects(params: gen.GeneratorParams, effects: Mapping[str, float]) -> gen.GeneratorParams:
    """Override generator parameters, e.g. ``{"offending.d4": -0.8, "drug-use.b_qct": 1}``.

    Keys are ``<outcome>.<field>``: a scalar field of :class:`OutcomeParams` (``b0``,
    ``b_qct``, ``z_qct``, ``b_score``, ``s_person``, ``s_site``, ``site2_shift``) or a wave
    entry ``g2``..``g4``, ``d2``..``d4``, ``z1``..``z4``; or ``person_corr``.
    """
    out = params
    for key, value in effects.items():
        if key == "person_corr":
            out = replace(out, person_corr=float(value))
            continue
        outcome, _, name = key.partition(".")
        if outcome not in gen.OUTCOME_KEYS:
            raise BadInputError(f"effect {key!r}: outcome must be offending or drug-use")
        current = out.outcome(outcome)
        if name[:1] in "gdz" and name[1:].isdigit() and 1 <= int(name[1:]) <= 4:
            vector = list(getattr(current, name[0]))
            vector[int(name[1:]) - 1] = float(value)
            out = out.with_outcome(outcome, **{name[0]: tuple(vector)})
        elif name in {
            "b0", "b_qct", "z_qct", "b_score", "s_person", "s_site", "site2_shift", "z_site2"
        }:  # fmt: skip
            out = out.with_outcome(outcome, **{name: float(value)})
        else:
            raise BadInputError(f"effect {key!r}: unknown parameter {name!r}")
    return out


def _shifted(mu: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """Shift probabilities on the logit scale (no-op where ``shift`` is 0)."""
    return np.where(shift == 0, mu, expit(np.log(mu / (1 - mu)) + shift))


def _wave_covariates(
    rng: np.random.Generator, pop: gen.Population, interviewed: np.ndarray
) -> dict[str, np.ndarray]:
    """Homelessness and peer drug use per interviewed wave; treatment and retention at t2."""
    shape = interviewed.shape
    drug = pop.v[:, 1][:, None]
    homeless = rng.random(shape) < expit(np.array([-1.1, -2.0, -2.0, -2.0]) + 0.4 * drug)
    peer = rng.random(shape) < expit(np.array([-1.0, -1.0, -1.2, -0.7]) + 0.3 * drug)
    treat = rng.random(pop.n) < expit(0.15 - 0.3 * pop.v[:, 0])
    retained = np.where(treat, rng.integers(90, 184, pop.n), rng.integers(1, 181, pop.n)).astype(
        float
    )
    t2_only = np.full(shape, np.nan)
    in_treatment, days_retained = t2_only.copy(), t2_only.copy()
    in_treatment[:, 1] = treat
    days_retained[:, 1] = retained
    seen = interviewed == 1
    return {
        "homeless": np.where(seen, homeless, np.nan),
        "peer_drug_use": np.where(seen, peer, np.nan),
        "in_treatment": in_treatment,
        "days_retained": days_retained,
    }


def simulate_cohort(
    *,
    n_participants: int = 157,
    n_sites: int = 10,
    share_qct: float = 89 / 157,
    params: gen.GeneratorParams | None = None,
    effects: Mapping[str, float] | None = None,
    dropout: str = "mar",
    strength: float | None = None,
    delta: float | None = None,
    status_effect: float | None = None,
    retention: tuple[float, float, float] = PAPER_RETENTION,
    pattern: str = "intermittent",
    dropout_outcome: str | None = None,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Draw one synthetic cohort and its full-data truth.

    Parameters
    ----------
    n_participants, n_sites, share_qct
        Cohort size, number of sites and share on a court order.
    params
        Generator parameters; default :func:`default_params`.
    effects
        Overrides of single parameters (see :func:`apply_effects`).
    dropout
        ``mcar``, ``mar``, ``mnar``, ``shared-parameter`` or ``pattern-mixture``.
        Each uses only its own settings (:data:`SETTINGS_USED`); giving another one
        (a strength to ``mcar``, a non-zero delta to ``mar``) is refused.
    strength
        The mechanism's dependence (``phi`` for ``mnar``); default per mechanism.
    delta
        Logit shift of the missed waves' means under ``pattern-mixture`` (default 0:
        missed values drawn like observed ones, so the cohort is the ``mcar`` one).
    status_effect
        a_qct, the log-odds difference in being interviewed for QCT (default 0; not
        under MCAR).
    retention
        Expected share interviewed at t2, t3, t4.
    pattern
        ``intermittent`` (default) or ``monotone``.
    dropout_outcome
        Outcome whose values drive ``mar``, ``mnar`` or ``shared-parameter`` (default
        ``offending``).
    seed
        Random seed; the same arguments and seed give the same cohort.

    Returns
    -------
    cohort, truth
        The long table (DATA_CONTRACT §1) and a JSON-serialisable dict: settings,
        generating parameters, true site effects, dropout intercepts and the estimands of
        DATA_CONTRACT §2 computed on the complete data before dropout.
    """
    if dropout not in MECHANISMS:
        raise BadInputError(f"unknown dropout mechanism {dropout!r}; one of {sorted(MECHANISMS)}")
    if pattern not in ("intermittent", "monotone"):
        raise BadInputError(f"pattern must be intermittent or monotone, not {pattern!r}")
    given = {
        "strength": strength,
        "delta": delta or None,  # 0: no shift, the same as not given
        "status_effect": status_effect or None,
        "dropout_outcome": dropout_outcome,
    }
    refuse_unused(dropout, {name: name for name, value in given.items() if value is not None})
    delta, status_effect = float(delta or 0.0), float(status_effect or 0.0)
    dropout_outcome = dropout_outcome or gen.OUTCOME_KEYS[0]
    if dropout_outcome not in gen.OUTCOME_KEYS:
        raise BadInputError(f"dropout_outcome must be one of {gen.OUTCOME_KEYS}")
    if n_participants < 2 or n_sites < 1 or not 0 < share_qct < 1:
        raise BadInputError("need n_participants >= 2, n_sites >= 1 and 0 < share_qct < 1")
    params = apply_effects(params or default_params(), effects or {})
    strength = DEFAULT_STRENGTH[dropout] if strength is None else float(strength)
    rng = np.random.default_rng(seed)
    n_qct = min(max(round(n_participants * share_qct), 1), n_participants - 1)
    pop = gen.draw_population(
        rng, n_qct=n_qct, n_voluntary=n_participants - n_qct, n_sites=n_sites, params=params
    )
    liberty = gen.draw_liberty(rng, pop, params)
    probs = {o: gen.probabilities(pop, params, o) for o in gen.OUTCOME_KEYS}
    complete = {o: gen.draw_counts(rng, *probs[o], liberty) for o in gen.OUTCOME_KEYS}
    k = gen.OUTCOME_KEYS.index(dropout_outcome)
    interviewed, intercepts = draw_interviews(
        rng,
        pop,
        rate=complete[dropout_outcome] / liberty,
        mechanism=dropout,
        strength=strength,
        status_effect=status_effect,
        retention=retention,
        pattern=pattern,
        s_person=params.outcome(dropout_outcome).s_person,
        outcome_index=k,
    )
    shift = np.where(interviewed == 0, delta if dropout == "pattern-mixture" else 0.0, 0.0)
    if dropout == "pattern-mixture" and delta != 0.0:
        for o in gen.OUTCOME_KEYS:
            mu, pi = probs[o]
            probs[o] = (_shifted(mu, shift), pi)
            redraw = gen.draw_counts(rng, probs[o][0], pi, liberty)
            complete[o] = np.where(interviewed == 0, redraw, complete[o])
    estimands = []
    for o in gen.OUTCOME_KEYS:
        as_if = {}
        for status, code in zip(LEGAL_STATUSES, (1, 0), strict=True):
            everyone = replace(pop, qct=np.full(pop.n, code, dtype=np.int64))
            cmu, cpi = gen.probabilities(everyone, params, o)
            as_if[status] = (_shifted(cmu, shift), cpi)
        estimands += gen.full_data_estimands(
            pop, o, mu=probs[o][0], pi=probs[o][1], n=liberty, y=complete[o], counterfactual=as_if
        )
    observed = {o: np.where(interviewed == 1, complete[o], np.nan) for o in gen.OUTCOME_KEYS}
    df = gen.long_table(
        pop,
        site_names=gen.site_labels(n_sites),
        interviewed=interviewed,
        counts=observed,
        liberty=liberty,
        wave_covariates=_wave_covariates(rng, pop, interviewed),
    )
    truth = {
        "synthetic": True,
        "description": (
            "SYNTHETIC cohort simulated by bayes-qct's generator; truth computed before dropout."
        ),
        "generator_version": gen.GENERATOR_VERSION,
        "seed": int(seed),
        "settings": {
            "n_participants": n_participants,
            "n_qct": int(n_qct),
            "n_sites": n_sites,
            "dropout": dropout,
            "strength": strength,
            "delta": float(delta),
            "status_effect": float(status_effect),
            "retention": list(retention),
            "pattern": pattern,
            "dropout_outcome": dropout_outcome,
            "max_days": MAX_DAYS,
        },
        "parameters": params.to_dict(),
        "site_effects": {
            o: dict(zip(gen.site_labels(n_sites), map(float, pop.u[:, j]), strict=True))
            for j, o in enumerate(gen.OUTCOME_KEYS)
        },
        "dropout_model": {
            "a_t": dict(zip(WAVES[1:], intercepts, strict=True)),
            "a_qct": 0.0 if dropout == "mcar" else float(status_effect),
            "phi" if dropout == "mnar" else "strength": strength,
        },
        "interviewed_per_wave": dict(zip(WAVES, map(int, interviewed.sum(axis=0)), strict=True)),
        "estimands": estimands,
    }
    log.info("simulated %d participants, dropout %s (strength %s)", pop.n, dropout, strength)
    return df, truth


def truth_path(csv_path: Path) -> Path:
    """Where the truth of a simulated cohort goes: ``x.csv`` -> ``x.truth.json``."""
    return csv_path.with_name(csv_path.stem + ".truth.json")


def write_simulation(
    df: pd.DataFrame, truth: dict, out: str | Path, *, force: bool = False
) -> tuple[Path, Path]:
    """Write a simulated cohort (CSV) and its truth (JSON) atomically, side by side.

    The CSV is checked against the data contract first; nothing is written if either file
    exists and ``force`` is false (:class:`RefusedOverwriteError`, exit code 4).
    """
    import io
    import json

    from bayes_qct.data.contract import validate_or_raise
    from bayes_qct.outputs import atomic_write_text

    csv_path = Path(out)
    json_path = truth_path(csv_path)
    if not force:
        for path in (csv_path, json_path):
            if path.exists():
                raise RefusedOverwriteError(f"{path} exists; pass --force to overwrite it")
    text = gen.cohort_csv_text(df)
    raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    validate_or_raise(raw, str(csv_path))
    atomic_write_text(csv_path, text, force=True)
    atomic_write_text(json_path, json.dumps(truth, indent=2) + "\n", force=True)
    return csv_path, json_path
