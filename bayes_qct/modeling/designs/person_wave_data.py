"""The person x wave design's arrays: one entry per participant x wave row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bayes_qct.constants import (
    DIM_PARTICIPANT,
    DIM_SITE,
    DIM_STATUS,
    DIM_WAVE,
    LEGAL_STATUSES,
    MAX_DAYS,
    STAGES_OF_CHANGE,
    WAVES,
)
from bayes_qct.data.cohort import Cohort, require_outcome, status_codes, wave_codes
from bayes_qct.errors import BadInputError, Problem
from bayes_qct.modeling.designs.base import DIM_DROPOUT, DIM_OBS, DIM_ROW, ModelData, codes

DIM_FOLLOWUP = "followup"
DIM_COVARIATE = "covariate"


@dataclass(frozen=True)
class PersonWaveData(ModelData):
    """Arrays of one cohort x outcome for the person x wave design.

    ``participant``, ``site``, ``wave`` (0..3) and ``qct`` (0/1) per row; ``x`` the
    standardised baseline covariates per row; ``participant_*`` the same per participant;
    ``participant_centred`` whether a participant has an observed outcome (their
    intercept is centred) or not (non-centred); ``wave_weights`` (status x follow-up
    wave: row 0 voluntary, row 1 QCT) each follow-up wave's share of the status's
    observed rows, the point the model centres the wave effects at
    (:func:`~bayes_qct.modeling.designs.person_wave_model.fixed_effects`).
    """

    participant: np.ndarray
    site: np.ndarray
    wave: np.ndarray
    qct: np.ndarray
    x: np.ndarray
    covariate_names: tuple[str, ...]
    participant_site: np.ndarray
    participant_qct: np.ndarray
    participant_x: np.ndarray
    participant_centred: np.ndarray
    wave_weights: np.ndarray


INPUT_FIELDS: dict[str, str] = {
    "participant": "participant_index",
    "site": "site_index",
    "wave": "wave_index",
    "qct": "qct",
    "participant_site": "participant_site",
    "participant_qct": "participant_qct",
    "participant_centred": "participant_centred",
    "wave_weights": "wave_weights",
    "trials": "trials",
    "y": "y_filled",
}
COVARIATE_FIELDS: dict[str, str] = {"participant_x": "participant_x"}
"""Inputs of the compile-once build with covariates: the model reads them per participant."""


def covariate_matrix(cohort: Cohort, names: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """Baseline (t1) covariates per row, standardised; stage of change as centred dummies.

    Continuous covariates are centred and scaled by their SD, binary (0/1) ones centred,
    so ``b0`` stays the logit mean at the cohort's average covariates.

    Raises
    ------
    BadInputError
        When a covariate column is absent or missing for some participant.
    """
    data = cohort.data
    if not names:
        return np.zeros((len(data), 0)), []
    baseline = data[data["wave"].astype(str) == WAVES[0]].set_index("participant_id")
    problems = []
    columns, labels = [], []
    for name in names:
        if name not in baseline.columns:
            problems.append(Problem(cohort.source, "covariate named by the spec", column=name))
            continue
        values = baseline[name]
        absent = values.index[values.isna()]
        if len(absent):
            problems.append(
                Problem(
                    cohort.source,
                    f"baseline covariate missing for {len(absent)} participant(s), "
                    f"e.g. {', '.join(map(str, absent[:3]))}",
                    column=name,
                )
            )
            continue
        per_row = data["participant_id"].map(values)
        if name == "stage_of_change":
            for level in STAGES_OF_CHANGE[1:]:
                dummy = (per_row.astype(str) == level).to_numpy(float)
                columns.append(dummy - dummy.mean())
                labels.append(f"{name}[{level}]")
            continue
        x = per_row.to_numpy(float)
        x = x - x.mean()
        if set(np.unique(values.to_numpy(float))) - {0.0, 1.0} and x.std() > 0:
            x = x / x.std()
        columns.append(x)
        labels.append(name)
    if problems:
        raise BadInputError(problems)
    return np.column_stack(columns), labels


def _per_participant(participant: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((size, *values.shape[1:]), dtype=values.dtype)
    out[participant] = values  # constant within participant (validated on input)
    return out


def person_wave_data(cohort: Cohort, outcome: str, covariates: tuple[str, ...]) -> PersonWaveData:
    """Return the arrays and coords of a cohort for the outcome and covariates."""
    data = cohort.data
    column = require_outcome(cohort, outcome)  # a clear error when the column is absent
    participant, participants = codes(data["participant_id"])
    site, sites = codes(data["site"])
    wave = wave_codes(data)
    observed = data[column].notna().to_numpy()
    y = data[column].astype("Float64").fillna(0.0).to_numpy(np.float64)
    trials = data["days_at_liberty"].astype("Float64").fillna(30.0).to_numpy(np.float64)
    qct = status_codes(data).astype(np.float64)
    x, cov_labels = covariate_matrix(cohort, covariates)
    rows = np.arange(len(data))
    coords = {
        DIM_PARTICIPANT: participants,
        DIM_SITE: sites,
        DIM_WAVE: list(WAVES),
        DIM_FOLLOWUP: list(WAVES[1:]),
        DIM_STATUS: list(LEGAL_STATUSES),
        DIM_ROW: rows.tolist(),
        DIM_OBS: rows[observed].tolist(),
        DIM_DROPOUT: rows[wave > 0].tolist(),
    }
    if cov_labels:
        coords[DIM_COVARIATE] = cov_labels
    labels = {
        name: data[name].astype(str).to_numpy()
        for name in ("participant_id", "site", "legal_status", "wave")
    }
    return PersonWaveData(
        coords=coords,
        y=y,
        trials=trials,
        observed=observed,
        obs_rows=rows[observed],
        missing_rows=rows[~observed],
        dropout_rows=rows[wave > 0],
        k_max=MAX_DAYS,
        reference_trials=float(MAX_DAYS),
        row_labels=labels,
        participant=participant,
        site=site,
        wave=wave,
        qct=qct,
        x=x,
        covariate_names=tuple(cov_labels),
        participant_site=_per_participant(participant, site, len(participants)),
        participant_qct=_per_participant(participant, qct, len(participants)),
        participant_x=_per_participant(participant, x, len(participants)),
        participant_centred=np.bincount(participant, observed, len(participants)) > 0,
        wave_weights=wave_weights(wave, qct, observed),
    )


def wave_weights(wave: np.ndarray, qct: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Each follow-up wave's share of a status's observed rows (status x t2..t4).

    Row 0 is the voluntary group (``qct == 0``), row 1 QCT; a status with no observed
    row gets zeros.

    Examples
    --------
    >>> wave_weights(np.array([0, 1, 0, 2]), np.array([0.0, 0.0, 1.0, 1.0]),
    ...              np.array([True, True, True, False]))
    array([[0.5, 0. , 0. ],
           [0. , 0. , 0. ]])
    """
    counts = np.zeros((2, len(WAVES)))
    np.add.at(counts, (qct[observed].astype(int), wave[observed]), 1.0)
    total = counts.sum(axis=1, keepdims=True)
    return np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)[:, 1:]
