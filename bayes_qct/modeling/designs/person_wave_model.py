"""The person x wave design's model pieces: wave, site and participant effects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from bayes_qct.constants import DIM_PARTICIPANT, DIM_SITE, DIM_WAVE, WAVES
from bayes_qct.modeling.designs.person_wave_data import DIM_FOLLOWUP, PersonWaveData
from bayes_qct.modeling.ops import Ops
from bayes_qct.modeling.priors import PriorTable, make_prior, shiftable


def participant_level(ops: Ops, values: Mapping[str, Any], data: PersonWaveData) -> Any:
    """Give each participant's mean intercept: b0 + b_qct QCT_i + u_site[s(i)] + x_i beta.

    Everything constant within a participant, baseline covariates included, so the
    centred ``w_participant`` absorbs none of it (see :func:`participant_effects`).
    """
    status = ops.col(values["b0"]) + ops.col(values["b_qct"]) * data.participant_qct
    return status + participant_offset(ops, values, data)


def participant_offset(ops: Ops, values: Mapping[str, Any], data: PersonWaveData) -> Any:
    """Give each participant's level less its status's: u_site[s(i)] + x_i beta."""
    offset = ops.take(values["u_site"], data.participant_site)
    if data.covariate_names:
        offset = offset + ops.matvec(data.participant_x, values["beta_cov"])
    return offset


CELL_ETA = "cell_eta"
PERSON_ETA = "person_eta"
STATUS_LEVEL = "status_level"
"""Keys of the built model's ``values`` holding its own split of ``eta`` (tensors, not
model variables): ``eta = person_eta[participant] + cell_eta[2 wave + QCT]``, and the
``b0`` / ``b_qct`` the intercepts are centred at (:func:`fixed_effects`: the status
levels at the mean observed wave, or b0 and b_qct themselves in plain coordinates)."""
CENTRED_PRIORS = ("b0", "b_qct", "g_wave", "d_qct_wave")
CELL_WAVE = np.repeat(np.arange(len(WAVES)), 2)
CELL_QCT = np.tile([0.0, 1.0], len(WAVES))
"""Wave and status of the linear predictor's cells, cell = 2 wave + QCT."""


def centred_waves(priors: Mapping[str, Any]) -> bool:
    """Whether the fixed effects are sampled centred (their priors are location families)."""
    return all(shiftable(priors[name]) for name in CENTRED_PRIORS)


def fixed_effects(data: PersonWaveData, priors: Mapping[str, Any]) -> dict[str, Any]:
    """b0, b_qct and the wave effects, sampled as each status's level and wave effects.

    The model is written with the voluntary group's level at t1 (``b0``), the QCT -
    voluntary difference there (``b_qct``) and changes from t1 (``g_wave``,
    ``d_qct_wave``). Sampled that way, every participant intercept (the person's level
    at t1) trades off with the wave effects: raise every intercept and lower every
    change from t1 by the same amount and only the t1 rows notice. That ridge runs
    through all N intercepts, so it lengthens as the cohort grows, and ``g_wave`` and
    ``d_qct_wave`` of one wave are correlated about -0.7 besides. At 15,700 people the
    wave effects mixed slowest of all (bulk ESS about 480 of 4,000 draws).

    So the sampler's coordinates are, as brms centres its design matrix:

    * ``g_wave_free`` (the voluntary group's changes from t1) and ``g_qct_wave_free``
      (the QCT group's: ``g_wave + d_qct_wave``);
    * ``a_voluntary`` and ``a_qct``: each status's level at its mean observed wave,
      ``a_s = level_s(t1) + sum_t c_st g_st`` with ``c_st`` wave t's share of the
      status's observed rows (``data.wave_weights``); the intercepts are centred there
      (:func:`participant_effects`), and a row's predictor is ``w_i + g_st - sum c g``.

    Each coordinate is the old one plus a function of the ones before it (``g_qct =
    g + d``; ``a = b + c . g``), a map with Jacobian 1, and each takes the old prior
    with its location moved by that function (``g_qct ~ N(g + 0, 1)`` is ``d ~ N(0,
    1)``): the same joint prior, so the same posterior. ``b0``, ``b_qct``, ``g_wave`` and
    ``d_qct_wave`` are deterministics, as the model is written. A prior that is not a
    location family (a positive prior on an effect) keeps the plain coordinates.
    """
    import pymc as pm
    import pytensor.tensor as pt

    if not centred_waves(priors):
        b0, b_qct = make_prior("b0", priors), make_prior("b_qct", priors)
        g, d = wave_effect("g_wave", priors), wave_effect("d_qct_wave", priors)
        return {
            "b0": b0,
            "b_qct": b_qct,
            "g_wave": g,
            "d_qct_wave": d,
            STATUS_LEVEL: {"b0": b0, "b_qct": b_qct},
            CELL_ETA: g[CELL_WAVE] + d[CELL_WAVE] * CELL_QCT,
        }
    c = pt.as_tensor_variable(data.wave_weights)
    g_vol = _free_wave_prior("g_wave_free", priors["g_wave"])
    g_qct = _free_wave_prior("g_qct_wave_free", priors["d_qct_wave"], shift=g_vol)
    mean_vol, mean_qct = (c[0] * g_vol).sum(), (c[1] * g_qct).sum()
    a_vol = make_prior("a_voluntary", {"a_voluntary": priors["b0"]}, shift=mean_vol)
    b0 = pm.Deterministic("b0", a_vol - mean_vol)
    a_qct = make_prior("a_qct", {"a_qct": priors["b_qct"]}, shift=b0 + mean_qct)
    zero = pt.zeros(1)
    vol, qct = pt.concatenate([zero, g_vol]), pt.concatenate([zero, g_qct])
    # cell = 2 wave + QCT: a status's change from t1 less its mean over observed waves
    # (built from the free effects, not from vol / qct: a join's gradient is a split,
    # about 3 s of numba compiling from an empty cache; see zero_sum_standard_normal)
    follow, later = np.maximum(CELL_WAVE - 1, 0), (CELL_WAVE > 0).astype(np.float64)
    cells = (
        g_vol[follow] * (later * (1.0 - CELL_QCT))
        + g_qct[follow] * (later * CELL_QCT)
        - (mean_vol * (1.0 - CELL_QCT) + mean_qct * CELL_QCT)
    )
    return {
        "b0": b0,
        "b_qct": pm.Deterministic("b_qct", a_qct - mean_qct - b0),
        "g_wave": pm.Deterministic("g_wave", vol, dims=DIM_WAVE),
        "d_qct_wave": pm.Deterministic("d_qct_wave", qct - vol, dims=DIM_WAVE),
        STATUS_LEVEL: {"b0": a_vol, "b_qct": a_qct - a_vol},
        CELL_ETA: cells,
    }


def _free_wave_prior(name: str, prior: Mapping[str, Any], shift: Any = None) -> Any:
    """Create a wave effect's free entries t2..t4, prior ``prior`` (location + ``shift``)."""
    return make_prior(name, {name: prior}, shift=shift, dims=DIM_FOLLOWUP)


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
    z = zero_sum_standard_normal("u_site_z", DIM_SITE)
    return pm.Deterministic("u_site", sigma * z, dims=DIM_SITE)


def zero_sum_standard_normal(name: str, dim: str) -> Any:
    """Create a standard normal summing to zero over ``dim``, as ``pm.ZeroSumNormal(name, 1)``.

    ``pm.ZeroSumNormal`` samples S - 1 free values and maps them into the zero-sum
    subspace with ``ZeroSumTransform.extend_axis`` (an isometry, so the free values are
    independent standard normals). The same map is written here without its
    ``concatenate``: the gradient of a join is a split, whose numba code took about 3 s
    of an empty-cache compile and was the graph's only one. Same distribution, same
    sampler coordinates (``<name>_free``: the S - 1 values). Returns the S values, not
    stored: the caller stores what it builds from them (``u_site``), so the draws keep
    one copy of the sites (S x draws each: 32 MB at 1,000 sites).
    """
    import pymc as pm
    import pytensor.tensor as pt

    size = len(pm.modelcontext(None).coords[dim])
    if size < 2:  # one site: its effect is 0
        return pt.zeros(size)
    free = pm.Normal(f"{name}_free", 0.0, 1.0, shape=(size - 1,))
    total, root = free.sum(), np.sqrt(size)
    norm = total / (root + size)
    last = (np.arange(size) == size - 1).astype(np.float64)
    spread = free[np.minimum(np.arange(size), size - 2)] * (1.0 - last)
    return spread + (norm - total / root) * last - norm


def participant_effects(values: Mapping[str, Any], data: Any, priors: PriorTable) -> dict[str, Any]:
    """Participant intercepts: centred where the participant has data, non-centred where not.

    With ``level_i`` from :func:`participant_level` (status, site and the baseline
    covariates; with centred fixed effects, each status's level at its mean observed
    wave, :func:`fixed_effects`) and ``c_i = 1`` for a participant with at least one
    observed outcome, ``c_i = 0`` for one with none (``participant_centred``)::

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

    Returns ``v_participant`` and ``person_eta`` (:data:`PERSON_ETA`): ``level_i + v_i``,
    which is ``w_i`` where centred.
    """
    import pymc as pm
    import pytensor.tensor as pt

    from bayes_qct.modeling.ops import PT

    sigma = make_prior("sigma_participant", priors)
    loc = participant_level(PT, {**values, **values[STATUS_LEVEL]}, data)
    c = data.participant_centred
    if isinstance(c, np.ndarray) and c.all():  # everyone has data: plainly centred
        w = pm.Normal("w_participant", loc, sigma, dims=DIM_PARTICIPANT)
        v = pm.Deterministic("v_participant", w - loc, dims=DIM_PARTICIPANT)
        return {"v_participant": v, PERSON_ETA: w}
    c = pt.as_tensor_variable(c).astype("float64")
    centred = pt.gt(c, 0.5)
    w = pm.Normal("w_participant", c * loc, pt.switch(centred, sigma, 1.0), dims=DIM_PARTICIPANT)
    v = pm.Deterministic(
        "v_participant", pt.switch(centred, 1.0, sigma) * (w - c * loc), dims=DIM_PARTICIPANT
    )
    return {"v_participant": v, PERSON_ETA: pt.switch(centred, w, loc + sigma * w)}
