"""Constants shared across the toolkit: labels, dims, interval conventions."""

from __future__ import annotations

TOOLKIT_VERSION = "0.8.0"
"""The toolkit's version (recorded in every fit; a fit made by another version is not reused)."""

WAVES: tuple[str, ...] = ("t1", "t2", "t3", "t4")
"""Interview waves: intake, 6, 12 and 18 months."""

WAVE_MONTHS: dict[str, int] = {"t1": 0, "t2": 6, "t3": 12, "t4": 18}

LEGAL_STATUSES: tuple[str, ...] = ("QCT", "voluntary")
"""Legal status labels: court-ordered (QCT/DTTO) and other referral routes."""

OUTCOMES: dict[str, str] = {"offending": "offending_days", "drug-use": "drug_use_days"}
"""Outcome name (CLI, specs, file paths) -> cohort column."""

MAX_DAYS = 30
"""Length of the recall window in days."""

RETENTION_DAYS = 183
"""Days in the first six months of treatment: the bound of days retained."""

STAGES_OF_CHANGE: tuple[str, ...] = ("precontemplation", "contemplation", "action")

MECHANISMS: tuple[str, ...] = ("mar", "selection", "shared-parameter", "pattern-mixture")
HANDLINGS: tuple[str, ...] = ("complete-case", "locf", "mean-imputation")

CI_PROB = 0.95
"""Every interval the toolkit reports is a 95% interval."""

CI_KIND = "eti"
"""Equal-tailed intervals unless a column says otherwise."""

# Dimension names used in PyMC models and InferenceData.
DIM_OBS = "obs"
DIM_PARTICIPANT = "participant"
DIM_SITE = "site"
DIM_WAVE = "wave"
DIM_STATUS = "legal_status"
SAMPLE_DIMS: tuple[str, str] = ("chain", "draw")
"""The draw dimensions of every posterior (ArviZ's ``sample_dims``)."""

SYNTHETIC_LABEL = (
    "SYNTHETIC reconstructed cohort (calibrated to the paper's published figures; "
    "not the study's individual data)"
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_INPUT = 2
EXIT_DIAGNOSTICS = 3
EXIT_REFUSED_OVERWRITE = 4
