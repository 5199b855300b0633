"""What a built model is a function of, as one hash (the compiled-model cache's key).

A model is determined by the spec (less its sampler settings and name), the design's
arrays of the cohort (after any data handling) and the code that turns them into a
graph: every module of :mod:`bayes_qct.modeling`. Hashing those, instead of the graph
itself, costs milliseconds, and an edit to the modeling code changes every key.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from bayes_qct.modeling.designs.base import ModelData
from bayes_qct.modeling.missingness import get_mechanism
from bayes_qct.modeling.spec import ModelSpec


def _update(hasher: Any, value: Any) -> None:
    """Feed a value (arrays, mappings, sequences, scalars) to a hash, unambiguously."""
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            value = value.astype(str)
        hasher.update(f"array{value.dtype.str}{value.shape}".encode())
        hasher.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        hasher.update(f"dict{len(value)}".encode())
        for key in sorted(value, key=str):
            _update(hasher, str(key))
            _update(hasher, value[key])
    elif isinstance(value, list | tuple):
        hasher.update(f"seq{len(value)}".encode())
        for item in value:
            _update(hasher, item)
    else:
        hasher.update(f"{type(value).__name__}:{value!r};".encode())


def data_hash(data: ModelData) -> str:
    """Hash every field of a design's arrays (coords and row labels included)."""
    hasher = hashlib.sha256(type(data).__qualname__.encode())
    for fld in dataclasses.fields(data):
        _update(hasher, fld.name)
        _update(hasher, getattr(data, fld.name))
    return hasher.hexdigest()


@cache
def modeling_code_hash() -> str:
    """Hash the source of every module of ``bayes_qct.modeling`` (read once per process)."""
    root = Path(__file__).resolve().parent
    hasher = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        hasher.update(str(path.relative_to(root)).encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


def model_fingerprint_of(spec: ModelSpec, data: ModelData, *, data_inputs: bool) -> str:
    """Return the fingerprint of the model ``build_model`` makes of ``spec`` and ``data``.

    A fixed mechanism parameter is a ``pm.Data`` input of the model, so its value is
    not part of the graph: every fixed value shares one fingerprint (estimated is another);
    post-processing parameters never enter the model.
    """
    posterior = get_mechanism(spec.missingness).posterior_values(spec.mechanism_params)
    params = tuple((name, None if value is None else 0.0) for name, value in posterior.items())
    model = replace(spec.without_sampler(), name="", missingness_parameters=params)
    text = ";".join(
        [model.fingerprint(), data_hash(data), modeling_code_hash(), f"inputs={data_inputs}"]
    )
    return hashlib.sha256(text.encode()).hexdigest()
