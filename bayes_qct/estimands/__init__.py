"""Posterior quantities of a fit: estimands, diagnostics, predictive checks, tables.

Functions take posterior draws (or ``predict`` output) and a cohort and return tidy
DataFrames; nothing here samples, prints or writes files.
"""
