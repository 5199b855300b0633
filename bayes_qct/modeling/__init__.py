"""Model specs, likelihood and missingness registries, the builder and the samplers."""
