"""The two ways a sweep runs: post-processing one posterior, or anchors and reweighting.

Both save each point as soon as it is evaluated and resume saved ones; the posterior
sweep also keeps each anchor's draws (a refit at a fixed value) beside the points, so a
rerun does not sample them again. Anchors are chosen the same way whatever the number of
workers (the value nearest the reference first, then, round by round, one value in each
run of failing values: see :func:`_next_anchors`), so a parallel sweep equals the serial
one.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from bayes_qct.data.cohort import Cohort
from bayes_qct.errors import BadInputError, Problem
from bayes_qct.fitting.checkpoints import CheckpointStore
from bayes_qct.fitting.fitfolder import NETCDF_ENGINE, default_folder, load_fit
from bayes_qct.fitting.parallel import run_map
from bayes_qct.fitting.pipeline import run_fit
from bayes_qct.fitting.record import command_line
from bayes_qct.fitting.stages import Sampler
from bayes_qct.fitting.sweep_plan import SweepPlan
from bayes_qct.fitting.sweep_points import (
    Anchor,
    PointResult,
    PosteriorSweep,
    ShiftSweep,
    refit,
)
from bayes_qct.modeling.build import model_data
from bayes_qct.modeling.spec import ModelSpec
from bayes_qct.outputs import atomic_write_bytes

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


@dataclass
class SweepContext:
    """Everything a sweep run needs besides its points."""

    cohort: Cohort
    plan: SweepPlan
    store: CheckpointStore
    sampler: Sampler
    root: Path
    workers: int | None = None
    scheduler: str | None = None
    report: Callable[[str], None] = log.info
    reweight: bool = True


@dataclass
class Base:
    """The posterior a sweep starts from (for its record and the prior sensitivity)."""

    spec: ModelSpec
    posterior: xr.Dataset
    log_likelihood_of: Callable[[], xr.Dataset]
    """The pointwise log-likelihood, computed when first asked (the prior sensitivity)."""
    description: dict[str, Any]
    n_observed: int
    versions: dict[str, Any] = field(default_factory=dict)
    command: list[str] = field(default_factory=command_line)
    wall_times: dict[str, float] = field(default_factory=dict)

    @functools.cached_property
    def log_likelihood(self) -> xr.Dataset:
        """The base posterior's pointwise log-likelihood."""
        return self.log_likelihood_of()


def _versions() -> dict[str, Any]:
    from bayes_qct.modeling.sample import sampler_versions

    return sampler_versions()


def _evaluate_all(
    ctx: SweepContext, points: list[dict], evaluate: Callable[[dict], PointResult]
) -> list[PointResult]:
    """Evaluate points in order, resuming saved ones and saving new ones at once."""
    results, fresh = [], 0
    for i, point in enumerate(points, start=1):
        pid = ctx.plan.point_id(point)
        if ctx.store.done(pid):
            results.append(PointResult.from_record(ctx.store.load(pid)))
            continue
        result = evaluate(point)
        ctx.store.save(pid, result.record())
        results.append(result)
        fresh += 1
        if i % 10 == 0 or i == len(points):
            ctx.report(f"  {i}/{len(points)} points")
    if fresh < len(points):
        ctx.report(f"  {len(points) - fresh} point(s) resumed from {ctx.store.folder}")
    return results


def shift_sweep(ctx: SweepContext) -> tuple[list[PointResult], Base]:
    """Post-process one posterior at every point (the mechanism's ``samples_as`` fit)."""
    plan, cohort = ctx.plan, ctx.cohort
    base_spec = plan.base_spec()
    t0 = time.perf_counter()
    if plan.base_fit is not None:
        folder = Path(plan.base_fit)
        fit = load_fit(folder)
        if fit.record.key.data_sha256 != cohort.sha256:
            raise BadInputError(
                Problem(
                    "command line",
                    f"--fit {str(folder)!r} was fitted to other data than {cohort.source}",
                    column="--fit",
                    expected="the fit's own data (--data, --mapping as for the fit)",
                )
            )
        if fit.record.key.options.get("participant_draws") is False:
            raise BadInputError(
                Problem(
                    "command line",
                    f"--fit {str(folder)!r} kept no per-participant draws, which a sweep needs",
                    column="--fit",
                    expected="a fit made with --participant-draws",
                )
            )
        ctx.report(f"base posterior: {folder}")
    else:
        folder = default_folder(plan.outcome, base_spec.model_label(), root=ctx.root)
        ctx.report(f"base posterior: {folder} ({base_spec.missingness}; fitted if absent)")
        fit = run_fit(
            cohort,
            base_spec,
            folder=folder,
            sampler=ctx.sampler,
            force=False,
            root=ctx.root / plan.outcome,
            progress=False,
            participant_draws=True,  # the sweep predicts from every intercept draw
        )
    fit_s = time.perf_counter() - t0
    diagnostics = fit.diagnostics
    verdict = "converged"
    if diagnostics is not None and not diagnostics.ok:
        verdict = "NOT CONVERGED: " + "; ".join(diagnostics.failures)
    tree = fit.idata
    posterior = tree["posterior"].to_dataset()
    engine = ShiftSweep(posterior, cohort, plan.spec_at, verdict, source=str(folder))
    t0 = time.perf_counter()
    points = plan.points()
    engine.prepare([p for p in points if not ctx.store.done(plan.point_id(p))])
    results = _evaluate_all(ctx, points, engine.evaluate)
    base = Base(
        spec=base_spec,
        posterior=posterior,
        log_likelihood_of=lambda: tree["log_likelihood"].to_dataset(),
        description={"fit_folder": str(folder), "reused": bool(fit.reused), "verdict": verdict},
        n_observed=int(model_data(cohort, base_spec).observed.sum()),
        versions=fit.record.versions,
        wall_times={"base_fit_s": fit_s, "points_s": time.perf_counter() - t0},
    )
    return results, base


# ------------------------------------------------------------------ posterior sweeps


def _anchor_id(name: str, value: float) -> str:
    return f"anchor-{name}={value:g}"


def _save_anchor(ctx: SweepContext, name: str, anchor: Anchor) -> None:
    base = ctx.store.path(_anchor_id(name, anchor.value))
    data = anchor.posterior.to_netcdf(engine=NETCDF_ENGINE)
    atomic_write_bytes(base.with_suffix(".nc"), bytes(data), force=True)
    meta = {"value": anchor.value, "verdict": anchor.verdict}
    atomic_write_bytes(base.with_suffix(".anchor"), json.dumps(meta).encode(), force=True)


def _load_anchors(ctx: SweepContext, name: str) -> dict[float, Anchor]:
    out = {}
    for meta_path in sorted(ctx.store.path("x").parent.glob(f"anchor-{name}=*.anchor")):
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        data = xr.load_dataset(meta_path.with_suffix(".nc"), engine=NETCDF_ENGINE)
        out[float(meta["value"])] = Anchor(float(meta["value"]), data, meta["verdict"])
    return out


def _nearest(anchors: dict[float, Anchor], value: float) -> Anchor:
    return anchors[min(anchors, key=lambda a: (abs(a - value), a))]


def _reach(done: dict[float, PointResult], grid: tuple[float, ...], name: str) -> tuple[int, int]:
    """Return the most grid steps reweighting has reached below and above an anchor (>= 1).

    The two differ: moving phi one way changes the weights faster than the other.
    """
    down, up = [1], [1]
    for value, result in done.items():
        if result.method != "reweighted" or not result.source.startswith(f"{name}="):
            continue
        anchor = float(result.source.split("=", 1)[1])
        if anchor in grid and value in grid:
            steps = grid.index(value) - grid.index(anchor)
            (up if steps > 0 else down).append(abs(steps))
    return max(down), max(up)


def _next_anchors(
    failing: list[float], grid: tuple[float, ...], reach: tuple[int, int] = (1, 1)
) -> list[float]:
    """One new anchor in each run of consecutive failing grid values.

    Reweighting reaches ``reach`` = (below, above) grid steps or so from an anchor (the
    most seen so far), so in a run next to an evaluated value the anchor goes as far in
    as it can while still reaching back to the run's end at that side; in a run between
    two evaluated values, to its middle. A reach that does not hold at the new anchor
    costs one more round, never a point: every point's own k decides.
    """
    runs: list[list[float]] = []
    for value in grid:
        if value in failing:
            if runs and grid.index(value) == grid.index(runs[-1][-1]) + 1:
                runs[-1].append(value)
            else:
                runs.append([value])
    below, above = reach
    chosen = []
    for run in runs:
        left = grid.index(run[0]) > 0  # an evaluated value below the run
        right = grid.index(run[-1]) < len(grid) - 1  # and above it
        if left and not right:  # the anchor reaches down to the run's first value
            chosen.append(run[min(below, len(run) - 1)])
        elif right and not left:  # the anchor reaches up to the run's last value
            chosen.append(run[max(len(run) - 1 - above, 0)])
        else:
            chosen.append(run[len(run) // 2])
    return chosen


def _fit_anchors(ctx: SweepContext, name: str, values: list[float]) -> dict[float, Anchor]:
    if not values:
        return {}
    ctx.report(f"  refitting at {name} = {', '.join(f'{v:g}' for v in values)}")
    tasks = [(ctx.cohort, ctx.plan.spec_at({name: v}), name, v) for v in values]
    outs = run_map(refit, tasks, workers=ctx.workers, scheduler=ctx.scheduler)
    fitted = {}
    for value, out in zip(values, outs, strict=True):
        anchor = Anchor(value, out["posterior"], out["verdict"])
        _save_anchor(ctx, name, anchor)
        fitted[value] = anchor
    return fitted


def posterior_sweep(ctx: SweepContext) -> tuple[list[PointResult], Base]:
    """Reweight from the nearest anchor; refit where the Pareto k is too high."""
    plan, cohort = ctx.plan, ctx.cohort
    name, grid = plan.axes[0]
    reference = plan.references()[name]
    engine = PosteriorSweep(cohort, plan.spec_at, name, reweight=ctx.reweight)
    anchors = _load_anchors(ctx, name)
    done = {
        v: PointResult.from_record(ctx.store.load(plan.point_id({name: v})))
        for v in grid
        if ctx.store.done(plan.point_id({name: v}))
    }
    pending = [v for v in grid if v not in done]
    t0 = time.perf_counter()
    first = min(grid, key=lambda v: (abs(v - reference), v))
    to_fit = [] if anchors else ([first] if ctx.reweight else list(pending))
    while pending:
        anchors |= _fit_anchors(ctx, name, [v for v in to_fit if v not in anchors])
        failing = []
        by_anchor: dict[float, list[float]] = {}  # the engine keeps one anchor's grids at a time
        for value in pending:
            by_anchor.setdefault(_nearest(anchors, value).value, []).append(value)
        for key, values in sorted(by_anchor.items()):
            for value, result in zip(
                values, engine.evaluate_many(values, anchors[key]), strict=True
            ):
                if result is None:
                    failing.append(value)
                    continue
                ctx.store.save(plan.point_id({name: value}), result.record())
                done[value] = result
        failing.sort()
        ctx.report(f"  {len(done)}/{len(grid)} points; {len(failing)} need a refit")
        pending = failing
        to_fit = (
            _next_anchors(failing, grid, _reach(done, grid, name))
            if ctx.reweight
            else list(failing)
        )
    base_anchor = _nearest(anchors, reference) if anchors else None
    if base_anchor is None:  # every point was resumed: reload the anchors' draws
        anchors = _load_anchors(ctx, name)
        base_anchor = _nearest(anchors, reference)
    from bayes_qct.modeling.pointwise import log_likelihood_dataset

    spec = plan.spec_at({name: base_anchor.value})
    base = Base(
        spec=spec,
        posterior=base_anchor.posterior,
        log_likelihood_of=lambda: log_likelihood_dataset(base_anchor.posterior, cohort, spec),
        description={
            "anchors": sorted(anchors),
            "reference_anchor": base_anchor.value,
            "verdicts": {f"{v:g}": a.verdict for v, a in sorted(anchors.items())},
        },
        n_observed=int(model_data(cohort, spec).observed.sum()),
        versions=_versions(),
        wall_times={"points_s": time.perf_counter() - t0},
    )
    return [done[v] for v in grid], base


def psense_of(base: Base, cohort: Cohort) -> pd.DataFrame:
    """Power-scaling prior sensitivity of the base posterior."""
    from bayes_qct.estimands.prior_sensitivity import prior_sensitivity

    return prior_sensitivity(base.posterior, base.log_likelihood, base.spec.priors)
