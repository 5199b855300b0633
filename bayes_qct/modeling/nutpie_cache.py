"""Compile a model for nutpie once per machine, not once per process.

``nutpie.compile_pymc_model`` (numba backend) spends most of a warm fit's compile time in
two steps PyTensor's numba cache does not cover: building and rewriting the log-density
and gradient graphs, and compiling the C callbacks nutpie calls (numba links the whole
log-density into each callback and optimises it again, every time, because nutpie names
the callbacks' data fields with random ids). :func:`compile_nutpie` does the same steps
with deterministic names, stores the callbacks in PyTensor's numba cache and the rest of
what nutpie needs (shapes, dims, coords, the data layout) beside it, keyed by a
fingerprint of the model (:func:`bayes_qct.modeling.build.model_fingerprint`: spec,
arrays, modeling code, library versions). A later process with the same fingerprint
loads both and compiles nothing; only the initial-point function is rebuilt from the
model, so chains start where nutpie's own compilation would start them.

Anything unexpected (no fingerprint, PyTensor's numba cache switched off, a nutpie
without the helpers used here) falls back to ``nutpie.compile_pymc_model``.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bayes_qct.outputs import atomic_write_bytes

if TYPE_CHECKING:
    import pymc as pm

log = logging.getLogger(__name__)

CACHE_FORMAT = 2
"""Version of the stored metadata and of the callback source below."""

_LOGP_SRC = """
def bayes_qct_nutpie_logp(dim, x_, out_, logp_, user_data_):
    if dim != N_DIM:
        return -1
    try:
        x = numba.carray(x_, (N_DIM,))
        out = numba.carray(out_, (N_DIM,))
        logp = numba.carray(logp_, ())
        logp_val, grad = extract(x, user_data_)
        logp[()] = logp_val
        for i in range(N_DIM):  # not out[...] = grad: see below
            out[i] = grad[i]
        if not np.all(np.isfinite(out)):
            return 3
        if not np.isfinite(logp_val):
            return 4
    except Exception:
        return 1
    return 0
"""
_EXPAND_SRC = """
def bayes_qct_nutpie_expand(dim, expanded, x_, out_, user_data_):
    if dim != N_DIM:
        return -1
    if expanded != N_EXPANDED:
        return -1
    try:
        x = numba.carray(x_, (N_DIM,))
        out = numba.carray(out_, (N_EXPANDED,))
        (values,) = extract(x, user_data_)
        for i in range(N_EXPANDED):
            out[i] = values[i]
    except Exception:
        return -2
    return 0
"""
"""The C callbacks of ``nutpie.compile_pymc``'s numba backend, as source PyTensor's
numba cache can key (nutpie's own are closures over randomly named data fields).

They copy the result element by element: numba compiles ``out[...] = grad`` with its
broadcasting check, whose error message (shapes formatted into a string) took about 3 s
of each empty-cache compile; the shapes are fixed here (``N_DIM``, ``N_EXPANDED``)."""


def cache_dir() -> Path:
    """Folder of the stored metadata: inside PyTensor's compile directory."""
    import pytensor

    return Path(pytensor.config.compiledir) / "bayes_qct_nutpie"


def _signatures() -> tuple[Any, Any]:
    import numba

    t = numba.types
    logp = t.int64(
        t.uint64, t.CPointer(t.double), t.CPointer(t.double), t.CPointer(t.double), t.voidptr
    )
    expand = t.int64(t.uint64, t.uint64, t.CPointer(t.double), t.CPointer(t.double), t.voidptr)
    return logp, expand


def _callback(src: str, name: str, key: str, sig: Any, env: dict[str, Any], *, load_only: bool):
    """Return a numba C callback from source, cached under ``key`` (``None``: not cached)."""
    import numba
    from numba.core import sigutils
    from numba.core.ccallback import CFunc
    from pytensor.link.numba.cache import compile_numba_function_src

    fn = compile_numba_function_src(
        src, name, global_env={"__name__": __name__, "numba": numba, "np": np, **env}, cache_key=key
    )
    callback = CFunc(fn, sigutils.normalize_signature(sig), locals={}, options={})
    callback.enable_caching()
    if load_only:
        target = callback._targetdescr.target_context
        if callback._cache.load_overload(callback._sig, target) is None:
            return None
    callback.compile()
    return callback


def _versions_key() -> str:
    import platform
    from importlib.metadata import version

    import pytensor

    names = ("pymc", "pytensor", "nutpie", "numba", "llvmlite", "numpy")
    parts = [f"{n}={version(n)}" for n in names]
    parts += [
        f"fastmath={pytensor.config.numba__fastmath}",
        f"floatX={pytensor.config.floatX}",
        platform.machine(),
        f"format={CACHE_FORMAT}",
    ]
    return ";".join(parts)


def cache_key(fingerprint: str) -> str:
    """Return the cache entry's name: the model fingerprint with the library versions."""
    text = f"{fingerprint};{_versions_key()}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _initial_point_function(model: pm.Model, names: list[str], shapes: list[tuple]) -> Any:
    """Return nutpie's default initial points: support points jittered by U(-1, 1)."""
    from nutpie import compile_pymc as cp
    from pymc.initial_point import make_initial_point_fn

    fn = make_initial_point_fn(
        model=model,
        overrides=None,
        default_strategy="support_point",
        jitter_rvs=set(model.free_RVs),
        return_transformed=True,
    )
    return cp._rv_dict_to_flat_array_wrapper(cp._wrap_with_lock(fn), names=names, shapes=shapes)


def _shared(model: pm.Model, names: list[str]) -> tuple[dict[Any, str], dict[str, np.ndarray]]:
    """Shared inputs (``pm.Data``) -> deterministic keys, and the keys' current values."""
    keys: dict[Any, str] = {}
    data: dict[str, np.ndarray] = {}
    for i, name in enumerate(names):
        var = model[name]
        keys[var] = f"shared{i}"
        value = np.array(var.get_value(), order="C", copy=True)
        value.flags.writeable = False
        data[f"shared{i}"] = value
    return keys, data


def _assemble(model: pm.Model, meta: dict[str, Any], logp: Any, expand: Any, keys, data) -> Any:
    from nutpie import compile_pymc as cp

    names, _, shapes = meta["shape_info"]
    n_free = meta["n_free"]
    return cp.CompiledPyMCModel(
        _n_dim=meta["n_dim"],
        dims=meta["dims"],
        _coords=meta["coords"],
        _shapes={name: tuple(shape) for name, shape in zip(names, shapes, strict=True)},
        compiled_logp_func=logp,
        compiled_expand_func=expand,
        initial_point_func=_initial_point_function(model, names[:n_free], shapes[:n_free]),
        shared_data=data,
        shared_var_keys=keys,
        user_data=cp.make_user_data(keys, data),
        n_expanded=meta["n_expanded"],
        shape_info=meta["shape_info"],
        logp_func=None,
        expand_func=None,
        reparameterized_names=meta["reparameterized_names"],
    )


def _load(model: pm.Model, key: str) -> Any | None:
    path = cache_dir() / f"{key}.pkl"
    try:
        meta = pickle.loads(path.read_bytes())
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        return None
    if meta.get("format") != CACHE_FORMAT:
        return None
    logp_sig, expand_sig = _signatures()
    env = {"N_DIM": meta["n_dim"], "N_EXPANDED": meta["n_expanded"]}
    logp = _callback(
        _LOGP_SRC, "bayes_qct_nutpie_logp", f"{key}-logp", logp_sig, env, load_only=True
    )
    expand = _callback(
        _EXPAND_SRC, "bayes_qct_nutpie_expand", f"{key}-expand", expand_sig, env, load_only=True
    )
    if logp is None or expand is None:
        return None
    keys, data = _shared(model, meta["shared"])
    return _assemble(model, meta, logp, expand, keys, data)


def _compile(model: pm.Model, key: str) -> Any:
    """Compile as nutpie does (numba), callbacks cached; store the metadata."""
    from nutpie import compile_pymc as cp

    names_free = [model.rvs_to_values[v].name for v in model.free_RVs]
    n_dim, n_expanded, logp_pt, expand_pt, _, shape_info, reparameterized = cp._make_functions(
        model,
        mode="NUMBA",
        compute_grad=True,
        join_expanded=True,
        pymc_initial_point_fn=lambda seed: {},  # not used: see _initial_point_function
    )
    shared_vars = list(dict.fromkeys([*logp_pt.get_shared(), *expand_pt.get_shared()]))
    shared_names = [var.name for var in shared_vars]
    keys, data = _shared(model, shared_names)
    user_data = cp.make_user_data(keys, data)
    logp_sig, expand_sig = _signatures()
    env = {"N_DIM": n_dim, "N_EXPANDED": n_expanded}
    by_name = {var.name: key for var, key in keys.items()}
    logp_keys = [by_name[v.name] for v in logp_pt.get_shared()]
    expand_keys = [by_name[v.name] for v in expand_pt.get_shared()]
    extract_logp = cp.make_extraction_fn(logp_pt.vm.jit_fn, data, logp_keys, user_data.dtype)
    extract_expand = cp.make_extraction_fn(expand_pt.vm.jit_fn, data, expand_keys, user_data.dtype)
    logp = _callback(
        _LOGP_SRC,
        "bayes_qct_nutpie_logp",
        f"{key}-logp",
        logp_sig,
        {**env, "extract": extract_logp},
        load_only=False,
    )
    expand = _callback(
        _EXPAND_SRC,
        "bayes_qct_nutpie_expand",
        f"{key}-expand",
        expand_sig,
        {**env, "extract": extract_expand},
        load_only=False,
    )
    dims, coords = cp._prepare_dims_and_coords(model, shape_info, reparameterized)
    meta = {
        "format": CACHE_FORMAT,
        "n_dim": n_dim,
        "n_expanded": n_expanded,
        "n_free": len(names_free),
        "shape_info": shape_info,
        "reparameterized_names": reparameterized,
        "dims": dims,
        "coords": coords,
        "shared": shared_names,
    }
    compiled = _assemble(model, meta, logp, expand, keys, data)
    compiled = _with_functions(compiled, logp_pt, expand_pt)
    try:
        atomic_write_bytes(cache_dir() / f"{key}.pkl", pickle.dumps(meta), force=True)
    except OSError as err:  # a read-only cache: this process still has its model
        log.warning("could not store the compiled model's metadata: %s", err)
    return compiled


def _with_functions(compiled: Any, logp_pt: Any, expand_pt: Any) -> Any:
    import dataclasses

    return dataclasses.replace(compiled, logp_func=logp_pt, expand_func=expand_pt)


def compile_nutpie(model: pm.Model, fingerprint: str | None) -> tuple[Any, bool]:
    """Return the model compiled for nutpie (numba) and whether it came from the cache.

    Parameters
    ----------
    model
        A built model.
    fingerprint
        What the model is a function of (:func:`~bayes_qct.modeling.build.model_fingerprint`);
        ``None``: compile with nutpie, nothing cached.

    Returns
    -------
    tuple of (nutpie.compile_pymc.CompiledPyMCModel, bool)
        The compiled model (sampled like nutpie's own) and True when nothing was compiled.
    """
    import nutpie
    import pytensor

    if fingerprint is None or not pytensor.config.numba__cache:
        return nutpie.compile_pymc_model(model, backend="numba"), False
    key = cache_key(fingerprint)
    try:
        loaded = _load(model, key)
        if loaded is not None:
            return loaded, True
        return _compile(model, key), False
    except (AttributeError, ImportError, TypeError) as err:  # nutpie's helpers changed
        log.warning("cached compilation unavailable (%s); compiling with nutpie", err)
        return nutpie.compile_pymc_model(model, backend="numba"), False
