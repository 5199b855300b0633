"""Rendering results for people: the terminal (:mod:`.text`), and the report pages.

Renderers take the toolkit's result objects (fit results, comparison tables, sweep
results) and the shared labels of :mod:`bayes_qct.labels`; they compute nothing.
"""
