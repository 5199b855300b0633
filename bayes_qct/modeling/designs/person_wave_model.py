"""The person x wave design's model pieces: wave, site and participant effects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bayes_qct.constants import DIM_PARTICIPANT, DIM_SITE, DIM_WAVE
from bayes_qct.modeling.designs.person_wave_data import DIM_FOLLOWUP, PersonWaveData
from bayes_qct.modeling.ops import Ops
from bayes_qct.modeling.priors import PriorTable, make_prior


def participant_level(ops: Ops, values: Mapping[str, Any], data: PersonWaveData) -> Any:
    """Give each participant's mean intercept: b0 + b_qct QCT_i + u_site[s(i)] + x_i beta.

    Everything constant within a participant, baseline covariates included, so the
    centred ``w_participant`` absorbs none of it (see :func:`participant_effects`).
    """
    loc = (
        ops.col(values["b0"])
        + ops.col(values["b_qct"]) * data.participant_qct
        + ops.take(values["u_site"], data.participant_site)
    )
    if data.covariate_names:
        loc = loc + ops.matvec(data.participant_x, values["beta_cov"])
    return loc


def wave_effect(name: str, priors: Mapping[str, Any]) -> Any:
    """Create a wave effect with t1 fixed at 0: free entries for t2..t4, named ``<name>_free``."""
    import pymc as pm
    import pytensor.tensor as pt

    free = make_prior(f"{name}_free", {f"{name}_free": priors[name]}, dims=DIM_FOLLOWUP)
    return pm.Deterministic(name, pt.concatenate([pt.zeros(1), free]), dims=DIM_WAVE)


def site_effect_values(priors: Mapping[str, Any]) -> Any:
    """Non-centred, sum-to-zero site intercepts ``u_site = sigma_site * u_site_z``.

    The zero-sum constraint takes the overall level out of the 10 site effects (it is
    ``b0``'s), which removes the b0 / site-mean ridge; each ``u_site`` then has marginal
    SD ``sigma_site * sqrt((S - 1) / S)``.
    """
    import pymc as pm

    sigma = make_prior("sigma_site", priors)
    z = pm.ZeroSumNormal("u_site_z", sigma=1.0, dims=DIM_SITE)
    return pm.Deterministic("u_site", sigma * z, dims=DIM_SITE)


def participant_effects(values: Mapping[str, Any], data: Any, priors: PriorTable) -> Any:
    """Participant intercepts: centred where the participant has data, non-centred where not.

    With ``level_i`` from :func:`participant_level` (status, site and the baseline
    covariates) and ``c_i = 1`` for a participant with at least one observed outcome,
    ``c_i = 0`` for one with none (``participant_centred``)::

        w_participant_i ~ N(c_i level_i, sigma_participant ** c_i)
        v_participant_i = sigma_participant ** (1 - c_i) (w_participant_i - c_i level_i)

    so ``v_i ~ N(0, sigma_participant)`` either way. With four waves of up to 30
    trials each the data pin a person's level down well, the regime where centring
    samples better than ``v = sigma * z`` (it raised the bulk ESS of
    sigma_participant, sigma_site and b0 three- to fourfold). A participant with no
    observed outcome (everyone set aside by the complete-case handling) is pinned by
    nothing: centred, those intercepts formed a funnel with the site effects, so
    they are non-centred. A baseline covariate must sit in ``level_i``: left only in
    ``eta``, its coefficient and the centred intercepts traded off.
    """
    import pymc as pm
    import pytensor.tensor as pt

    from bayes_qct.modeling.ops import PT

    sigma = make_prior("sigma_participant", priors)
    loc = participant_level(PT, values, data)
    c = data.participant_centred
    if isinstance(c, np.ndarray) and c.all():  # everyone has data: plainly centred
        w = pm.Normal("w_participant", loc, sigma, dims=DIM_PARTICIPANT)
        return pm.Deterministic("v_participant", w - loc, dims=DIM_PARTICIPANT)
    c = pt.as_tensor_variable(c).astype("float64")
    scale = pt.switch(pt.gt(c, 0.5), sigma, 1.0)
    w = pm.Normal("w_participant", c * loc, scale, dims=DIM_PARTICIPANT)
    unscale = pt.switch(pt.gt(c, 0.5), 1.0, sigma)
    return pm.Deterministic("v_participant", unscale * (w - c * loc), dims=DIM_PARTICIPANT)
