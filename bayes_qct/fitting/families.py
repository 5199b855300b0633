"""Fit each likelihood family, rank them, and say which fits passed their checks.

``bayes-qct compare OUTCOME`` runs :func:`run_comparison`: each family is fitted under
MAR through :func:`bayes_qct.fitting.pipeline.run_fit` (an unchanged fit is reused),
scored by leave-one-participant-out elpd (:mod:`bayes_qct.estimands.compare`), and ranked;
a family whose fit failed the convergence checks keeps its rank but is flagged, and
K-fold refits are checkpointed so a rerun reuses them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import xarray as xr

from bayes_qct.data.cohort import Cohort
from bayes_qct.estimands.compare import ComparisonResult, compare_families
from bayes_qct.fitting.checkpoints import CheckpointStore
from bayes_qct.fitting.fitfolder import NETCDF_ENGINE, default_folder
from bayes_qct.fitting.pipeline import run_fit
from bayes_qct.fitting.stages import Sampler
from bayes_qct.modeling.build import build_model
from bayes_qct.modeling.spec import ModelSpec, load_spec
from bayes_qct.outputs import atomic_write_bytes, atomic_write_csv

log = logging.getLogger(__name__)
Report = Callable[[str], None]


def _quiet(message: str) -> None:
    log.info(message)


def kfold_refitter(
    sampler: Sampler, report: Report, *, folder: Path | None = None
) -> Callable[[Cohort, ModelSpec], xr.Dataset]:
    """Return a K-fold refit function that samples without writing a fit folder.

    With ``folder``, each fold's posterior is kept there (keyed by the data, the spec and
    the fold's held-out participants), so a rerun of the comparison reuses the refits.
    """
    counter = {"n": 0}

    def refit(cohort: Cohort, spec: ModelSpec) -> xr.Dataset:
        counter["n"] += 1
        column = cohort.outcome_column(spec.outcome)
        seen = cohort.data.groupby("participant_id")[column].apply(lambda s: s.notna().any())
        held = ",".join(sorted(map(str, seen.index[~seen])))
        point = hashlib.sha256(held.encode()).hexdigest()[:16]
        store = None
        if folder is not None:
            key = {"data_sha256": cohort.sha256, "spec": spec.fingerprint()}
            store = CheckpointStore(folder / spec.likelihood, key, force=True)
            cached = store.path(point).with_suffix(".nc")
            if cached.is_file():
                report(f"  K-fold refit {counter['n']} of {spec.likelihood}: reused")
                return xr.load_dataset(cached, engine=NETCDF_ENGINE)
        report(f"  K-fold refit {counter['n']} of {spec.likelihood}")
        idata, _times = sampler(build_model(cohort, spec), spec.sampler, progress=False)
        posterior = idata["posterior"].to_dataset()
        if store is not None:
            data = posterior.to_netcdf(engine=NETCDF_ENGINE)
            atomic_write_bytes(store.path(point).with_suffix(".nc"), bytes(data), force=True)
        return posterior

    return refit


def run_comparison(
    cohort: Cohort,
    outcome: str,
    families: list[str],
    *,
    sampler: Sampler,
    model: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    kfold: int | None = 10,
    out: str | Path | None = None,
    force: bool = False,
    root: str | Path = "posterior",
    report: Report = _quiet,
) -> tuple[ComparisonResult, Path]:
    """Fit each family under MAR (reusing unchanged fit folders), rank, write the CSV.

    The table gains, per family, its fit folder and convergence verdict (``verdict``:
    ``converged`` or ``NOT CONVERGED: ...``), so a ranking never hides a failed fit.
    """
    specs, posteriors, verdicts, folders = [], [], [], []
    for index, family in enumerate(families, start=1):
        spec = load_spec(
            model or outcome,
            overrides={**(overrides or {}), "likelihood": family, "missingness": "mar"},
        )
        folder = default_folder(outcome, spec.model_label(), root=root)
        report(f"[{index}/{len(families)}] fitting {family} into {folder}")
        result = run_fit(
            cohort,
            spec,
            folder=folder,
            sampler=sampler,
            force=force,
            root=Path(root) / outcome,
            progress=False,
        )
        if result.reused:
            report(f"  reused the unchanged fit in {folder}")
        diagnostics = result.diagnostics
        verdict = "converged" if diagnostics is None or diagnostics.ok else "NOT CONVERGED: "
        if diagnostics is not None and not diagnostics.ok:
            verdict += "; ".join(diagnostics.failures)
        specs.append(spec)
        posteriors.append(result.idata["posterior"].to_dataset())
        verdicts.append(verdict)
        folders.append(str(folder))
    report("scoring leave-one-participant-out elpd")
    comparison = compare_families(
        cohort,
        specs,
        posteriors,
        kfold=kfold,
        seed=specs[0].sampler.seed,
        fit_fn=kfold_refitter(sampler, report, folder=Path(root) / outcome / "compare")
        if kfold
        else None,
    )
    by_family = dict(zip(families, zip(verdicts, folders, strict=True), strict=True))
    table = comparison.table.assign(
        verdict=[by_family[f][0] for f in comparison.table["family"]],
        folder=[by_family[f][1] for f in comparison.table["family"]],
        outcome=outcome,
        data=cohort.label,
    )
    failed = [f for f, (v, _) in by_family.items() if v != "converged"]
    notes = list(comparison.notes)
    if failed:
        notes.insert(
            0,
            f"NOT CONVERGED: {', '.join(failed)}; their elpd is not to be trusted until the "
            "sampler problems are fixed (see each fit folder's fit.json).",
        )
    comparison = replace(comparison, table=table, notes=tuple(notes))
    path = Path(out) if out is not None else Path(root) / outcome / "compare.csv"
    text = table.to_csv(index=False, lineterminator="\n")
    if path.exists() and not force and path.read_text() == text:
        return comparison, path
    atomic_write_csv(path, table, force=force)  # a different ranking needs --force
    return comparison, path


__all__ = ["run_comparison"]
