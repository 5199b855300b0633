"""What every design provides: the row layout of a model and everything that hangs on it.

A design says what one row of the model is (a person at a wave, a person), which
outcomes it models, which arrays a cohort becomes, the parameters and linear predictors
of the outcome, its zero part and the response (dropout) model, how draws are read back,
and which estimands and tables a fit of it reports. The builder, the predictions, the
pipeline and the sweeps are written against this interface only, so a new design is one
subclass registered in :data:`bayes_qct.modeling.designs.DESIGNS`, with no edit to
generic code or to another design.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from bayes_qct.constants import SAMPLE_DIMS
from bayes_qct.modeling.likelihoods import Family
from bayes_qct.modeling.ops import Ops
from bayes_qct.modeling.priors import PriorTable

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from bayes_qct.data.cohort import Cohort

DIM_ROW = "row"
DIM_OBS = "obs"
DIM_DROPOUT = "dropout_row"
VARIABLE_INPUTS = frozenset({"obs_rows", "dropout_observed_rows", "dropout_missing_rows"})
"""Inputs of a compile-once model whose length may differ between cohorts of one grid."""


@dataclass(frozen=True)
class ModelData:
    """The arrays every design gives, one entry per model row.

    Attributes
    ----------
    coords
        Dim name -> labels, for the PyMC model and the InferenceData.
    y
        Observed counts, 0 where missing (``observed`` says which); float64.
    trials
        Binomial trials per row (days at liberty; 1 for a binary outcome).
    observed
        Whether the row's outcome was observed.
    obs_rows, missing_rows
        Rows with / without an observed outcome.
    dropout_rows
        Rows the response (dropout) model describes; other missing rows are MAR.
    k_max
        Largest possible count (the k grid a missing count is summed over).
    reference_trials
        Trials of the expected rate and P(any) the estimands report (30 days; 1).
    row_labels
        Per row: ``participant_id``, ``site``, ``legal_status``, ``wave`` (strings).
    """

    coords: dict[str, list]
    y: np.ndarray
    trials: np.ndarray
    observed: np.ndarray
    obs_rows: np.ndarray
    missing_rows: np.ndarray
    dropout_rows: np.ndarray
    k_max: int
    reference_trials: float
    row_labels: Mapping[str, np.ndarray]

    @property
    def n_rows(self) -> int:
        """Number of model rows."""
        return int(self.y.size)

    def missed_dropout_rows(self) -> np.ndarray:
        """Boolean per row: a dropout row whose outcome was not observed."""
        mask = np.zeros(self.n_rows, dtype=bool)
        mask[self.dropout_rows] = True
        return mask & ~np.asarray(self.observed, dtype=bool)


@dataclass(frozen=True)
class Companion:
    """A fit made beside a design's own and shown next to it by ``bayes-qct fit``.

    Attributes
    ----------
    key
        Short name: the folder suffix when the main fit's folder is given (``--out``).
    label
        How the side-by-side tables name it.
    spec
        The spec (a name in ``models/`` or a path) the companion fits; ``None``: the main
        fit's own spec. The main fit's command-line choices carry over to a spec of the
        same outcome; to another outcome's, only the sampler settings do.
    overrides
        Spec overrides of the companion (``missingness``...), over those choices.
    """

    key: str
    label: str
    spec: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)


class Design(ABC):
    """Base class of the registry's designs (see the module docstring).

    Class attributes name the design and its vocabulary; methods are grouped by the
    stage that calls them. Subclasses implement every abstract method.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    outcomes: ClassVar[Mapping[str, str]]
    """Outcome name (CLI, spec, file paths) -> cohort column."""
    mechanisms: ClassVar[tuple[str, ...] | None] = None
    """Missingness entries this design takes (``None``: all of them)."""
    has_level: ClassVar[bool] = False
    """Whether rows share a participant-level latent intercept (shared-parameter needs it)."""
    covariates: ClassVar[tuple[str, ...]] = ()
    """Baseline covariates a spec may name."""
    dropout_terms: ClassVar[str] = "1"
    """The response model's terms, as the formula text shows them."""
    families: ClassVar[tuple[str, ...] | None] = None
    """Likelihood families this design takes (``None``: all of them)."""
    renderer: ClassVar[str] = "day-counts"
    """Which terminal rendering shows a fit of the design (a key the reporting layer knows)."""
    companions: ClassVar[tuple[Companion, ...]] = ()
    """Fits ``bayes-qct fit`` makes beside this one and shows side by side."""
    standardise: ClassVar[bool] = False
    """Average each legal status's estimands over the whole cohort (g-computation) even
    without covariates (with covariates they always are)."""

    # ------------------------------------------------------------------ the spec

    @abstractmethod
    def default_priors(self, family: Family, *, covariates: bool) -> PriorTable:
        """Default priors of the design's parameters and of the family's zero part."""
        ...

    @abstractmethod
    def dropout_priors(self) -> PriorTable:
        """Default priors of the response model's predictor (``eta_r``)."""
        ...

    @abstractmethod
    def formula(self, outcome: str, likelihood: str, covariates: tuple[str, ...]) -> str:
        """Return the outcome model in brms-like notation."""
        ...

    def outcome_text(self, outcome: str) -> str:
        """Return the outcome as a share of its trials in formula text (``y / n``)."""
        return f"{self.outcomes[outcome]} / trials"

    # ------------------------------------------------------------------ the data

    @abstractmethod
    def model_data(self, cohort: Cohort, outcome: str, covariates: tuple[str, ...]) -> ModelData:
        """Return the cohort's arrays and coords for one outcome and the spec's covariates."""
        ...

    @abstractmethod
    def input_fields(self, data: ModelData) -> dict[str, str]:
        """``ModelData`` fields a compile-once model takes as inputs -> input names."""
        ...

    @abstractmethod
    def counterfactual(self, data: ModelData, legal_status: str) -> ModelData:
        """Return the same rows with every participant given ``legal_status`` (g-computation)."""
        ...

    @abstractmethod
    def dropout_keys(self, data: ModelData, rows: np.ndarray) -> np.ndarray:
        """Per row, the values ``eta_r`` and the trials depend on (rows x keys)."""
        ...

    # ------------------------------------------------------------------ the model

    @abstractmethod
    def add_parameters(self, data: ModelData, priors: PriorTable) -> dict[str, Any]:
        """Create the outcome model's parameters (inside ``pm.Model``); return their values."""
        ...

    @abstractmethod
    def add_zero_parameters(self, priors: PriorTable) -> dict[str, Any]:
        """Create the zero part's parameters (called for families that have one)."""
        ...

    @abstractmethod
    def zero_parameter_names(self) -> list[str]:
        """Names of the zero part's parameters (families with a zero part)."""
        ...

    @abstractmethod
    def add_dropout_parameters(self, priors: PriorTable) -> dict[str, Any]:
        """Create the response model's predictor parameters."""
        ...

    @abstractmethod
    def linear_predictor(self, ops: Ops, values: Mapping[str, Any], data: ModelData) -> Any:
        """Logit of the outcome's mean per row."""
        ...

    @abstractmethod
    def zero_predictor(self, ops: Ops, values: Mapping[str, Any], data: ModelData) -> Any:
        """Logit of the zero part per row."""
        ...

    @abstractmethod
    def dropout_predictor(self, ops: Ops, values: Mapping[str, Any], data: ModelData) -> Any:
        """Logit of P(observed) per row before any dependence on the outcome."""
        ...

    @abstractmethod
    def latent_level(self, ops: Ops, values: Mapping[str, Any], data: ModelData) -> Any:
        """Each row's participant-level latent intercept (designs with ``has_level``)."""
        ...

    def outcome_predictors(
        self,
        ops: Ops,
        values: Mapping[str, Any],
        data: ModelData,
        family: Family,
        *,
        shift: Any = None,
    ) -> tuple[Any, tuple[Any, ...]]:
        """``eta`` (plus an optional per-row ``shift``) and the family's row parameters."""
        eta = self.linear_predictor(ops, values, data)
        if shift is not None:
            eta = eta + shift
        zeta = self.zero_predictor(ops, values, data) if family.has_zero_part else None
        return eta, family.row_values(ops, values, eta, zeta)

    # ------------------------------------------------------------------ the draws

    @abstractmethod
    def parameter_names(self, data: ModelData) -> list[str]:
        """Names of the design's parameters as :meth:`parameter_values` returns them."""
        ...

    @abstractmethod
    def parameter_values(self, posterior: xr.Dataset, data: ModelData) -> dict[str, np.ndarray]:
        """Draws (sample axis first) of the design's parameters, labels matched to ``data``."""
        ...

    @abstractmethod
    def check_statistics(self, *, prior: bool = False) -> dict[str, Any]:
        """Predictive-check statistics: name -> function of counts along the last axis."""
        ...

    def file_form(self, posterior: xr.Dataset) -> xr.Dataset:
        """Return the posterior as the file stores it (:meth:`parameter_values` reads it)."""
        return posterior

    def internal_variables(self) -> dict[str, str]:
        """Sampler-internal posterior variables -> the reviewer-facing one they build."""
        return {}

    def variable_attrs(self) -> dict[str, dict[str, str]]:
        """Per posterior variable: ``long_name``, ``scale``, ``units`` for the NetCDF file."""
        return {}

    # ------------------------------------------------------------------ the answers

    @abstractmethod
    def estimand_draws(
        self,
        predictions: xr.Dataset,
        cohort: Cohort,
        *,
        standardised: Mapping[str, xr.Dataset] | None = None,
    ) -> xr.Dataset:
        """Every estimand per draw, from :func:`bayes_qct.modeling.predict.predict`."""
        ...

    @abstractmethod
    def contrasts(
        self,
        draws: xr.Dataset,
        *,
        outcome: str,
        model: str,
        missingness: str,
        weights: np.ndarray | None = None,
    ) -> pd.DataFrame:
        """Return the tidy ``contrasts.csv`` rows of :meth:`estimand_draws`.

        ``weights`` are importance weights of the draws (a reweighted sweep point).
        """
        ...

    def estimand_parts(self, predictions: xr.Dataset, cohort: Cohort) -> xr.Dataset | None:
        """Return the estimands' parts by legal status, or ``None`` (not decomposable).

        Parts are a Dataset with a ``legal_status`` dim whose entries depend on that
        status's rows only; parts of runs at different per-group parameters are then
        combined entry by entry, and :meth:`estimands_from_parts` gives the estimands.
        A design that returns ``None`` is swept by full predictions at every point.
        """
        return None

    def estimands_from_parts(self, parts: xr.Dataset) -> xr.Dataset:
        """Return every estimand per draw from (combined) parts."""
        raise TypeError(f"design {self.name!r} has no estimand parts")

    @abstractmethod
    def tables(
        self, idata: Any, cohort: Cohort, outcome: str, contrasts: pd.DataFrame
    ) -> dict[str, pd.DataFrame]:
        """Return the design's extra tables of a fit (predictive checks, site effects, ...)."""
        ...


def codes(labels: Any) -> tuple[np.ndarray, list[str]]:
    """Integer codes of string labels (sorted) and the labels."""
    levels, inverse = np.unique(np.asarray(labels).astype(str), return_inverse=True)
    return inverse.astype(np.int64).ravel(), levels.tolist()


def stacked_draws(posterior: xr.Dataset, name: str, dims: Mapping[str, list]) -> np.ndarray:
    """Return a variable's draws as (sample, ...), labelled dims selected in the model's order."""
    da = posterior[name]
    for dim, labels in dims.items():
        if dim in da.dims:
            da = da.sel({dim: labels})
    da = da.stack(__sample__=SAMPLE_DIMS).transpose("__sample__", ...)
    return np.asarray(da.values, dtype=np.float64)
