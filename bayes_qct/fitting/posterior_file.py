"""What ``posterior.nc`` shows a reviewer: named, described parameters and no internals.

After sampling, :func:`for_reviewers` rearranges the DataTree so that ArviZ's summaries
and plots, opened on the file, show the model as it is written:

* the sampler's internal coordinates of a parameter also stored in its natural form
  (``u_site_z`` beside ``u_site``, ``w_participant`` beside ``v_participant``, the free
  entries of a wave effect) move to a ``sampler_internals`` group;
* a parameter with entries fixed by definition keeps only its free entries (the
  design's :meth:`~bayes_qct.modeling.designs.base.Design.file_form`: no constant
  variable with an undefined r_hat), its attributes saying so;
* every variable carries ``long_name``, ``scale`` and ``units`` attributes;
* observed rows (``obs``, ``dropout_row``) carry each row's participant, site, legal status
  and wave as coordinates.

The estimands group uses the names of ``contrasts.csv``'s ``quantity`` column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from bayes_qct.data.cohort import Cohort
from bayes_qct.modeling.build import prepared_data
from bayes_qct.modeling.designs import get_design
from bayes_qct.modeling.designs.base import DIM_DROPOUT, DIM_OBS
from bayes_qct.modeling.spec import ModelSpec

INTERNALS_GROUP = "sampler_internals"
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
    idata["posterior"] = xr.DataTree(posterior, name="posterior")
    _label_rows(idata, cohort, spec)
    return idata


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
            ds = ds.assign_coords(
                {name: (dim, np.asarray(labels)[rows]) for name, labels in data.row_labels.items()}
            )
        if group == "log_likelihood":
            for name in ds.data_vars:
                ds[name].attrs.update(LOGLIK_ATTRS.get(name, {}))
        idata[group] = xr.DataTree(ds, name=group)
