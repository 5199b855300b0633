"""The synthetic cohort's calibration: targets, the parameter fit, the seeded search.

The targets come from the paper's registry; the fit sets the generator's parameters and
the search picks its random draws. The package sits above :mod:`bayes_qct.data` (the
generator and the bundled cohort) and :mod:`bayes_qct.frequentist` (Table 1's refit is one
of its targets), so neither imports it. ``python -m bayes_qct.calibration.search`` replays
the search; the accepted draws are frozen in :mod:`bayes_qct.data.reconstruct`. The
calibration table is :func:`bayes_qct.calibration.targets.calibration_table`.
"""
