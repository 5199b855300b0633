"""bayes-qct: Bayesian reanalysis of the QCT drug-treatment cohort."""

__version__ = "0.1.0"
