"""Compile once, sample many: one nutpie model for every cohort of a grid, and its cache.

A :class:`CompiledModel` is built with ``build_model(..., data_inputs=True)``: the cohort's
arrays, and a fixed mechanism parameter (``phi`` fixed for a sweep point), are the
model's ``pm.Data`` inputs, so each further cohort or parameter value costs only its
sampling (nutpie's ``with_data`` swaps the arrays; nothing is recompiled). Simulation
studies and sensitivity sweeps use :func:`compiled_model`, which keeps one compiled model
per process and model (the spec less its sampler settings and fixed parameter values)
and grid size.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np

from bayes_qct.modeling.build import build_model, model_inputs, prepared_data
from bayes_qct.modeling.designs import get_design
from bayes_qct.modeling.designs.base import VARIABLE_INPUTS
from bayes_qct.modeling.missingness import POSTERIOR, get_mechanism
from bayes_qct.modeling.sample import SampleTimes, drop_object_stats, nutpie_sample

if TYPE_CHECKING:
    from xarray import DataTree

    from bayes_qct.data.cohort import Cohort
    from bayes_qct.modeling.spec import ModelSpec, SamplerSettings


class CompiledModel:
    """A model compiled once (nutpie, numba) and sampled on many cohorts of one grid.

    Examples
    --------
    >>> compiled = CompiledModel(first_cohort, spec)  # doctest: +SKIP
    >>> idata, times = compiled.sample(other_cohort, spec.sampler)  # doctest: +SKIP
    >>> idata, times = compiled.sample(cohort, spec.sampler, params={"phi": -1.0})  # doctest: +SKIP
    """

    def __init__(self, cohort: Cohort, spec: ModelSpec, *, cohorts: bool = True) -> None:
        """Compile ``spec`` on ``cohort``.

        ``cohorts=False``: a model of this cohort only, sampled at other fixed parameter
        values (a sensitivity sweep's refits). Its arrays are constants, as in a fit
        (binomial coefficients folded, the response model's k grid computed once per
        group of alike missing rows), so it samples as fast as a fit does, and its
        compiled code is shared across processes like a fit's
        (:mod:`bayes_qct.modeling.nutpie_cache`).
        """
        start = time.perf_counter()
        import nutpie

        self.spec = spec
        self.cohort_sha256 = None if cohorts else cohort.sha256
        self.cache_hit = False
        if cohorts:
            self.model = build_model(cohort, spec, data_inputs=True)
            self._compiled = nutpie.compile_pymc_model(self.model, backend="numba")
        else:
            from bayes_qct.modeling.build import model_fingerprint
            from bayes_qct.modeling.nutpie_cache import compile_nutpie

            self.model = build_model(cohort, spec)
            self._compiled, self.cache_hit = compile_nutpie(
                self.model, model_fingerprint(self.model)
            )
        compiled = self._compiled
        self._shapes = {
            var.name: compiled.shared_data[key].shape
            for var, key in compiled.shared_var_keys.items()
        }
        self.compile_s = time.perf_counter() - start

    def fixed_parameters(self) -> tuple[str, ...]:
        """Mechanism parameters fixed in the spec (inputs that :meth:`sample` may change)."""
        mechanism = get_mechanism(self.spec.missingness)
        fixed = self.spec.mechanism_params
        return tuple(
            p.name
            for p in mechanism.parameters
            if p.affects == POSTERIOR and fixed[p.name] is not None
        )

    def inputs(self, cohort: Cohort) -> dict[str, np.ndarray]:
        """Return the compiled model's data inputs for ``cohort`` (shapes checked).

        Raises
        ------
        ValueError
            When the cohort's grid differs from the one the model was compiled for.
        """
        _, data = prepared_data(cohort, self.spec)
        return self._inputs_of(data, cohort.source)

    def _inputs_of(self, data: Any, source: str) -> dict[str, np.ndarray]:
        if self.cohort_sha256 is not None:  # one cohort's model: its arrays are constants
            return {}
        given = model_inputs(data, get_design(self.spec.design))
        out = {}
        for name, shape in self._shapes.items():
            if name not in given:  # a fixed mechanism parameter: see sample(params=...)
                continue
            if name not in VARIABLE_INPUTS and given[name].shape != shape:
                raise ValueError(
                    f"{source}: input {name!r} has shape {given[name].shape}, the "
                    f"compiled model takes {shape} (a different grid)"
                )
            out[name] = given[name]
        return out

    def sample(
        self,
        cohort: Cohort,
        settings: SamplerSettings,
        *,
        params: Mapping[str, float] | None = None,
        progress: bool = False,
    ) -> tuple[DataTree, SampleTimes]:
        """Sample the posterior given ``cohort`` (nutpie; ``settings.sampler`` is ignored).

        ``params`` sets fixed mechanism parameters (:meth:`fixed_parameters`) to other
        values. The posterior's participant and site labels are ``cohort``'s. The
        DataTree has posterior and sample_stats groups only (the likelihood terms are
        potentials).
        """
        import pymc as pm

        if self.cohort_sha256 not in (None, cohort.sha256):
            raise ValueError(f"{cohort.source}: this model was compiled for another cohort only")
        _, data = prepared_data(cohort, self.spec)
        inputs = self._inputs_of(data, cohort.source)
        for name, value in (params or {}).items():
            if name not in self.fixed_parameters():
                raise ValueError(f"{name!r} is not a fixed parameter of this compiled model")
            inputs[name] = np.float64(value)
        compiled = self._compiled.with_data(**inputs)
        with self.model:  # the initial points depend on the data too (w_participant's mean)
            pm.set_data(inputs)
        idata, sampling_s = nutpie_sample(compiled, settings, progress_bar=progress)
        posterior = idata["posterior"].to_dataset()
        labels = {d: data.coords[d] for d in posterior.dims if d in data.coords}
        idata["posterior"] = posterior.assign_coords(labels)
        drop_object_stats(idata)
        idata["posterior"].attrs.update(
            {"inference_library": "nutpie", "sampling_time": sampling_s}
        )
        idata.attrs.update(
            {"sampler": "nutpie", "seed": settings.seed, "sampling_seconds": sampling_s}
        )
        return idata, SampleTimes(0.0, sampling_s)


_CACHE: dict[tuple[str, int, str | None], CompiledModel] = {}
"""Compiled models of this process, by (model less its sampler and fixed values, rows,
the cohort of a one-cohort model)."""


def cache_key(cohort: Cohort, spec: ModelSpec) -> tuple[str, int]:
    """Return what a compiled model depends on: the posterior's model less sampler and fixed values.

    A fixed posterior parameter is an input, so every fixed value shares one compiled
    model (estimated is another model); post-processing parameters never enter it.
    """
    mechanism = get_mechanism(spec.missingness)
    posterior = mechanism.posterior_values(spec.mechanism_params)
    generic = tuple((name, None if value is None else 0.0) for name, value in posterior.items())
    model = replace(
        spec.without_sampler(),
        name="",
        missingness=mechanism.samples_as or mechanism.name,
        missingness_parameters=generic,
    )
    return model.fingerprint(), len(cohort.data)


def compiled_model(
    cohort: Cohort, spec: ModelSpec, *, cohorts: bool = True
) -> tuple[CompiledModel, float]:
    """Return the process's compiled model for the spec (compiled on first use).

    ``cohorts=False``: the one-cohort model (see :class:`CompiledModel`). Returns the
    model and the seconds spent compiling (or loading) it now (0 when reused).
    """
    key = (*cache_key(cohort, spec), None if cohorts else cohort.sha256)
    if key in _CACHE:
        return _CACHE[key], 0.0
    _CACHE[key] = CompiledModel(cohort, spec, cohorts=cohorts)
    return _CACHE[key], _CACHE[key].compile_s
