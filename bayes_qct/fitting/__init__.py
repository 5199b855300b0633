"""Fits as stages on disk: sample, post-process, write; reuse, list and sweep them.

The layer above the model (:mod:`bayes_qct.modeling`) and the posterior summaries
(:mod:`bayes_qct.estimands`): it decides whether a fit or its posterior can be reused,
runs the stages, writes fit folders atomically and reads them back.
"""
