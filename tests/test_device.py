"""Where the chains ran: JAX's platform and devices, recorded in fit.json."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bayes_qct.fitting import fitfolder as ff
from bayes_qct.fitting.pipeline import run_fit
from bayes_qct.modeling.sample import DEVICE_ATTR, sampled_on
from bayes_qct.modeling.spec import load_spec
from tests.conftest_model import simulate_cohort
from tests.test_pipeline import FakeSampler


@pytest.mark.parametrize(
    ("devices", "chains", "method"), [(4, 4, "parallel"), (1, 4, "sequential")]
)
def test_numpyro_chain_method_follows_the_cpu_devices(devices, chains, method):
    code = (
        "import json; from bayes_qct.modeling.sample import ensure_host_devices, jax_device; "
        f"ensure_host_devices({devices}); print(json.dumps(jax_device({chains})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    device = json.loads(done.stdout.strip().splitlines()[-1])
    assert device["platform"] == "cpu" and device["n_devices"] == devices
    assert device["chain_method"] == method and device["device_kind"]


def test_one_accelerator_runs_the_chains_vectorised(monkeypatch):
    """On a single GPU all chains run in one vectorised program (JAX stubbed: no GPU here)."""
    code = (
        "import json, jax\n"
        "from bayes_qct.modeling import sample\n"
        "class Gpu:\n    device_kind = 'NVIDIA H100'\n"
        "jax.default_backend = lambda: 'gpu'\n"
        "jax.local_devices = lambda: [Gpu()]\n"
        "print(json.dumps(sample.jax_device(4)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    device = json.loads(done.stdout.strip().splitlines()[-1])
    assert device == {
        "platform": "gpu",
        "device_kind": "NVIDIA H100",
        "n_devices": 1,
        "chain_method": "vectorized",
    }


def test_fit_json_records_where_the_chains_ran(tmp_path):
    cohort = simulate_cohort(20, seed=5, phi=-1.0, n_sites=3)[0]
    device = {"platform": "gpu", "device_kind": "test", "n_devices": 1, "chain_method": "x"}

    class Sampler(FakeSampler):
        def __call__(self, model, settings, *, progress=True):
            tree, times = super().__call__(model, settings, progress=progress)
            tree.attrs[DEVICE_ATTR] = json.dumps(device)
            return tree, times

    folder = tmp_path / "fit"
    spec = load_spec("offending")
    result = run_fit(cohort, spec, folder=folder, sampler=Sampler(cohort), force=False)
    assert result.record.sampler["device"] == device
    assert ff.read_record(folder).sampler["device"] == device
    assert sampled_on(result.idata) == device
