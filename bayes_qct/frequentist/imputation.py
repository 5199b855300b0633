"""The paper's missing-data handlings: complete case, LOCF, mean imputation.

Each takes a :class:`~bayes_qct.data.cohort.Cohort` (or its long table) and an outcome,
and returns a :class:`HandlingResult`: the new table (and Cohort) with the same shape
(every participant keeps all four waves), plus how many values it carried, imputed or set
aside. ``interviewed`` is never changed: it records the interviews that happened, so a
filled value can always be told from an observed one (``result.filled`` marks them too).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from bayes_qct.constants import OUTCOMES, WAVES
from bayes_qct.data.cohort import Cohort

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandlingResult:
    """A cohort after one missing-data handling, with what the handling did.

    Attributes
    ----------
    handling
        ``complete-case``, ``locf`` or ``mean-imputation`` (DATA_CONTRACT §4).
    outcome
        The outcome column handled (``offending_days`` or ``drug_use_days``).
    waves
        The waves the handling applied to.
    data
        The long table after the handling: same rows and columns as the input.
    cohort
        The same table as a Cohort (provenance kept) when a Cohort was given, else None.
    filled
        Boolean mask over ``data``'s rows: True where a value was carried or imputed.
    n_filled
        Number of values carried forward or imputed (0 for complete case).
    n_excluded
        Participants set aside (complete case: their outcome is blanked at every wave).
    filled_by_wave
        Values filled per wave.
    note
        One sentence saying what the handling did, with the counts.
    """

    handling: str
    outcome: str
    waves: tuple[str, ...]
    data: pd.DataFrame
    cohort: Cohort | None
    filled: pd.Series
    n_filled: int = 0
    n_excluded: int = 0
    filled_by_wave: dict[str, int] = field(default_factory=dict)
    note: str = ""


def _resolve(
    cohort: Cohort | pd.DataFrame, outcome: str
) -> tuple[pd.DataFrame, Cohort | None, str]:
    data = cohort.data if isinstance(cohort, Cohort) else cohort
    column = OUTCOMES.get(outcome, outcome)
    if column not in data.columns:
        raise KeyError(f"column {column!r} not in the table")
    return data.copy(), cohort if isinstance(cohort, Cohort) else None, column


def _check_waves(waves: Sequence[str]) -> tuple[str, ...]:
    waves = tuple(str(w) for w in waves)
    unknown = [w for w in waves if w not in WAVES]
    if unknown:
        raise ValueError(f"unknown wave(s) {unknown}; expected some of {list(WAVES)}")
    return waves


def _wave_labels(data: pd.DataFrame) -> pd.Series:
    return data["wave"].astype(str)


def _result(
    handling: str,
    column: str,
    waves: tuple[str, ...],
    data: pd.DataFrame,
    source: Cohort | None,
    filled: pd.Series,
    *,
    n_excluded: int = 0,
    note: str,
) -> HandlingResult:
    by_wave = {w: int(filled[_wave_labels(data) == w].sum()) for w in waves}
    new_cohort = source.with_data(data) if source is not None else None
    log.info("%s on %s: %s", handling, column, note)
    return HandlingResult(
        handling=handling,
        outcome=column,
        waves=waves,
        data=data,
        cohort=new_cohort,
        filled=filled,
        n_filled=int(filled.sum()),
        n_excluded=n_excluded,
        filled_by_wave=by_wave,
        note=note,
    )


def complete_case(
    cohort: Cohort | pd.DataFrame, outcome: str, *, waves: Sequence[str] = WAVES
) -> HandlingResult:
    """Keep only participants whose outcome was observed at every one of ``waves``.

    The table keeps its shape: a participant without the full set has the outcome blanked
    at every wave (so they drop out of any analysis of it) rather than their rows removed.

    Parameters
    ----------
    cohort
        A Cohort or its long table.
    outcome
        ``offending`` / ``drug-use`` or the column name.
    waves
        The waves that must all be observed: a pair (``("t1", "t2")``) for the paper's
        paired tests, all four for a complete-case longitudinal analysis.

    Returns
    -------
    HandlingResult
        ``n_excluded`` is the number of participants set aside.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"participant_id": ["a"] * 2 + ["b"] * 2,
    ...                    "wave": ["t1", "t2"] * 2,
    ...                    "offending_days": pd.array([10, 4, 20, None], dtype="Int64")})
    >>> res = complete_case(df, "offending", waves=("t1", "t2"))
    >>> res.n_excluded, res.data["offending_days"].tolist()
    (1, [10, 4, <NA>, <NA>])
    """
    waves = _check_waves(waves)
    data, source, column = _resolve(cohort, outcome)
    in_waves = _wave_labels(data).isin(waves)
    observed = data[column].notna() & in_waves
    n_observed = observed.groupby(data["participant_id"]).transform("sum")
    complete = n_observed == len(waves)
    excluded_ids = data.loc[~complete, "participant_id"].unique()
    data.loc[~complete, column] = pd.NA
    filled = pd.Series(False, index=data.index)
    note = (
        f"complete case over {', '.join(waves)}: {len(excluded_ids)} participant(s) without "
        f"an observed {column} at every one of these waves set aside; "
        f"{data['participant_id'].nunique() - len(excluded_ids)} kept"
    )
    return _result(
        "complete-case",
        column,
        waves,
        data,
        source,
        filled,
        n_excluded=len(excluded_ids),
        note=note,
    )


def locf(
    cohort: Cohort | pd.DataFrame, outcome: str, *, waves: Sequence[str] = WAVES[1:]
) -> HandlingResult:
    """Last observation carried forward into the missing values at ``waves``.

    A missing value at one of ``waves`` takes the participant's last *observed* value at
    an earlier wave (t1 is never filled: nothing precedes it). The paper carried t1
    forward to t2 only (``waves=("t2",)``). For an outcome, where the table has
    ``days_at_liberty``, the carried observation brings its own days at liberty with it,
    so the carried count never exceeds the time at risk and keeps its rate.

    Parameters
    ----------
    cohort
        A Cohort or its long table.
    outcome
        ``offending`` / ``drug-use`` or the column name (any per-wave column works, e.g. a
        follow-up covariate such as ``homeless``).
    waves
        The waves to fill (default every follow-up wave).

    Returns
    -------
    HandlingResult
        ``n_filled`` values carried forward, per wave in ``filled_by_wave``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"participant_id": ["a"] * 3,
    ...                    "wave": ["t1", "t2", "t3"],
    ...                    "offending_days": pd.array([12, None, None], dtype="Int64")})
    >>> res = locf(df, "offending", waves=("t2",))
    >>> res.n_filled, res.data["offending_days"].tolist()
    (1, [12, 12, <NA>])
    """
    waves = _check_waves(waves)
    data, source, column = _resolve(cohort, outcome)
    order = data.assign(_w=_wave_labels(data).map({w: i for i, w in enumerate(WAVES)}))
    order = order.sort_values(["participant_id", "_w"], kind="stable")
    last_value = order.groupby("participant_id", sort=False)[column].transform(
        lambda s: s.ffill().shift(1)
    )
    missing = order[column].isna() & _wave_labels(order).isin(waves)
    fill = missing & last_value.notna()
    data.loc[fill[fill].index, column] = last_value[fill].astype(data[column].dtype)
    if "days_at_liberty" in data.columns and column in OUTCOMES.values():
        observed_liberty = order["days_at_liberty"].where(order[column].notna())
        last_liberty = observed_liberty.groupby(order["participant_id"], sort=False).transform(
            lambda s: s.ffill().shift(1)
        )
        data.loc[fill[fill].index, "days_at_liberty"] = last_liberty[fill].astype(
            data["days_at_liberty"].dtype
        )
    filled = fill.reindex(data.index)
    left = int((missing & ~fill).sum())
    note = (
        f"LOCF into {', '.join(waves)}: {int(fill.sum())} missing {column} value(s) carried "
        f"forward from an earlier wave; {left} left missing (no earlier observation)"
    )
    return _result("locf", column, waves, data, source, filled, note=note)


def mean_imputation(
    cohort: Cohort | pd.DataFrame,
    outcome: str,
    *,
    waves: Sequence[str] = WAVES,
    by: str | None = "legal_status",
) -> HandlingResult:
    """Replace missing values by the observed mean of their wave, rounded to whole days.

    Cross-sectional mean imputation (Twisk 2003, the alternative the paper names): each
    missing value at a wave gets the mean of the values observed at that wave (within the
    participant's ``by`` group), rounded half up to a whole number of days so the table
    stays a table of day counts, and capped at the row's ``days_at_liberty``.

    Parameters
    ----------
    cohort
        A Cohort or its long table.
    outcome
        ``offending`` / ``drug-use`` or the column name.
    waves
        The waves to fill (default all four).
    by
        Column whose groups get their own means (default ``legal_status``); None for one
        mean per wave.

    Returns
    -------
    HandlingResult
        ``n_filled`` values imputed; the note lists the (unrounded) means used.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"participant_id": ["a", "b", "c"], "wave": ["t2"] * 3,
    ...                    "offending_days": pd.array([3, 4, None], dtype="Int64")})
    >>> res = mean_imputation(df, "offending", by=None)
    >>> res.n_filled, res.data["offending_days"].tolist()
    (1, [3, 4, 4])
    """
    waves = _check_waves(waves)
    data, source, column = _resolve(cohort, outcome)
    keys = [_wave_labels(data)] + ([data[by].astype(str)] if by else [])
    values = data[column].astype("Float64")
    means = values.groupby(keys).transform("mean")
    missing = data[column].isna() & _wave_labels(data).isin(waves)
    fill = missing & means.notna()
    rounded = np.floor(means[fill].astype(float).to_numpy() + 0.5)
    if "days_at_liberty" in data.columns:
        rounded = np.minimum(rounded, data.loc[fill, "days_at_liberty"].astype(float).to_numpy())
    data.loc[fill, column] = pd.array(rounded.astype(np.int64), dtype=data[column].dtype)
    in_waves = _wave_labels(data).isin(waves)
    used = values[in_waves].groupby([k[in_waves] for k in keys]).mean().dropna().round(2)
    means_text = ", ".join(
        f"{'/'.join(k) if isinstance(k, tuple) else k}={float(v):g}" for k, v in used.items()
    )
    note = (
        f"mean imputation into {', '.join(waves)}: {int(fill.sum())} missing {column} value(s) "
        f"replaced by the observed wave mean{' within ' + by if by else ''}, rounded to whole "
        f"days ({means_text}); {int((missing & ~fill).sum())} left missing (no observed value "
        "to average)"
    )
    return _result("mean-imputation", column, waves, data, source, fill, note=note)


HANDLING_FUNCTIONS = {
    "complete-case": complete_case,
    "locf": locf,
    "mean-imputation": mean_imputation,
}
"""Handling name (DATA_CONTRACT §4) -> function."""
