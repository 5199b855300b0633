"""What ``posterior.nc`` shows a reviewer: named, described parameters and no internals.

After sampling, :func:`for_reviewers` rearranges the DataTree so that ArviZ's summaries
and plots, opened on the file, show the model as it is written:

* the sampler's internal coordinates of a parameter also stored in its natural form
  (the free values ``u_site_z_free`` of the zero-sum ``u_site / sigma_site`` beside ``u_site``,
  ``w_participant`` beside ``v_participant``, the free entries of a wave effect) move to
  a ``sampler_internals`` group;
* a parameter with entries fixed by definition keeps only its free entries (the
  design's :meth:`~bayes_qct.modeling.designs.base.Design.file_form`: no constant
  variable with an undefined r_hat), its attributes saying so;
* every variable carries ``long_name``, ``scale`` and ``units`` attributes;
* observed and replicated counts are stored as integers (ArviZ's count plots need it);
* observed rows carry each row's participant, site, legal status and wave as coordinates
  (``participant_id``... on ``obs``; ``dropout_row_participant_id``... on ``dropout_row``);
* the response indicator ``r`` of a dropout model is data the model conditions on, not an
  outcome with replicates: it is stored in ``constant_data``, so ArviZ's predictive checks
  of ``observed_data`` see the outcome only.

The estimands group uses the names of ``contrasts.csv``'s ``quantity`` column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from bayes_qct.constants import DIM_PARTICIPANT
from bayes_qct.data.cohort import Cohort
from bayes_qct.modeling.build import prepared_data
from bayes_qct.modeling.designs import get_design
from bayes_qct.modeling.designs.base import DIM_DROPOUT, DIM_OBS, DIM_ROW
from bayes_qct.modeling.spec import ModelSpec

INTERNALS_GROUP = "sampler_internals"
PER_UNIT_DIMS = frozenset({DIM_PARTICIPANT, DIM_OBS, DIM_DROPOUT, DIM_ROW})
"""Dims whose length grows with the cohort: a variable with one is a per-participant draw."""
ROW_GROUPS = ("observed_data", "posterior_predictive", "log_likelihood", "constant_data")
LOGLIK_ATTRS = {
    "y": {"long_name": "pointwise log-likelihood of the observed outcome", "units": "log"},
    "r": {
        "long_name": "pointwise log-likelihood of being observed (response model)",
        "units": "log",
    },
}


def for_reviewers(idata: Any, cohort: Cohort, spec: ModelSpec) -> Any:
    """Rearrange a fit's DataTree for the file (see the module docstring); returns it."""
    design = get_design(spec.design)
    posterior = idata["posterior"].to_dataset()
    internals = [
        name
        for name, natural in design.internal_variables().items()
        if name in posterior and natural in posterior
    ]
    if internals:
        idata[INTERNALS_GROUP] = xr.DataTree(posterior[internals])
    posterior = design.file_form(posterior.drop_vars(internals))
    attrs = design.variable_attrs()
    for name in posterior.data_vars:
        posterior[name].attrs.update(attrs.get(name, {}))
        if posterior[name].attrs.get("scale") == "logit":
            posterior[name].attrs.setdefault("units", "log-odds")
    idata["posterior"] = xr.DataTree(posterior, name="posterior")
    _move_indicator(idata)
    _label_rows(idata, cohort, spec)
    return idata


def drop_participant_draws(idata: Any) -> list[str]:
    """Remove every variable with a participant or row dim; return their names.

    For a fit that keeps no per-participant draws: the posterior and sampler internals
    keep the population parameters and site effects only (the intercepts stay summarised
    in summary.csv), and the posterior's attributes say what was left out.
    """
    dropped = []
    for group in ("posterior", INTERNALS_GROUP, "log_likelihood", "posterior_predictive"):
        if group not in idata.children:
            continue
        ds = idata[group].to_dataset()
        names = [n for n, v in ds.data_vars.items() if PER_UNIT_DIMS & set(v.dims)]
        dropped += [f"{group}/{n}" for n in names]
        if len(names) == len(ds.data_vars) and group != "posterior":
            del idata[group]
        elif names:
            idata[group] = xr.DataTree(ds.drop_vars(names), name=group)
    if dropped:
        idata["posterior"].attrs["participant_draws"] = (
            "not written (ask with --participant-draws): " + ", ".join(dropped)
        )
    return dropped


def _move_indicator(idata: Any) -> None:
    """Move observed variables without replicates (``r``) to ``constant_data``."""
    if "observed_data" not in idata.children:
        return
    observed = idata["observed_data"].to_dataset()
    replicated = (
        set(idata["posterior_predictive"].to_dataset().data_vars)
        if "posterior_predictive" in idata.children
        else set()
    )
    extra = [name for name in observed.data_vars if name not in replicated]
    if not extra or not replicated:
        return
    constant = (
        idata["constant_data"].to_dataset() if "constant_data" in idata.children else xr.Dataset()
    )
    idata["constant_data"] = xr.DataTree(constant.merge(observed[extra]), name="constant_data")
    idata["observed_data"] = xr.DataTree(observed.drop_vars(extra), name="observed_data")


def _label_rows(idata: Any, cohort: Cohort, spec: ModelSpec) -> None:
    """Give observed rows (and dropout rows) their participant, site, status and wave."""
    _, data = prepared_data(cohort, spec)
    for group in ROW_GROUPS:
        if group not in idata.children:
            continue
        ds = idata[group].to_dataset()
        for dim in (DIM_OBS, DIM_DROPOUT):
            if dim not in ds.dims:
                continue
            rows = np.asarray(ds[dim].to_numpy(), dtype=np.int64)
            prefix = "" if dim == DIM_OBS else f"{dim}_"  # one coordinate name per dim
            ds = ds.assign_coords(
                {
                    f"{prefix}{name}": (dim, np.asarray(labels)[rows])
                    for name, labels in data.row_labels.items()
                }
            )
        if group == "log_likelihood":
            for name in ds.data_vars:
                ds[name].attrs.update(LOGLIK_ATTRS.get(name, {}))
        elif group in ("observed_data", "posterior_predictive"):
            for name in ds.data_vars:  # counts are whole numbers: ArviZ treats them as discrete
                values = ds[name].to_numpy()
                if np.issubdtype(values.dtype, np.floating) and np.all(values == np.round(values)):
                    ds[name] = ds[name].astype(np.int64)
        idata[group] = xr.DataTree(ds, name=group)
