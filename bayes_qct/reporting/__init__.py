"""Rendering results for people: the terminal (:mod:`.text`) and the report pages.

Renderers take the toolkit's result objects (fit results, comparison tables, sweep
results) and the shared labels of :mod:`bayes_qct.labels`. The report (:mod:`.render`)
reads fit folders and the files beside them, summarises stored draws where a summary is
not on disk (the estimands' ESS and r_hat) and draws figures; it never fits.
"""
