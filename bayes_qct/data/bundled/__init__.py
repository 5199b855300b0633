"""The bundled synthetic cohort (data files only)."""
