"""The only caller of a sampler: nutpie, numpyro or PyMC's NUTS, seeded and timed.

Samplers are imported only when a fit actually samples, so reading an existing fit back
never imports them. JAX sees one CPU device unless told otherwise *before it is imported*;
:func:`ensure_host_devices` asks XLA for one device per chain (at least one per core) so
numpyro's chains run in parallel rather than one after another.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pymc as pm
    from xarray import DataTree

    from bayes_qct.modeling.spec import SamplerSettings

log = logging.getLogger(__name__)

SAMPLERS: tuple[str, ...] = ("nutpie", "numpyro", "pymc")
DEVICE_ATTR = "sampled_on"
"""DataTree attribute (JSON): platform, device kind and count, how chains ran."""
_DEVICE_FLAG = "--xla_force_host_platform_device_count"


def _cores() -> int:
    """CPU cores this process may use (its affinity, not the machine's count)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def ensure_host_devices(n: int) -> int:
    """Make JAX expose ``n`` CPU devices; return the number it will (or does) have.

    Must run before ``jax`` is first imported (XLA reads ``XLA_FLAGS`` once). If JAX is
    already loaded, nothing can change: the current device count is returned and a
    warning logged when it is smaller than ``n``.
    """
    if "jax" in sys.modules:
        import jax

        have = jax.local_device_count()
        if have < n:
            log.warning(
                "JAX was imported before the device count was set: %d device(s) for %d "
                "chains, so numpyro will run chains one after another",
                have,
                n,
            )
        return have
    flags = re.sub(rf"{_DEVICE_FLAG}=\d+", "", os.environ.get("XLA_FLAGS", "")).strip()
    os.environ["XLA_FLAGS"] = f"{flags} {_DEVICE_FLAG}={n}".strip()
    return n


@dataclass(frozen=True)
class SampleTimes:
    """Wall times (seconds) of one sampler run.

    ``compile_s`` is everything before the first sampler iteration that can be separated,
    importing the sampler included (nutpie: compiling the model with numba; numpyro: the
    JAX graph, its jit and the initial points, while numpyro's JIT of the NUTS kernel
    happens inside its run and so counts as sampling; PyMC: the sampler call's wall time
    less the sampling time it reports). ``convert_s``: draws to a DataTree.
    """

    compile_s: float
    sampling_s: float
    convert_s: float = 0.0


def cpu_name() -> str:
    """Return the CPU's model name (``/proc/cpuinfo``), else what ``platform`` knows."""
    import platform

    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "cpu"


def cpu_device(settings: SamplerSettings) -> dict[str, Any]:
    """Where a CPU sampler (nutpie, PyMC) ran: one chain per core at a time."""
    return {
        "platform": "cpu",
        "device_kind": cpu_name(),
        "n_devices": _cores(),
        "chains_in_parallel": min(settings.chains, _cores()),
    }


def jax_device(chains: int) -> dict[str, Any]:
    """JAX's platform and devices, and how numpyro will run ``chains`` chains on them.

    One chain per device when there are enough devices (``parallel``); on a single
    accelerator all chains in one vectorised program (``vectorized``); on too few CPU
    devices one chain after another (``sequential``).
    """
    import jax

    devices = jax.local_devices()
    platform = jax.default_backend()
    if len(devices) >= chains:
        method = "parallel"
    else:
        method = "sequential" if platform == "cpu" else "vectorized"
    kind = devices[0].device_kind if devices else "?"
    return {
        "platform": platform,
        "device_kind": cpu_name() if platform == "cpu" else kind,
        "n_devices": len(devices),
        "chain_method": method,
    }


def drop_object_stats(idata: DataTree) -> None:
    """Remove sample stats NetCDF cannot store (nutpie's per-draw message strings)."""
    stats = idata["sample_stats"].to_dataset()
    drop = [name for name, var in stats.data_vars.items() if var.dtype == object]
    if drop:
        idata["sample_stats"] = stats.drop_vars(drop)


def nutpie_sample(compiled: Any, settings: SamplerSettings, **progress: Any) -> tuple:
    """Run nutpie on a compiled model with the settings; return the draws and seconds."""
    import nutpie

    start = time.perf_counter()
    idata = nutpie.sample(
        compiled,
        draws=settings.draws,
        tune=max(settings.tune, 1),
        chains=settings.chains,
        cores=min(settings.chains, _cores()),
        seed=settings.seed,
        target_accept=settings.target_accept,
        save_warmup=False,
        **progress,
    )
    return idata, time.perf_counter() - start


def _sample_nutpie(model: pm.Model, settings: SamplerSettings, progress: bool) -> tuple:
    start = time.perf_counter()
    from pymc.backends.arviz import patch_nutpie_idata

    from bayes_qct.modeling.build import model_fingerprint
    from bayes_qct.modeling.nutpie_cache import compile_nutpie
    from bayes_qct.progress import ChainProgress, stage

    compiled, cached = compile_nutpie(model, model_fingerprint(model))
    log.info("nutpie model %s", "loaded from the compile cache" if cached else "compiled")
    compile_s = time.perf_counter() - start
    device = {**cpu_device(settings), "compile_cache_hit": cached}
    stage(
        "sampling: nutpie, %d chains x %d warm-up + %d draws",
        settings.chains,
        settings.tune,
        settings.draws,
    )
    bar = ChainProgress(settings.chains, enabled=progress)  # on stderr, not stdout
    with bar:
        idata, sampling_s = nutpie_sample(
            compiled, settings, progress_bar=False, progress_callback=bar.update
        )
    start = time.perf_counter()
    patch_nutpie_idata(idata, model, sampling_s)
    return idata, compile_s, sampling_s, time.perf_counter() - start, device


def _sample_numpyro(model: pm.Model, settings: SamplerSettings, progress: bool) -> tuple:
    """Run numpyro NUTS on PyMC's JAX graph, chains in parallel on the CPU devices.

    The same steps as ``pm.sample(nuts_sampler="numpyro")``, except that the log-density
    is jitted before the jittered initial points are checked with it (PyMC evaluates it
    op by op there, which on this model costs more than the sampling's own compilation),
    and the timings are split: compile = importing JAX/numpyro, graph to JAX, jit,
    initial points; sampling = numpyro's run (its own JIT included); convert = the
    deterministics and the DataTree.
    """
    start = time.perf_counter()
    ensure_host_devices(max(settings.chains, _cores()))
    import jax
    from arviz_base import from_dict
    from pymc.backends.arviz import (
        coords_and_dims_for_inferencedata,
        find_constants,
        find_observations,
    )
    from pymc.sampling import jax as pmjax
    from pymc.util import get_default_varnames

    from bayes_qct.modeling.polysum import register_jax

    register_jax()  # the selection model's summed-out counts
    logp_fn = jax.jit(pmjax.get_jaxified_logp(model, negative_logp=False))
    initial_points = pmjax._get_batched_jittered_initial_points(
        model=model,
        chains=settings.chains,
        initvals=None,
        random_seed=settings.seed,
        logp_fn=logp_fn,
    )
    compile_s = time.perf_counter() - start
    device = jax_device(settings.chains)
    log.info("numpyro on %s", device)
    start = time.perf_counter()
    raw, stats, _ = pmjax._sample_numpyro_nuts(
        model=model,
        target_accept=settings.target_accept,
        tune=settings.tune,
        draws=settings.draws,
        chains=settings.chains,
        chain_method=device["chain_method"],
        progressbar=progress,
        random_seed=settings.seed,
        initial_points=initial_points,
        nuts_kwargs={},
        logp_fn=logp_fn,
    )
    jax.block_until_ready(raw)
    sampling_s = time.perf_counter() - start
    start = time.perf_counter()
    names = list(get_default_varnames(model.unobserved_value_vars, include_transformed=False))
    jax_fn = pmjax.get_jaxified_graph(inputs=model.value_vars, outputs=names)
    values = pmjax._postprocess_samples(jax_fn, raw, donate_samples=True)
    coords, dims = coords_and_dims_for_inferencedata(model)
    groups = {
        "posterior": {v.name: np.asarray(r) for v, r in zip(names, values, strict=True)},
        "sample_stats": stats,
        "observed_data": find_observations(model),
        "constant_data": find_constants(model),
    }
    idata = from_dict(groups, coords=coords, dims=dims, sample_dims=["chain", "draw"])
    idata["posterior"].attrs.update(
        {"inference_library": "numpyro", "sampling_time": sampling_s, "tuning_steps": settings.tune}
    )
    return idata, compile_s, sampling_s, time.perf_counter() - start, device


def _sample_pm(model: pm.Model, settings: SamplerSettings, progress: bool) -> tuple:
    import pymc as pm

    start = time.perf_counter()
    idata = pm.sample(
        draws=settings.draws,
        tune=settings.tune,
        chains=settings.chains,
        cores=min(settings.chains, _cores()),
        random_seed=settings.seed,
        target_accept=settings.target_accept,
        progressbar=False,  # PyMC's bar prints to stdout; the stages go to stderr
        compute_convergence_checks=False,
        model=model,
        # forking a process that has loaded JAX (multithreaded) can deadlock
        mp_ctx="forkserver" if "jax" in sys.modules else None,
    )
    wall = time.perf_counter() - start
    sampling_s = float(idata["posterior"].attrs.get("sampling_time", wall))
    return idata, max(wall - sampling_s, 0.0), sampling_s, 0.0, cpu_device(settings)


def sample_model(
    model: pm.Model, settings: SamplerSettings, *, progress: bool = True
) -> tuple[DataTree, SampleTimes]:  # the default Sampler
    """Sample a built model's posterior with the chosen sampler.

    Parameters
    ----------
    model
        A model from :func:`bayes_qct.modeling.build.build_model`.
    settings
        Sampler choice (``nutpie``, ``numpyro``, ``pymc``), draws, tune, chains, seed and
        target acceptance. The same seed gives the same draws.
    progress
        Show a progress bar.

    Returns
    -------
    tuple of (DataTree, SampleTimes)
        Groups posterior, sample_stats, observed_data and constant_data; see
        :func:`bayes_qct.modeling.pointwise.add_predictive_groups` for the
        log-likelihood and posterior predictive. Where the chains ran (platform, device
        kind and count, how chains were spread) is in the attributes (:func:`sampled_on`).
    """
    if settings.sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {settings.sampler!r}; expected one of {SAMPLERS}")
    log.info("sampling with %s: %s", settings.sampler, settings)
    runner = {"nutpie": _sample_nutpie, "numpyro": _sample_numpyro, "pymc": _sample_pm}
    idata, compile_s, sampling_s, convert_s, device = runner[settings.sampler](
        model, settings, progress
    )
    drop_object_stats(idata)
    idata.attrs.update(
        {
            "sampler": settings.sampler,
            "seed": settings.seed,
            "compile_seconds": compile_s,
            "sampling_seconds": sampling_s,
            DEVICE_ATTR: json.dumps(device),
        }
    )
    return idata, SampleTimes(compile_s, sampling_s, convert_s)


def sampled_on(idata: Any) -> dict[str, Any] | None:
    """Return where a DataTree's draws were sampled (:func:`sample_model`'s record), if known."""
    text = idata.attrs.get(DEVICE_ATTR)
    return json.loads(text) if isinstance(text, str) else None


def sample_prior(model: pm.Model, *, draws: int, seed: int) -> DataTree:
    """Draw from the prior and the outcome's prior predictive (no MCMC), seeded.

    Only the parameters and ``y`` are drawn: a mechanism's observed indicator (the
    selection model's ``r``) has a log-probability but no random generator.
    """
    import pymc as pm

    names = [v.name for v in (*model.free_RVs, *model.deterministics)]
    names += [v.name for v in model.observed_RVs if v.name == "y"]
    with warnings.catch_warnings():
        # the outcome's random generator is NumPy code, run by numba in object mode: fine
        warnings.filterwarnings("ignore", "Numba will use object mode", UserWarning)
        return pm.sample_prior_predictive(
            draws=draws, model=model, var_names=names, random_seed=np.random.default_rng([seed, 2])
        )


def sampler_versions() -> dict[str, Any]:
    """Versions of the sampling stack, read from package metadata (nothing imported)."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, Any] = {"python": platform.python_version()}
    names = ("bayes-qct", "pymc", "pytensor", "arviz", "arviz-stats", "nutpie", "numpyro", "jax")
    for name in (*names, "numpy", "scipy", "pandas", "xarray", "h5netcdf"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = None
    return out
