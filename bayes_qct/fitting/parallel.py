"""Map a function over items: in this process, on a local Dask cluster, or on a scheduler.

Sweeps and simulation studies hand their expensive points (refits) to :func:`run_map`.
Results come back in the order of the items whatever the scheduling, so a parallel run
equals the serial one. Each local worker is one process with one thread and its own
PyTensor compile directory (PyTensor's compile cache is not safe to share between
processes compiling at once).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from typing import Any


def _worker_setup(root: str) -> Any:
    """Return a Dask worker plugin giving each worker process its own compile directory."""
    from distributed.diagnostics.plugin import WorkerPlugin

    class CompileDirectory(WorkerPlugin):
        name = "bayes-qct-compiledir"

        def setup(self, worker: Any) -> None:
            folder = os.path.join(root, str(worker.name).replace(os.sep, "_"))
            os.makedirs(folder, exist_ok=True)
            flags = os.environ.get("PYTENSOR_FLAGS", "")
            os.environ["PYTENSOR_FLAGS"] = f"{flags},compiledir={folder}".strip(",")
            os.environ["NUMBA_CACHE_DIR"] = folder
            try:  # if PyTensor is already imported in this process, point it there too
                import sys

                if "pytensor" in sys.modules:
                    sys.modules["pytensor"].config.compiledir = folder
            except Exception:
                pass

    return CompileDirectory()


def run_map(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    compile_root: str | None = None,
) -> list[Any]:
    """Return ``[fn(item) for item in items]``, computed serially or by Dask.

    Parameters
    ----------
    fn
        A picklable function of one item.
    items
        The items, in the order the results are returned.
    workers
        Start a local Dask cluster of this many one-thread worker processes.
    scheduler
        Address of an existing Dask scheduler to use instead (``tcp://host:8786``).
    compile_root
        Where local workers keep their compile directories (default: a temporary one).
    """
    items = list(items)
    if not items:
        return []
    if not workers and not scheduler:
        return [fn(item) for item in items]
    from distributed import Client, LocalCluster

    if scheduler:
        with Client(scheduler) as client:
            return client.gather(client.map(fn, items, pure=False))
    with tempfile.TemporaryDirectory(prefix="bayes-qct-dask-", dir=compile_root) as root:
        cluster = LocalCluster(
            n_workers=int(workers or 1),
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        with cluster, Client(cluster) as client:
            client.register_plugin(_worker_setup(root))
            return client.gather(client.map(fn, items, pure=False))
