"""The Python API scripts use: load data and specs, fit, read fits back, list them.

Every function here is re-exported by ``import bayes_qct`` (lazily: importing the
package loads no sampler). The names a script filters on are listed in
:data:`QUANTITIES` (contrasts.csv ``quantity``) and the data contract.

Examples
--------
>>> import bayes_qct  # doctest: +SKIP
>>> cohort = bayes_qct.load_cohort()  # the bundled SYNTHETIC cohort  # doctest: +SKIP
>>> overrides = {"missingness": "selection"}
>>> spec = bayes_qct.load_spec("offending", overrides=overrides)  # doctest: +SKIP
>>> result = bayes_qct.fit(cohort, spec)  # doctest: +SKIP
>>> result.contrasts.query("quantity == 'reduction_difference'")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bayes_qct.data.cohort import Cohort

if TYPE_CHECKING:
    import pandas as pd

    from bayes_qct.fitting.fitfolder import FitResult
    from bayes_qct.fitting.sweep import SweepResult
    from bayes_qct.modeling.spec import ModelSpec


def __getattr__(name: str) -> Any:
    """``QUANTITIES``: the day-count fits' estimands (contrasts.csv ``quantity``) -> meaning."""
    if name == "QUANTITIES":
        from bayes_qct.modeling.designs.person_wave_estimands import QUANTITIES

        return QUANTITIES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_cohort(
    path: str | os.PathLike | None = None, mapping: str | os.PathLike | None = None
) -> Cohort:
    """Read, validate and type a cohort file; ``None`` loads the bundled synthetic cohort.

    Parameters
    ----------
    path
        A ``.csv``, ``.parquet``, ``.sav`` or ``.dta`` file, long or wide (data contract).
        ``None`` gives the bundled reconstructed cohort, which is synthetic and says so.
    mapping
        Optional TOML column mapping (user names and labels -> the contract's).

    Raises
    ------
    BadInputError
        Listing every problem (file, row or participant, column, what was expected).
    """
    from bayes_qct.data.io import load_cohort_file

    return load_cohort_file(path, mapping=mapping)


def load_spec(
    name_or_path: str | os.PathLike, *, overrides: dict[str, Any] | None = None
) -> ModelSpec:
    """Read a model spec (an outcome name or a TOML path) with overrides merged over it.

    See :func:`bayes_qct.modeling.spec.load_spec` for the override keys; a mechanism
    parameter the chosen mechanism does not have is refused (``SpecError``).
    """
    from bayes_qct.modeling.spec import load_spec as _load_spec

    return _load_spec(name_or_path, overrides=overrides)


def fit(
    cohort: Cohort,
    spec: ModelSpec,
    *,
    out: str | os.PathLike | None = None,
    root: str | os.PathLike = "posterior",
    force: bool = False,
    prior_only: bool = False,
    progress: bool = True,
    participant_draws: bool | None = None,
) -> FitResult:
    """Fit ``spec`` to ``cohort`` and write its fit folder, or reuse what exists.

    An unchanged fit in the folder is reused as it is. A fit under ``root`` with the
    same posterior (a pattern-mixture delta beside its MAR fit) lends its draws, and
    only post-processing runs (``result.posterior_from`` names it).

    Parameters
    ----------
    cohort
        The cohort (from :func:`load_cohort`).
    spec
        Resolved model spec (:func:`load_spec`).
    out
        Fit folder; default ``<root>/<outcome>/<spec.model_label()>/``.
    root
        Root of the default folder, and where fits with the same posterior are looked for.
    force
        Overwrite an existing fit that differs, and resample instead of reusing draws.
    prior_only
        Draw from the prior predictive only and write the check into ``<folder>/prior/``.
    progress
        Show the sampler's progress bar (on stderr).
    participant_draws
        Keep every draw of the participant intercepts, pointwise log-likelihoods and
        replicates in posterior.nc (``None``: for cohorts of at most 2,000 participants;
        above, posterior.nc holds the population parameters, site effects and estimands,
        and summary.csv still summarises every intercept).

    Returns
    -------
    FitResult
        Posterior (lazily loaded when reused), summary, contrasts, diagnostics, tables;
        ``reused`` says whether an existing fit was reused.

    Raises
    ------
    RefusedOverwriteError
        When the folder holds a different fit and ``force`` is not set (exit code 4).
    """
    from bayes_qct.fitting.fitfolder import default_folder
    from bayes_qct.fitting.pipeline import run_fit, run_prior_check

    folder = (
        Path(out)
        if out is not None
        else default_folder(spec.outcome, spec.model_label(), root=root)
    )
    if prior_only:
        return run_prior_check(cohort, spec, folder=folder, force=force)
    from bayes_qct.modeling.sample import sample_model

    return run_fit(
        cohort,
        spec,
        folder=folder,
        sampler=sample_model,
        force=force,
        root=Path(root) / spec.outcome,
        progress=progress,
        participant_draws=participant_draws,
    )


def load_fit(folder: str | os.PathLike) -> FitResult:
    """Read a fit folder back (no sampler is imported); ``.spec`` is the spec that made it."""
    from bayes_qct.fitting.fitfolder import load_fit as _load_fit

    return _load_fit(folder)


def list_fits(root: str | os.PathLike = "posterior") -> pd.DataFrame:
    """Every fit folder under ``root``: outcome, model, mechanism, parameters, verdict."""
    from bayes_qct.fitting.listing import fits_table

    return fits_table(root)


def sweep(
    cohort: Cohort,
    outcome: str,
    *,
    mechanism: str,
    grids: Mapping[str, str | Sequence[float]],
    overrides: Mapping[str, Any] | None = None,
    model: str | os.PathLike | None = None,
    fit: str | os.PathLike | None = None,
    root: str | os.PathLike = "posterior",
    out: str | os.PathLike | None = None,
    force: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    prior_sensitivity: bool = True,
    reweight: bool = True,
    report: Callable[[str], None] | None = None,
) -> SweepResult:
    """Sweep a missingness mechanism's parameter(s); return the estimands and tipping points.

    Parameters
    ----------
    cohort
        The cohort (from :func:`load_cohort`).
    outcome
        ``offending`` or ``drug-use``.
    mechanism
        ``pattern-mixture`` (deltas: post-processing of the MAR posterior, no sampling),
        ``selection`` (phi) or ``shared-parameter`` (lambda): draws reweighted from the
        nearest fitted value, refitted where the Pareto k is too high.
    grids
        Parameter -> grid: ``"-2:2:17"`` (17 values from -2 to 2), ``"-1,0,1"`` or a
        sequence of numbers. One parameter, or the two per-group deltas
        (``delta_qct``, ``delta_voluntary``) for the two-way tipping-point grid.
    overrides
        Spec overrides of every fit (``likelihood``, ``draws``, ``seed``, ...).
    model
        A spec file instead of the outcome's default spec.
    fit
        A fit folder to start from (its spec; for pattern-mixture, its MAR posterior)
        instead of the default fit under ``root`` (made when absent).
    root, out, force
        Where fits live, the sweep folder, and whether to replace a sweep of other
        arguments (the overwrite rules of :func:`fit`; a rerun of the same resumes).
    workers, scheduler
        Refits on a local Dask cluster, or on an existing scheduler.
    prior_sensitivity
        Also power-scale the priors of the base posterior (``psense.csv``).
    reweight
        Reweight points of a posterior parameter from the nearest fitted value; False
        refits every point.
    report
        Called with a line per stage.

    Returns
    -------
    SweepResult
        ``.table``: one row per grid point x estimand (sensitivity.csv), ``.tipping``:
        the tipping points (tipping_points.csv), ``.psense``, ``.folder``, ``.record``.
    """
    from bayes_qct.fitting.sweep import plan_sweep, run_sweep
    from bayes_qct.modeling.sample import sample_model

    texts = {
        name: grid if isinstance(grid, str) else ",".join(f"{float(v)!r}" for v in grid)
        for name, grid in grids.items()
    }
    plan = plan_sweep(
        outcome,
        mechanism,
        texts,
        overrides=overrides,
        model=None if model is None else str(model),
        base_fit=None if fit is None else str(fit),
    )
    kwargs = {} if report is None else {"report": report}
    return run_sweep(
        cohort,
        plan,
        sampler=sample_model,
        root=root,
        out=out,
        force=force,
        workers=workers,
        scheduler=scheduler,
        prior_sensitivity=prior_sensitivity,
        reweight=reweight,
        **kwargs,
    )
