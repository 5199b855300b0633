"""Data: the cohort contract, readers, the published record, the synthetic cohort."""
