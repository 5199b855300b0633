"""Sensitivity sweeps: the fit's estimands over a grid of a mechanism's parameters.

:func:`plan_sweep` checks the grid against the mechanism's declared parameters;
:func:`run_sweep` evaluates every point (:mod:`bayes_qct.fitting.sweep_points`: no
sampling for post-processing parameters; reweighting from the nearest fitted value, or a
compile-once refit, for posterior ones), saves each as it completes (a rerun with the
same arguments resumes; with others it is refused), then writes ``sensitivity.csv``,
``tipping_points.csv``, ``psense.csv`` and ``sweep.json`` (data contract, section 7).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bayes_qct.constants import TOOLKIT_VERSION
from bayes_qct.data.cohort import Cohort
from bayes_qct.estimands.sensitivity import tipping_points
from bayes_qct.fitting import sweep_runs
from bayes_qct.fitting.checkpoints import CheckpointStore
from bayes_qct.fitting.fitfolder import to_json
from bayes_qct.fitting.record import data_provenance, now_utc
from bayes_qct.fitting.stages import Sampler
from bayes_qct.fitting.sweep_plan import SweepPlan, plan_sweep
from bayes_qct.modeling.missingness import POSTERIOR
from bayes_qct.outputs import atomic_write_csv, atomic_write_text

log = logging.getLogger(__name__)

SWEEP_FILE = "sweep.json"
TABLE_FILE = "sensitivity.csv"
TIPPING_FILE = "tipping_points.csv"
PSENSE_FILE = "psense.csv"
POINT_COLUMNS = ("method", "pareto_k", "ess", "verdict", "source")


@dataclass
class SweepResult:
    """A finished sweep: its table, its tipping points and where it was written."""

    folder: Path
    plan: SweepPlan
    table: pd.DataFrame
    tipping: pd.DataFrame
    psense: pd.DataFrame | None
    record: dict[str, Any]

    @property
    def heading(self) -> str:
        """Which data, model and mechanism produced the numbers."""
        return (
            f"{self.plan.outcome} | data: {self.record['data']['label']} | model: "
            f"{self.record['model']} ({self.record['likelihood']}) | missingness: "
            f"{self.plan.mechanism}, swept over {', '.join(self.plan.parameters)}"
        )


def default_sweep_folder(plan: SweepPlan, root: str | Path = "posterior") -> Path:
    """``posterior/<outcome>/sensitivity/<mechanism>-<parameters>/``."""
    return Path(root) / plan.outcome / "sensitivity" / plan.label


def _table(plan: SweepPlan, results: list[Any]) -> pd.DataFrame:
    frames = []
    for result in results:
        rows = result.contrasts.copy()
        lead = ["outcome", "model", "missingness"]
        front = rows[lead].copy()
        front.insert(3, "point", plan.point_id(result.point))
        for name in plan.parameters:
            front[name] = result.point[name]
        rest = rows.drop(columns=lead)
        extra = pd.DataFrame(
            {c: [getattr(result, c)] * len(rows) for c in POINT_COLUMNS}, index=rows.index
        )
        frames.append(pd.concat([front, rest, extra], axis=1))
    return pd.concat(frames, ignore_index=True)


def run_sweep(
    cohort: Cohort,
    plan: SweepPlan,
    *,
    sampler: Sampler,
    root: str | Path = "posterior",
    out: str | Path | None = None,
    force: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    prior_sensitivity: bool = True,
    reweight: bool = True,
    report: Callable[[str], None] = log.info,
) -> SweepResult:
    """Evaluate every grid point (resuming saved ones) and write the sweep folder.

    Parameters
    ----------
    cohort
        The cohort.
    plan
        From :func:`plan_sweep`.
    sampler
        Samples the base fit when none exists (``bayes_qct.modeling.sample.sample_model``).
    root
        Root of the fit folders (the base fit is looked for and made there).
    out
        The sweep folder (default :func:`default_sweep_folder`).
    force
        Replace a sweep folder of other arguments instead of refusing.
    workers, scheduler
        Refits on a local Dask cluster of ``workers`` processes, or on an existing
        scheduler; results equal the serial run's.
    prior_sensitivity
        Also write ``psense.csv`` (power-scaling of the base posterior).
    reweight
        Reweight a posterior parameter's points from the nearest fitted value (False:
        refit every point).
    report
        Called with a line per stage.
    """
    start = time.perf_counter()
    folder = Path(out) if out is not None else default_sweep_folder(plan, root)
    store = CheckpointStore(folder, plan.key(cohort), force=force)
    context = sweep_runs.SweepContext(
        cohort=cohort,
        plan=plan,
        store=store,
        sampler=sampler,
        root=Path(root),
        workers=workers,
        scheduler=scheduler,
        report=report,
        reweight=reweight,
    )
    if plan.affects == POSTERIOR:
        results, base = sweep_runs.posterior_sweep(context)
    else:
        results, base = sweep_runs.shift_sweep(context)
    table = _table(plan, results)
    tipping = tipping_points(table, plan.parameters, plan.references())
    psense = None
    if prior_sensitivity:
        report("prior sensitivity (power-scaling) of the base posterior")
        psense = sweep_runs.psense_of(base, cohort)
    base_spec = base.spec
    record = {
        "created_at": now_utc(),
        "toolkit": {"name": "bayes-qct", "version": TOOLKIT_VERSION},
        "outcome": plan.outcome,
        "model": base_spec.model_label(),
        "likelihood": base_spec.likelihood,
        "mechanism": plan.mechanism,
        "parameters": {name: list(values) for name, values in plan.axes},
        "references": plan.references(),
        "key": store.key,
        "data": data_provenance(cohort, int(base.n_observed)),
        "spec": base_spec.to_dict(),
        "base": base.description,
        "methods": table.drop_duplicates("point")["method"].value_counts().to_dict(),
        "points": len(results),
        "versions": base.versions,
        "command": base.command,
        "wall_times": {**base.wall_times, "sweep_total_s": time.perf_counter() - start},
    }
    atomic_write_csv(folder / TABLE_FILE, table, force=True)
    atomic_write_csv(folder / TIPPING_FILE, tipping, force=True)
    if psense is not None:
        atomic_write_csv(folder / PSENSE_FILE, psense, force=True)
    atomic_write_text(folder / SWEEP_FILE, to_json(record), force=True)
    return SweepResult(folder, plan, table, tipping, psense, record)


__all__ = ["SweepPlan", "SweepResult", "default_sweep_folder", "plan_sweep", "run_sweep"]
